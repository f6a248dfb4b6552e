"""The demo's logins and map layers: a user of each role, printed by `chargenet demo`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chargenet.adapters.api.dashboard import MapLayers
from chargenet.app.accounts import AccountService
from chargenet.core.access import Role
from chargenet.demo.world import data_dir, demo_roads


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    scope: str
    operator_id: str | None = None
    area_code: str | None = None


# Demo passwords are printed on purpose: this is a local demo with made-up data.
DEMO_USERS = (
    DemoUser("admin", "demo-admin", Role.ADMIN, "everything"),
    DemoUser("xinzhou", "demo-xinzhou", Role.REGULATOR, "忻州市 Xinzhou", area_code="140900"),
    DemoUser("xinfu", "demo-xinfu", Role.REGULATOR, "忻府区 Xinfu District", area_code="140902"),
    DemoUser("liuzhou", "demo-liuzhou", Role.REGULATOR, "柳州市 Liuzhou", area_code="450200"),
    DemoUser("jinbei", "demo-jinbei", Role.OPERATOR, "XZ-JB (its own data)", operator_id="XZ-JB"),
)


def ensure_demo_users(accounts: AccountService) -> tuple[DemoUser, ...]:
    """Create the demo users that do not exist yet; returns them all."""
    for user in DEMO_USERS:
        if accounts.store.user(user.username) is None:
            accounts.add_user(
                user.username,
                user.password,
                user.role,
                operator_id=user.operator_id,
                area_code=user.area_code,
                display_name=user.scope,
            )
    return DEMO_USERS


def demo_map_layers() -> MapLayers:
    boundaries = json.loads((data_dir() / "counties.geojson").read_text(encoding="utf-8"))
    roads = [{"ref": r["ref"], "city": r["city"], "points": r["points"]} for r in demo_roads()]
    return MapLayers(boundaries=boundaries, roads=roads)
