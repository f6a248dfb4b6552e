"""Planning endpoints over HTTP semantics (ASGI) on a real store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from chargenet.app.planning import pack_events
from chargenet.bootstrap import Platform
from chargenet.core.access import Principal, Role
from chargenet.entrypoints.web import create_app
from tests.app.test_planning import NOW, pack_text, world


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    platform.ingestor.ingest(world())
    platform.ingestor.ingest(pack_events(pack_text(), NOW))
    app = create_app(platform, api_tokens=["secret"], authenticators=[OperatorHeader()])
    with TestClient(app) as test_client:
        yield test_client


ADMIN = {"Authorization": "Bearer secret"}


class OperatorHeader:
    """A second way in (as a dashboard session would be): an operator, not a regulator."""

    def principal(self, request: Request) -> Principal | None:
        if request.headers.get("x-test-operator"):
            return Principal(name="op", role=Role.OPERATOR, operator_id="OP1")
        return None


def test_plan_vs_actual_is_public(client: TestClient) -> None:
    rows = client.get(
        "/api/v1/planning/targets", params={"area": "140902", "year": 2025, "as_of": "2025-06-30"}
    ).json()
    new = next(r for r in rows if r["metric"] == "new_public_piles")
    assert new["target"] == 10 and new["actual"] == 4 and new["status"] == "behind"
    assert new["forecast"]["method"] == "run_rate" and new["as_of"] == "2025-06-30"
    ratio = next(r for r in rows if r["metric"] == "evs_per_public_pile")
    assert ratio["kind"] == "ratio" and ratio["numerator"] == 40 and ratio["denominator"] == 4
    months = client.get(
        "/api/v1/planning/targets/140902|new_public_piles|2025/months",
        params={"as_of": "2025-06-30"},
    ).json()
    assert [m["new"] for m in months] == [0, 0, 2, 0, 0, 2]
    revisions = client.get("/api/v1/planning/targets/140902|new_public_piles|2025/revisions").json()
    assert [r["value"] for r in revisions] == [10]
    assert client.get("/api/v1/planning/targets", params={"area": "999999"}).status_code == 404


def test_packs_coverage_and_gaps(client: TestClient) -> None:
    [pack] = client.get("/api/v1/planning/packs").json()
    assert pack["id"] == "test-xinzhou" and [r["id"] for r in pack["rules"]] == [
        "village_distance",
        "township_presence",
    ]
    assert "[pack]" in client.get("/api/v1/planning/packs/test-xinzhou").json()["text"]
    body = client.get(
        "/api/v1/planning/coverage", params={"area": "140900", "year": 2025, "detour": 1.0}
    ).json()
    village = next(r for r in body["rules"] if r["rule_id"] == "village_distance")
    assert village["status"] == "unmet" and village["shortfall_count"] == 1
    assert village["shortfalls"][0]["id"] == "140902100201"
    assert body["distance"] == "straight line × detour factor 1.0"
    gaps = client.get("/api/v1/planning/gaps", params={"area": "140900", "year": 2025}).json()[
        "gaps"
    ]
    assert {g["rule_id"] for g in gaps} == {"village_distance", "township_presence"}


def test_siting_and_the_monthly_report_are_for_regulators(client: TestClient) -> None:
    params = {"area": "140900", "month": "2025-06"}
    assert client.get("/api/v1/planning/progress", params=params).status_code == 401
    denied = client.get(
        "/api/v1/planning/progress", params=params, headers={"X-Test-Operator": "1"}
    )
    assert denied.status_code == 403
    report = client.get("/api/v1/planning/progress", params=params, headers=ADMIN).json()
    assert report["month"] == "2025-06" and report["due"] == "2025-07-03"
    assert {u["area_code"] for u in report["units"]} == {"140902", "140981"}
    assert (
        client.get(
            "/api/v1/planning/progress", params={**params, "month": "2025-13"}, headers=ADMIN
        ).status_code
        == 422
    )
    assert (
        client.get("/api/v1/planning/siting", params={"area": "140900", "year": 2025}).status_code
        == 401
    )
    plan = client.get(
        "/api/v1/planning/siting", params={"area": "140900", "year": 2025}, headers=ADMIN
    ).json()
    # The empty township gets a station; it also brings the village within 10 km, so no
    # set cover is left to solve.
    [site] = plan["sites"]
    assert site["reasons"] == ["township_presence", "village_distance"]
    assert site["covers"] == ["140902100201"] and plan["fixed"] == 1 and plan["demands"] == 0


class RegulatorOf:
    """A regulator whose jurisdiction is one county (原平市), by header."""

    def principal(self, request: Request) -> Principal | None:
        if request.headers.get("x-test-regulator"):
            return Principal(name="reg", role=Role.REGULATOR, area_code="140981")
        return None


def test_scenarios_are_saved_and_compared_by_regulators_in_their_jurisdiction(
    platform: Platform,
) -> None:
    platform.ingestor.ingest(world())
    platform.ingestor.ingest(pack_events(pack_text(), NOW))
    app = create_app(
        platform, api_tokens=["secret"], authenticators=[OperatorHeader(), RegulatorOf()]
    )
    base = {"name": "base", "area": "140900", "year": 2025, "detour": 1.0, "road_every_km": None}
    tight = {**base, "name": "tight", "money_budget": "1000"}
    with TestClient(app) as c:
        assert c.post("/api/v1/planning/scenarios", json=base).status_code == 401
        op = c.post("/api/v1/planning/scenarios", json=base, headers={"X-Test-Operator": "1"})
        assert op.status_code == 403
        outside = c.post("/api/v1/planning/scenarios", json=base, headers={"X-Test-Regulator": "1"})
        assert outside.status_code == 403  # 忻州市 is beyond a 原平市 regulator
        bad = c.post("/api/v1/planning/scenarios", json={**base, "growth": 99}, headers=ADMIN)
        assert bad.status_code == 422 and "growth" in bad.json()["detail"]
        for body in (base, tight):
            assert c.post("/api/v1/planning/scenarios", json=body, headers=ADMIN).status_code == 201
        listed = c.get("/api/v1/planning/scenarios", params={"area": "140900"}, headers=ADMIN)
        assert [s["name"] for s in listed.json()] == ["base", "tight"]
        mine = c.get("/api/v1/planning/scenarios", headers={"X-Test-Regulator": "1"})
        assert mine.json() == []  # none saved in 原平市
        params = {"area": "140900", "names": ["base", "tight"]}
        rows = c.get("/api/v1/planning/scenarios/compare", params=params, headers=ADMIN).json()
        assert [(r["scenario"], r["over_budget"]) for r in rows] == [
            ("base", False),
            ("tight", True),
        ]
        xlsx = c.get(
            "/api/v1/planning/scenarios/compare",
            params={**params, "format": "xlsx"},
            headers=ADMIN,
        )
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        assert (
            c.get(
                "/api/v1/planning/scenarios/compare",
                params={"area": "140900", "names": ["nope"]},
                headers=ADMIN,
            ).status_code
            == 404
        )
        build = c.get(
            "/api/v1/planning/build",
            params={"area": "140900", "year": 2025, "scenario": "base"},
            headers=ADMIN,
        ).json()
        assert len(build["plan"]["sites"]) == 1
        phases = c.get(
            "/api/v1/planning/phases", params={"area": "140900", "year": 2025}, headers=ADMIN
        ).json()
        assert phases["claims"] and all(cl["met"] for cl in phases["claims"])
        saved = c.get(
            "/api/v1/planning/phases",
            params={"area": "140900", "year": 2025, "scenario": "tight"},
            headers=ADMIN,
        ).json()
        assert saved["claims"] and saved["years"][0]["year"] == 2025
        demand = c.get(
            "/api/v1/planning/demand",
            params={"area": "140981", "year": 2025},
            headers={"X-Test-Regulator": "1"},
        )
        assert demand.status_code == 200
