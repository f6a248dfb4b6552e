"""The same kind of failure gets the same answer on every route.

The domain says what kind of failure an error is by its class (core/errors.py); the API
answers each kind with one status and one body, `{"detail": ...}`, in one handler
(adapters/api/errors.py). Two sweeps check it from the outside:

- every route with an id in its path, called with ids nothing holds, answers 404;
- every kind of domain error, raised by the service behind a route of each router,
  answers the same status on every one of those routes.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chargenet.app import ingest, orderly, supervision
from chargenet.app.accounts import AccountError, AccountExists
from chargenet.app.orders import OrderInvalid
from chargenet.app.planning_inputs import InputError
from chargenet.app.settlement import SettlementConflict, SettlementRefused
from chargenet.app.supervision_config import ConfigError
from chargenet.bootstrap import Platform
from chargenet.core.access import OutsideScope
from chargenet.core.errors import Conflict, DomainError, Invalid, UnknownReference
from chargenet.core.ledger import LimitBreached
from chargenet.core.ownership import NotTheSenders
from chargenet.core.planning.pack import PackError
from chargenet.core.planning.scenario import ScenarioError
from chargenet.entrypoints.web import create_app
from tests.adapters.api.test_route_roles import _call, _operations, client  # noqa: F401
from tests.builders import small_world

# --- every route that names a thing in its path -------------------------------------------

# Partners' protocols answer on their own wire (OCPI status codes, T/CEC Ret, the
# operators' signed channel, payment providers' replies), each with its own tests.
PARTNERS = ("/ocpi/", "/tcec/", "/payments/", "/api/v1/channel/", "/api/v1/tcec/")


def test_every_route_answers_404_for_a_thing_nothing_holds(client: TestClient) -> None:  # noqa: F811
    answers: dict[str, tuple[int, Any]] = {}
    for method, path, op in _operations(client):
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        if not names or path.startswith(PARTNERS):
            continue
        nothing = {name: f"NOSUCH{n}" for n, name in enumerate(names)}
        # a driver's routes are about the caller's own things: as that driver
        persona = "driver" if path.startswith("/api/v1/driver/") else "admin"
        answer = _call(client, persona, method, path, op, nothing)
        json = answer.headers["content-type"].startswith("application/json")
        answers[f"{persona} {method} {path}"] = (answer.status_code, answer.json() if json else {})
    assert len(answers) > 50  # the sweep reached the API's routes
    wrong = {route: got for route, got in answers.items() if got[0] != 404}
    assert wrong == {}
    shapes = {
        route: sorted(body) for route, (_, body) in answers.items() if list(body) != ["detail"]
    }
    assert shapes == {}


# --- every kind of failure, from behind a route of each router ----------------------------

ADMIN = {"Authorization": "Bearer admin"}
# (router, method, url, body, service on the platform, its method the route calls)
ROUTES: list[tuple[str, str, str, dict[str, Any] | None, str, str]] = [
    (
        "supervision",
        "POST",
        "/api/v1/supervision/exclusions",
        {
            "target_kind": "charger",
            "target_id": "C1",
            "start": "2025-05-01T00:00:00Z",
            "end": "2025-05-01T03:00:00Z",
            "reason": "utility_outage",
        },
        "supervision",
        "exclude",
    ),
    (
        "incidents",
        "POST",
        "/api/v1/supervision/incidents",
        {"kind": "fire", "station_id": "S1", "occurred_at": "2025-05-01T00:00:00Z"},
        "incidents",
        "report",
    ),
    (
        "inspections",
        "POST",
        "/api/v1/supervision/inspections/draws",
        {"title": "spring", "inspectors": ["a", "b"], "count": 1},
        "inspections",
        "draw",
    ),
    (
        "credit",
        "POST",
        "/api/v1/supervision/credit/penalties",
        {
            "operator_id": "OP1",
            "points": 1,
            "reason": "late",
            "basis": "decision 1",
            "decided_on": "2025-05-01",
        },
        "credit",
        "penalize",
    ),
    (
        "orderly",
        "POST",
        "/api/v1/orderly/feeders",
        {"feeder_id": "F1", "name": "feeder", "capacity_w": 100_000},
        "orderly",
        "state_feeder",
    ),
    (
        "drivers",
        "POST",
        "/api/v1/drivers",
        {"driver_id": "d1", "password": "a-long-password"},
        "drivers",
        "register",
    ),
    (
        "drivers",
        "POST",
        "/api/v1/drivers/d1/topups",
        {"amount": "1.00", "key": "k1"},
        "settlement",
        "top_up",
    ),
    ("read", "GET", "/api/v1/areas/140902", None, "read", "area"),
    (
        "planning",
        "GET",
        "/api/v1/planning/targets?area=140902&year=2025",
        None,
        "planning",
        "plan_vs_actual",
    ),
]

FAILURES: list[tuple[DomainError, int]] = [
    (UnknownReference("station", "S9"), 404),
    (OutsideScope("140981 is outside 140902"), 403),
    (NotTheSenders("connector C1-1-1 is not OP2's"), 403),
    (Conflict("case Z1 is closed"), 409),
    (LimitBreached("the wallet would go below its limit"), 409),
    (SettlementConflict("the session has ended"), 409),
    (AccountExists("user 'd1' exists already"), 409),
    (Invalid("end before start"), 422),
    (DomainError("refused by a rule"), 422),
    # what the pipeline refused, whichever service submitted it
    (ingest.Refused("text too long"), 422),
    (supervision.Refused("text too long"), 422),
    (orderly.Refused("text too long"), 422),
    (SettlementRefused("a top-up is a positive amount in whole cents"), 422),
    (AccountError("a driver id has 2..64 letters"), 422),
    (InputError("sites.csv", ["line 3: not a number"]), 422),
    (ConfigError("[uptime]: unit must be port or connector"), 422),
    (OrderInvalid("unit is W or A"), 422),
    (ScenarioError("growth is a share"), 422),
    (PackError(["unknown rule"]), 422),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, TestClient]]:
    from chargenet.bootstrap import bootstrap
    from chargenet.config import Settings

    db = tmp_path_factory.mktemp("errors") / "chargenet.db"
    platform = bootstrap(Settings(database_url=f"sqlite:///{db}", sqlite_synchronous="OFF"))
    platform.ingestor.ingest(small_world())
    app = create_app(platform, api_tokens=["admin"])
    with TestClient(app) as test_client:
        yield platform, test_client
    platform.close()


def _raising(original: Any, error: DomainError, calls: list[str]) -> Any:
    """A stand-in for a service method: the same call style (async or not), raising."""
    if inspect.iscoroutinefunction(original):

        async def refuse_async(*args: Any, **kwargs: Any) -> Any:
            calls.append("called")
            raise error

        return refuse_async

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append("called")
        raise error

    return refuse


@pytest.mark.parametrize(("error", "status"), FAILURES, ids=[type(e).__name__ for e, _ in FAILURES])
def test_one_kind_of_failure_gets_one_status_on_every_route(
    world: tuple[Platform, TestClient], error: DomainError, status: int
) -> None:
    platform, http = world
    answers: dict[str, tuple[int, Any]] = {}
    for router, method, url, body, service_name, method_name in ROUTES:
        service = getattr(platform, service_name)
        calls: list[str] = []
        with pytest.MonkeyPatch.context() as patch:
            fake = _raising(getattr(service, method_name), error, calls)
            patch.setattr(service, method_name, fake)
            answer = http.request(method, url, json=body, headers=ADMIN)
        assert calls, f"{router} {method} {url} did not reach {service_name}.{method_name}"
        answers[f"{router} {method} {url}"] = (answer.status_code, answer.json())
    assert answers == {route: (status, {"detail": str(error)}) for route in answers}
