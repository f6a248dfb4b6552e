"""Bad input over HTTP gets a specific 4xx, never a 500: numbers past what the store holds,
documents nested too deep or too large, search text with LIKE's wildcards, dates past
what the calendar arithmetic can do. And the API docs load nothing from the internet."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from chargenet.adapters.api.pages import DOCS_FILES, assets_present
from chargenet.bootstrap import Platform, bootstrap, build_ocpi
from chargenet.config import Settings
from chargenet.core.areas import AreaLevel
from chargenet.core.events import AreaRegistered
from chargenet.core.ids import AreaCode
from chargenet.entrypoints.web import create_app, protocol_parts
from chargenet.kit.bounds import INT64_MAX
from tests import migrated
from tests.adapters.ocpi.spec import CPO, auth, registered_peer
from tests.builders import meta, small_world

ADMIN = {"Authorization": "Bearer secret"}
PAST_INT64 = str(INT64_MAX + 1)


def _everything(folder: Path) -> Platform:
    """A platform with every protocol's routes (T/CEC keys sealed with a test key)."""
    p = bootstrap(
        Settings(
            database_url=migrated.sqlite_url(folder / "chargenet.db"),
            sqlite_synchronous="OFF",
            tcec_master_key=Fernet.generate_key().decode(),
            open_data_per_minute=10_000,
        )
    )
    p.ingestor.ingest(small_world())
    return p


@contextlib.contextmanager
def _client(platform: Platform) -> Iterator[TestClient]:
    app = create_app(platform, api_tokens=["secret"], **protocol_parts(platform))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def everything(tmp_path: Path) -> Iterator[Platform]:
    p = _everything(tmp_path)
    yield p
    p.close()


@pytest.fixture
def client(everything: Platform) -> Iterator[TestClient]:
    """A platform and app of the test's own, for a test that changes what is stored."""
    with _client(everything) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module's tests that only send requests the platform refuses or
    reads: building one per test was most of their time."""
    p = _everything(tmp_path_factory.mktemp("reader"))
    try:
        with _client(p) as test_client:
            yield test_client
    finally:
        p.close()


def _integer_parameters(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                for option in schema.get("anyOf", [schema]):
                    if option.get("type") == "integer":
                        yield f"{method.upper()} {path}", parameter["name"], option


def test_every_integer_parameter_is_bounded_to_what_the_store_holds(reader: TestClient) -> None:
    spec = reader.get("/openapi.json").json()
    found = list(_integer_parameters(spec))
    assert len(found) > 20  # offsets, limits, years … of every router
    unbounded = [
        f"{operation} {name}"
        for operation, name, schema in found
        if schema.get("maximum", INT64_MAX + 1) > INT64_MAX
        or schema.get("minimum", -INT64_MAX - 2) < -INT64_MAX - 1
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    ("path", "name", "value", "headers"),
    [
        ("/open-data/v1/sites", "offset", PAST_INT64, {}),  # anonymous
        ("/open-data/v1/status", "offset", PAST_INT64, {}),
        ("/api/v1/areas", "offset", PAST_INT64, {}),
        ("/api/v1/events", "after_seq", PAST_INT64, ADMIN),
        ("/api/v1/events", "after_seq", "1e23", ADMIN),
        ("/api/v1/supervision/alarms", "offset", PAST_INT64, ADMIN),
        ("/api/v1/reconciliations", "offset", PAST_INT64, ADMIN),
        ("/api/v1/reconciliations", "offset", "-1", ADMIN),
        ("/api/v1/planning/siting", "budget", PAST_INT64, ADMIN),
    ],
)
def test_numbers_past_the_store_are_422_naming_the_parameter(
    reader: TestClient, path: str, name: str, value: str, headers: dict[str, str]
) -> None:
    required = {"area": "140900", "year": "2025"} if path.endswith("/siting") else {}
    response = reader.get(path, params={**required, name: value}, headers=headers)
    assert response.status_code == 422, response.text
    assert {tuple(p["loc"]) for p in response.json()["detail"]} == {("query", name)}


def test_an_ocpi_offset_past_the_store_is_2001(client: TestClient, everything: Platform) -> None:
    party = build_ocpi(everything)
    token = registered_peer(party, "CN*XZP", CPO, "OP1")
    response = client.get(
        "/ocpi/2.2.1/sender/locations", params={"offset": PAST_INT64}, headers=auth(token)
    )
    assert response.json()["status_code"] == 2001
    party.directory.dispose()


def test_area_search_takes_wildcards_literally(any_platform: Platform) -> None:
    any_platform.ingestor.ingest(
        [
            *small_world(),
            AreaRegistered(
                **meta(),
                code=AreaCode("149999"),
                level=AreaLevel.CITY,
                name_zh="测试_区",
                parent_code=AreaCode("140000"),
                name_en="Test 100% Area",
            ),
        ]
    )
    with TestClient(create_app(any_platform)) as client:

        def found(q: str) -> list[str]:
            response = client.get("/api/v1/areas", params={"q": q})
            assert response.status_code == 200
            return [a["code"] for a in response.json()]

        assert found("%") == ["149999"]  # not every area
        assert found("_") == ["149999"]
        assert found("0%") == ["149999"]
        assert found("/") == []  # the escape character is literal too
        assert found("忻府") == ["140902"]
        assert found("xinfu") == ["140902"]  # English names in any case


def test_a_url_carrying_a_nul_is_400_on_every_backend(any_platform: Platform) -> None:
    any_platform.ingestor.ingest(small_world())
    urls = [
        "/api/v1/stations?operator=%00",
        "/api/v1/areas?q=a%00b",
        "/api/v1/areas/%00",
        "/api/v1/finder/stations/S%001",
        "/open-data/v1/sites?operator=%01",
    ]
    with TestClient(create_app(any_platform), raise_server_exceptions=False) as client:
        answers = {url: client.get(url) for url in urls}
        assert {url: a.status_code for url, a in answers.items()} == dict.fromkeys(urls, 400)
        assert "control character" in answers[urls[0]].json()["detail"]
        assert client.get("/api/v1/stations?operator=OP1").status_code == 200  # and the rest


def test_json_bodies_too_deep_or_too_large_are_refused_before_parsing(
    client: TestClient,
) -> None:
    json_headers = {"content-type": "application/json"}
    deep = client.post("/api/v1/auth/login", content="[" * 50_000, headers=json_headers)
    assert deep.status_code == 400
    assert deep.json()["detail"] == "the body is nested deeper than 32 levels"
    nested = '{"username": ' + "[" * 40 + "]" * 40 + ', "password": "x"}'
    assert (
        client.post("/api/v1/auth/login", content=nested, headers=json_headers).status_code == 400
    )
    large = client.post(
        "/api/v1/supervision/alarms/A1/clear",
        content='{"reason": "' + "x" * 100_000 + '"}',
        headers={**ADMIN, **json_headers},
    )
    assert large.status_code == 413
    assert large.json()["detail"] == "the body is over 65536 bytes"
    # What fits goes on to the route as it was sent.
    ok = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"})
    assert ok.status_code == 401


def test_supervision_periods_outside_the_report_years_are_422(reader: TestClient) -> None:
    for end in ("0001-01-01T00:00:00", "9999-12-31T23:59:59-05:00"):
        response = reader.get("/api/v1/supervision/uptime", params={"end": end}, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert "outside the years 2000 to 2100" in response.json()["detail"]


def test_a_progress_month_outside_the_plan_years_is_422(reader: TestClient) -> None:
    for month in ("0000-12", "9999-01"):
        response = reader.get(
            "/api/v1/planning/progress", params={"area": "140900", "month": month}, headers=ADMIN
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == "month must be YYYY-MM, 1990-01 to 2100-12"


def test_open_data_dates_before_the_first_utc_day_are_400(reader: TestClient) -> None:
    response = reader.get(
        "/open-data/v1/sites", params={"updated_since": "0001-01-01T00:00:00+05:00"}
    )
    assert response.status_code == 400
    assert "out of the range of dates" in response.json()["detail"]


@pytest.mark.skipif(
    not assets_present(DOCS_FILES), reason="Swagger UI not installed (./dev setup copies it)"
)
def test_the_api_docs_load_nothing_from_another_host(reader: TestClient) -> None:
    page = reader.get("/docs")
    assert page.status_code == 200
    references = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert references, "the page loads its scripts and styles"
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        assert reader.get(reference).status_code == 200, reference
    script = reader.get("/static/docs.js").text
    assert "SwaggerUIBundle" in script and not re.search(r"https?://", script)
    assert reader.get("/openapi.json").status_code == 200
    assert reader.get("/redoc").status_code == 404  # FastAPI's CDN pages are off
