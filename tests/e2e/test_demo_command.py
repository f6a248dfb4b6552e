"""`chargenet demo` on a fresh database: the API shows a living city within a minute."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chargenet.kit.net import free_port

pytestmark = pytest.mark.slow


def _wait_for(url: str, deadline: float) -> list[int]:
    """Every answer until the first 200 (connection refused: none)."""
    seen: list[int] = []
    while time.monotonic() < deadline:
        try:
            seen.append(httpx.get(url, timeout=2).status_code)
            if seen[-1] == 200:
                return seen
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not come up")


def test_the_demo_serves_stations_and_changing_connector_status(tmp_path: Path) -> None:
    port = free_port()
    chargenet = Path(sys.executable).with_name("chargenet")
    process = subprocess.Popen(
        [
            str(chargenet),
            "demo",
            "--db",
            f"sqlite:///{tmp_path / 'demo.db'}",
            "--port",
            str(port),
            "--speed",
            "300",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CHARGENET_SQLITE_SYNCHRONOUS": "NORMAL"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        seen = _wait_for(f"{base}/healthz", time.monotonic() + 180)
        # The port answered while the city was being built (503, Retry-After), then 200.
        assert seen[0] == 503 and seen[-1] == 200, seen
        stations = httpx.get(f"{base}/api/v1/stations", params={"area": "140900", "limit": 5})
        assert stations.status_code == 200
        assert int(stations.headers["x-total-count"]) > 500
        first = httpx.get(f"{base}/api/v1/overview").json()
        assert first["piles"]["total"] > 10_000
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(3)
            now = httpx.get(f"{base}/api/v1/overview").json()
            if now["last_seq"] > first["last_seq"] and now["status"]["charging"] > 0:
                break
        else:
            raise AssertionError("no connector changed status within a minute")
        charging = httpx.get(f"{base}/api/v1/connectors", params={"status": "charging"}).json()
        assert charging and all(c["status"] == "charging" for c in charging)
        sessions = httpx.get(
            f"{base}/api/v1/sessions", headers={"Authorization": "Bearer demo-token"}
        ).json()
        assert sessions
        _stop_order_round_trip(base, charging[0]["charger_id"])
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"{base}/docs" in output
    assert "ws://127.0.0.1:" in output and "/ocpp/" in output  # where chargers connect


def _stop_order_round_trip(base: str, charger_id: str) -> None:
    """Supervision on the live demo: a stop order holds a charging demo charger out of
    service until lifted, and the zombie sweep has opened cases for the silent chargers."""
    token = {"Authorization": "Bearer demo-token"}
    api = f"{base}/api/v1/supervision"
    stop = httpx.post(
        f"{api}/stop-orders",
        json={"target_kind": "charger", "target_id": charger_id, "reason": "e2e hazard"},
        headers=token,
        timeout=60,
    )
    assert stop.status_code == 201, stop.text
    assert stop.json()["state"] == "in_force"
    time.sleep(3)  # the city keeps running; the held charger must not move
    held = httpx.get(f"{base}/api/v1/chargers/{charger_id}", headers=token).json()
    assert {c["status"] for c in held["connectors"]} == {"unavailable"}
    lifted = httpx.post(
        f"{api}/stop-orders/{stop.json()['stop_id']}/lift",
        json={"reason": "inspected"},
        headers=token,
        timeout=60,
    )
    assert lifted.json()["state"] == "lifted"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if httpx.get(f"{api}/zombies", headers=token, timeout=30).json():
            return
        time.sleep(2)
    raise AssertionError("no zombie case opened for the demo's silent chargers")
