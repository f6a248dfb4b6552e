"""What routing costs a partner's push before its handler runs: the routes tried, and the
time to find the route, with the protocol routers included before the API's (as
create_app does) against after them (the order before; the baseline), in one process.

    python -m benchmarks.http_intake.routing
"""

from __future__ import annotations

import cProfile
import pstats
import tempfile
import time
from typing import Any

from starlette.routing import Match

from chargenet.bootstrap import bootstrap
from chargenet.config import Settings
from chargenet.entrypoints import web

REQUESTS = (
    ("PATCH", "/ocpi/2.2.1/receiver/locations/CN/XZP/LOC1/E1"),
    ("POST", "/tcec/v1/notification_stationStatus"),
)
ROUNDS = 2000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        platform = bootstrap(
            Settings(database_url=f"sqlite:///{tmp}/bench.db", sqlite_synchronous="OFF")
        )
        apps = {}
        first = web._PROTOCOL_PREFIXES
        orders: tuple[tuple[str, tuple[str, ...]], ...] = (
            ("API routers first", ()),
            ("protocol routers first", first),
        )
        for label, prefixes in orders:
            web._PROTOCOL_PREFIXES = prefixes
            apps[label] = web.create_app(platform, api_tokens=["x"], **web.protocol_parts(platform))
        web._PROTOCOL_PREFIXES = first
        for method, path in REQUESTS:
            figures = {}
            for label, app in apps.items():
                scope: dict[str, Any] = {
                    "type": "http", "path": path, "method": method, "root_path": "",
                    "headers": [], "app": app,
                }  # fmt: skip

                def find(app: Any = app, scope: dict[str, Any] = scope) -> None:
                    for route in app.routes:
                        if route.matches(dict(scope))[0] == Match.FULL:
                            return
                    raise SystemExit(f"no route for {scope['method']} {scope['path']}")

                profile = cProfile.Profile()
                profile.enable()
                find()
                profile.disable()
                stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
                tried = sum(v[1] for k, v in stats.items() if k[2] == "matches")
                times = []
                for _ in range(5):
                    started = time.perf_counter()
                    for _ in range(ROUNDS):
                        find()
                    times.append((time.perf_counter() - started) / ROUNDS * 1e6)
                figures[label] = (tried, sorted(times)[2])
                print(f"{method} {path}, {label}: {tried} route checks, {figures[label][1]:.0f} µs")
            base, now = figures["API routers first"][1], figures["protocol routers first"][1]
            print(f"  ratio (baseline / now): {base / now:.1f}×")
        platform.close()


if __name__ == "__main__":
    main()
