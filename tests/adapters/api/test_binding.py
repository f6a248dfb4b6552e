"""Feature routers live at module level and reach one app's services through `bind`: two
apps built from the same router each answer with their own, and a handler can be called
on its own, without an app."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient

from chargenet.adapters.api import parking
from chargenet.adapters.api.auth import StaticTokens
from chargenet.adapters.api.binding import Member, bind, services
from chargenet.app.queries import StateQueries
from chargenet.app.supervision_ports import ParkingFiguresRow
from chargenet.core.access import Principal, Role


class Greeting:
    def __init__(self, word: str) -> None:
        self.word = word


router = APIRouter(prefix="/greet")


@router.get("")
async def greet(caller: Member, greeting: Annotated[Greeting, Depends(services(Greeting))]) -> Any:
    return {"word": greeting.word, "caller": caller.name}


def app_with(word: str, token: str) -> FastAPI:
    app = FastAPI()
    tokens = StaticTokens({token: Principal(f"{word}-staff", Role.OPERATOR, operator_id="OP1")})
    app.include_router(bind(router, Greeting(word), [tokens]))
    return app


def test_two_apps_from_one_router_each_answer_with_their_own_services_and_logins() -> None:
    with TestClient(app_with("hello", "a")) as one, TestClient(app_with("bonjour", "b")) as two:
        assert one.get("/greet", headers={"Authorization": "Bearer a"}).json() == {
            "word": "hello",
            "caller": "hello-staff",
        }
        assert two.get("/greet", headers={"Authorization": "Bearer b"}).json() == {
            "word": "bonjour",
            "caller": "bonjour-staff",
        }
        # One app's log-ins are not the other's.
        assert one.get("/greet", headers={"Authorization": "Bearer b"}).status_code == 401
        assert two.get("/greet").status_code == 401


def test_a_protocol_cannot_be_what_a_route_is_bound_to() -> None:
    # mypy says so too (type-abstract); the check is for what it does not see.
    with pytest.raises(TypeError, match="StateQueries is a Protocol"):
        services(StateQueries)  # type: ignore[type-abstract]


def test_a_handler_is_called_on_its_own_with_the_caller_and_services_it_is_given() -> None:
    asked: list[tuple[str | None, str | None, str]] = []

    def figures(area: str | None, operator: str | None, by: str) -> list[ParkingFiguresRow]:
        asked.append((area, operator, by))
        return []

    bays = parking.Parking(figures)
    op1 = Principal("op1-staff", Role.OPERATOR, operator_id="OP1")
    regulator = Principal("xinfu-bureau", Role.REGULATOR, area_code="140902")

    asyncio.run(parking.parking(op1, bays, None, None, "station"))
    asyncio.run(parking.parking(regulator, bays, None, None, "county"))
    assert asked == [(None, "OP1", "station"), ("140902", None, "county")]
    with pytest.raises(HTTPException) as refused:
        asyncio.run(parking.parking(op1, bays, None, "OP2", "station"))
    assert refused.value.status_code == 403
