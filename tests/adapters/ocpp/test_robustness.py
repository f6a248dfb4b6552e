"""The failures users of other central systems report most, each provoked on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import websockets
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201
from websockets.typing import Subprotocol

from chargenet.adapters.ocpp.gateway import GatewayConfig
from chargenet.app.orders import Order
from chargenet.bootstrap import Platform
from chargenet.core.ids import OrderId
from chargenet.core.supervision import OrderKind, OrderOutcome, TargetKind
from tests.adapters.ocpp.peers import (
    boot16,
    boot201,
    connect,
    eventually,
    running,
    stamp,
    world,
)
from tests.adapters.ocpp.test_gateway import live, online, raw_client, sessions


def order(kind: OrderKind, charger_id: str = "C1", n: int = 1, **params: str) -> Order:
    return Order(
        order_id=OrderId(f"{kind.value}-{charger_id}-{n}"),
        kind=kind,
        charger_id=charger_id,
        protocol="ocpp1.6" if charger_id == "C1" else "ocpp2.0.1",
        target_kind=TargetKind.CHARGER,
        target_id=charger_id,
        parameters=params,
    )


def test_a_new_connection_replaces_the_old_and_pending_calls_die_with_their_socket(
    platform: Platform,
) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway:
            silent = await raw_client(gateway)  # answers nothing we send it
            await eventually(lambda: "C1" in gateway.links)
            pending = asyncio.create_task(
                platform.orders.issue(order(OrderKind.RESET), timeout_s=30)
            )
            await eventually(lambda: bool(gateway.links["C1"]._pending))
            async with connect(gateway, "C1") as cp:  # the charger comes back on a new socket
                result = await asyncio.wait_for(pending, 5)  # not after 30 s
                assert result.outcome is OrderOutcome.FAILED
                await cp.call(boot16())
                # the new link is clean: the next order goes straight through
                reset = await platform.orders.issue(order(OrderKind.RESET, n=2), timeout_s=5)
                assert reset.outcome is OrderOutcome.ACCEPTED
                assert cp.received == [("Reset", {"type": "Soft"})]
                assert online(platform, "C1") is True  # the old socket's close is not news
            await silent.close()
        assert gateway.stats.replaced == 1

    asyncio.run(scenario())


def test_a_charger_that_ignores_calls_times_out_and_is_dropped(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway:
            silent = await raw_client(gateway)
            await eventually(lambda: online(platform, "C1") is True)
            for n in (1, 2):
                result = await platform.orders.issue(order(OrderKind.RESET, n=n), timeout_s=0.2)
                assert result.outcome is OrderOutcome.TIMEOUT
            # heartbeats alone do not keep a charger that ignores every order "online"
            await eventually(lambda: online(platform, "C1") is False)
            await silent.close()

    asyncio.run(scenario())


def test_presence_goes_stale_after_missed_heartbeats(platform: Platform) -> None:
    async def scenario() -> None:
        config = GatewayConfig(heartbeat_s=1, missed_heartbeats=3)
        async with running(platform, config) as gateway:
            ws = await raw_client(gateway)
            await ws.send(
                '[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
            )
            assert json.loads(await ws.recv())[2]["interval"] == 1  # the platform sets it
            await eventually(lambda: online(platform, "C1") is True)
            await eventually(lambda: online(platform, "C1") is False)  # then silence
            assert gateway.stats.stale == 1
            assert [
                e["reason"] for e in platform.read.events(event_type="charger.presence_changed")
            ][-1] == "missed heartbeats"

    asyncio.run(scenario())


def test_offline_starts_unset_clocks_and_unknown_transactions_are_reconciled(
    platform: Platform,
) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway, connect(gateway, "C1") as cp:
            # clock not set yet: 1970 stamps; the session is kept, flagged, timed by us
            start = await cp.call(
                c16.StartTransaction(
                    connector_id=1, id_tag="A", meter_start=100, timestamp="1970-01-01T00:05:00Z"
                )
            )
            assert start.transaction_id > 0
            # a stop for a transaction the charger never had confirmed (id −1)
            await cp.call(
                c16.StopTransaction(transaction_id=-1, meter_stop=2_100, timestamp=stamp())
            )
            # a stop for a transaction nobody ever saw is answered, so it is not resent forever
            unknown = await cp.call(
                c16.StopTransaction(
                    transaction_id=424242, meter_stop=1, timestamp=stamp(), id_tag="A"
                )
            )
            assert unknown.id_tag_info["status"] == "Accepted"
        [session] = sessions(platform)
        # Its true duration is unknown (we timed the start on arrival), so 2 kWh "in no
        # time" is flagged and not billed rather than trusted.
        assert session["state"] == "completed" and session["energy_wh"] is None
        assert set(session["flags"]) == {"clock_unset", "started_offline", "energy_exceeds_power"}
        assert session["started_at"].year == datetime.now(UTC).year
        [alarm] = platform.read.events(event_type="alarm.raised")
        assert alarm["code"] == "ClockUnset"
        [refused] = platform.read.rejected()[0]
        assert "C1:424242" in refused["reason"]

    asyncio.run(scenario())


def test_absurd_values_are_bounded_and_never_trusted(platform: Platform) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=10)

    def sample(register: str, at: datetime, **extra: str) -> Any:
        values = [{"value": register, "measurand": "Energy.Active.Import.Register"}]
        values += [{"value": v, "measurand": m} for m, v in extra.items()]
        return c16.MeterValues(
            connector_id=1, meter_value=[{"timestamp": stamp(at), "sampled_value": values}]
        )

    async def scenario() -> None:
        async with running(platform) as gateway, connect(gateway, "C1") as cp:
            # a connector number out of any range: answered, refused by the store, recorded
            await cp.call(
                c16.StatusNotification(
                    connector_id=1_634_030_126, error_code="NoError", status="Available"
                )
            )
            await cp.call(sample("1000000", t0))
            await cp.call(sample("900000000000", t0 + timedelta(minutes=1)))  # +900 GWh in 1 min
            await cp.call(sample("1005000", t0 + timedelta(minutes=10), SoC="250"))
            await cp.call(sample("-5", t0 + timedelta(minutes=11)))
            assert gateway.stats.dropped_values == 3
        reading = live(platform, "C1-1-1")
        assert (reading["energy_register_wh"], reading["soc_percent"]) == (1_005_000, None)
        assert len(platform.read.rejected()[0]) == 1

    asyncio.run(scenario())


def test_security_events_notify_events_and_data_transfers_are_recorded(platform: Platform) -> None:
    async def scenario() -> None:
        async with running(platform) as gateway:
            async with connect(gateway, "C1") as cp:
                await cp.call(
                    c16.SecurityEventNotification(
                        type="TamperDetectionActivated", timestamp=stamp(), tech_info="door"
                    )
                )
                answer = await cp.call(
                    c16.DataTransfer(vendor_id="com.vendor", message_id="diag", data='{"t":41}')
                )
                assert answer.status == "Accepted"
                await cp.call(c16.DiagnosticsStatusNotification(status="Idle"))  # plain notice
            async with connect(gateway, "C2", "ocpp2.0.1") as cp:
                await cp.call(boot201())
                event = {
                    "event_id": 7,
                    "timestamp": stamp(),
                    "trigger": "Alerting",
                    "actual_value": "true",
                    "event_notification_type": "HardWiredNotification",
                    "tech_info": "RCD tripped",
                    "component": {"name": "RCD", "evse": {"id": 2}},
                    "variable": {"name": "Tripped"},
                }
                await cp.call(c201.NotifyEvent(generated_at=stamp(), seq_no=0, event_data=[event]))
                cleared = {**event, "event_id": 8, "cleared": True, "actual_value": "false"}
                await cp.call(
                    c201.NotifyEvent(generated_at=stamp(), seq_no=1, event_data=[cleared])
                )
        raised = {e["code"]: e for e in platform.read.events(event_type="alarm.raised")}
        assert raised["TamperDetectionActivated"]["severity"] == "major"
        assert (raised["RCD.Tripped"]["target_kind"], raised["RCD.Tripped"]["target_id"]) == (
            "connector",
            "C2-2-1",
        )
        assert len(platform.read.events(event_type="alarm.cleared")) == 1
        [transfer] = platform.read.events(event_type="charger.data_transferred")
        assert (transfer["vendor_id"], transfer["data"]) == ("com.vendor", '{"t":41}')

    asyncio.run(scenario())


def test_every_order_kind_is_delivered_in_the_chargers_version(platform: Platform) -> None:
    """The gateway's CALLs pass the strict `ocpp` library peer's schema checks."""
    cases = [
        (OrderKind.RESUME, {}),
        (OrderKind.SET_CHARGING_LIMIT, {"limit_w": "22000"}),
        (OrderKind.CLEAR_CHARGING_LIMIT, {}),
        (OrderKind.REMOTE_START, {"id_tag": "OPS"}),
        (OrderKind.REMOTE_STOP, {"transaction_id": "17"}),
        (OrderKind.GET_CONFIGURATION, {"keys": "HeartbeatInterval"}),
        (OrderKind.CHANGE_CONFIGURATION, {"key": "HeartbeatInterval", "value": "60"}),
    ]

    async def scenario() -> list[tuple[str, str, str, str]]:
        out = []
        async with (
            running(platform) as gateway,
            connect(gateway, "C1") as cp16,
            connect(gateway, "C2", "ocpp2.0.1") as cp201,
        ):
            await cp16.call(boot16())
            await cp201.call(boot201())
            for n, (kind, params) in enumerate(cases):
                for charger_id in ("C1", "C2"):
                    extra = dict(params)
                    if charger_id == "C2" and "keys" in extra:
                        extra["keys"] = "OCPPCommCtrlr.HeartbeatInterval"
                    if charger_id == "C2" and "key" in extra:
                        extra["key"] = "OCPPCommCtrlr.HeartbeatInterval"
                    result = await platform.orders.issue(
                        order(kind, charger_id, n, **extra), timeout_s=5
                    )
                    out.append((charger_id, kind.value, result.outcome.value, result.detail))
        return out

    results = asyncio.run(scenario())
    # The library peer validates every CALL against the schema before its handler runs.
    assert all(outcome == "accepted" for _, _, outcome, _ in results), results
    assert len(results) == 2 * len(cases)


def test_chargers_left_online_by_a_previous_run_go_offline_when_the_gateway_starts(
    platform: Platform,
) -> None:
    from chargenet.core.events import ChargerPresenceChanged
    from chargenet.core.ids import ChargerId
    from tests.builders import meta, small_world

    platform.ingestor.ingest(
        [
            *small_world(),
            ChargerPresenceChanged(**meta(), charger_id=ChargerId("C1"), online=True),
        ]
    )
    assert online(platform, "C1") is True

    async def scenario() -> None:
        async with running(platform):
            await eventually(lambda: online(platform, "C1") is False)

    asyncio.run(scenario())
    reasons = [e["reason"] for e in platform.read.events(event_type="charger.presence_changed")]
    assert reasons[-1] == "gateway restarted"


def test_every_time_the_gateway_sends_has_at_most_three_decimals(platform: Platform) -> None:
    """OCPP 2.0.1 Part 2 §2.1.4: RFC 3339, "the number of decimal places SHALL NOT exceed
    the maximum of 3" — in BootNotification and Heartbeat results and in a charging
    profile's startSchedule, for 2.0.1 and (same code) 1.6 chargers."""
    import re

    wire = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)$")

    async def scenario() -> list[str]:
        sent: list[str] = []
        async with (
            running(platform) as gateway,
            connect(gateway, "C1") as cp16,
            connect(gateway, "C2", "ocpp2.0.1") as cp201,
        ):
            sent.append((await cp16.call(boot16())).current_time)
            sent.append((await cp16.call(c16.Heartbeat())).current_time)
            sent.append((await cp201.call(boot201())).current_time)
            sent.append((await cp201.call(c201.Heartbeat())).current_time)
            for charger_id in ("C1", "C2"):
                result = await platform.orders.issue(
                    order(OrderKind.SET_CHARGING_LIMIT, charger_id, limit_w="11000"), timeout_s=5
                )
                assert result.outcome is OrderOutcome.ACCEPTED, result.detail
            [(_, p16)] = [r for r in cp16.received if r[0] == "SetChargingProfile"]
            [(_, p201)] = [r for r in cp201.received if r[0] == "SetChargingProfile"]
            sent.append(p16["cs_charging_profiles"]["charging_schedule"]["start_schedule"])
            sent.append(p201["charging_profile"]["charging_schedule"][0]["start_schedule"])
        return sent

    sent = asyncio.run(scenario())
    assert len(sent) == 6
    assert [t for t in sent if not wire.match(t)] == []


def test_a_start_stamped_an_hour_ahead_is_timed_by_us_and_flagged(platform: Platform) -> None:
    """docs/ocpp.md: a time more than 5 min ahead of ours is replaced by our receive time
    and the session is flagged clock_unset (its duration is not the charger's)."""
    ahead = datetime.now(UTC) + timedelta(hours=1)

    async def scenario() -> None:
        async with (
            running(platform) as gateway,
            connect(gateway, "C1") as cp16,
            connect(gateway, "C2", "ocpp2.0.1") as cp201,
        ):
            await cp16.call(
                c16.StartTransaction(
                    connector_id=1, id_tag="A", meter_start=100, timestamp=stamp(ahead)
                )
            )
            await cp201.call(
                c201.TransactionEvent(
                    event_type="Started",
                    timestamp=stamp(ahead),
                    trigger_reason="Authorized",
                    seq_no=0,
                    evse={"id": 1, "connector_id": 1},
                    transaction_info={"transaction_id": "T-AHEAD"},
                )
            )

    asyncio.run(scenario())
    started = {s["charger_id"]: s for s in sessions(platform)}
    assert set(started) == {"C1", "C2"}
    for session in started.values():
        assert session["started_at"] < ahead - timedelta(minutes=50)  # our time, not its
        assert "clock_unset" in session["flags"], session
    codes = {e["code"] for e in platform.read.events(event_type="alarm.raised")}
    assert codes == {"ClockAhead"}


def test_nothing_of_a_closed_connection_stays_in_the_gateways_memory(platform: Platform) -> None:
    """Forty chargers connect, boot and go; forty strangers knock. Afterwards none of the
    memory the gateway's or the ingest pipeline's own code allocated for them is still
    held (only what is in flight at any moment: the writer waiting for its next batch, the
    watchdog for its next round).
    Such leftovers, however small, pin the memory of the connections around them:
    benchmarks/ocpp_ingest/retention.py measures what they cost at 10,000 connections."""
    import gc
    import tracemalloc

    from websockets.exceptions import InvalidStatus

    from chargenet.kit.aio import wait_at_most
    from chargenet.kit.secrets import hash_secret
    from tests.adapters.ocpp.peers import PASSWORD, basic
    from tests.builders import T0, charger

    fleet = [f"X{n:03d}" for n in range(40)]
    platform.ingestor.ingest([*world(), *(charger(c, "S1", guns=1) for c in fleet)])
    assert platform.ocpp_queries is not None
    secret = hash_secret(PASSWORD)
    for charger_id in fleet:
        platform.ocpp_queries.set_secret(charger_id, secret, T0)
    ours = [  # memory that these files' own lines allocated
        tracemalloc.Filter(True, "*/chargenet/adapters/ocpp/gateway.py"),
        tracemalloc.Filter(True, "*/chargenet/app/pipeline.py"),
    ]

    async def visit(gateway: Any, charger_id: str) -> None:
        async with connect(gateway, charger_id) as cp:
            await cp.call(boot16())
        await eventually(lambda: charger_id not in gateway.links)
        with contextlib.suppress(InvalidStatus):  # 404: nobody of that name
            await websockets.connect(
                f"ws://127.0.0.1:{gateway.port}/ocpp/STRANGER-{charger_id}",
                subprotocols=[Subprotocol("ocpp1.6")],
                additional_headers=basic(f"STRANGER-{charger_id}", PASSWORD),
            )

    async def settled(gateway: Any) -> None:
        """Nothing in flight: every offline notice sent is stored and its sender has its
        answer (the backlog counts them until then), and the writer waits for its next
        batch. However slow the machine, what is measured then is what stays."""
        await eventually(lambda: gateway.admission.backlog == 0 and platform.pipeline.idle)
        # And every connection is torn down. A refused handshake (the strangers' 404) ends
        # its handler with `transport.abort()`, and asyncio calls the protocol's
        # `connection_lost` one loop turn later: until then the transports of the last
        # connections (their `_call_connection_lost` waiting in the loop's ready queue)
        # keep memory of the last visits, among it blocks allocated where the last
        # presence events are made; measured at once, 1 to 3 of them showed as held.
        # Once every handler has returned, one turn of the loop runs those calls.
        assert gateway._server is not None
        await wait_at_most(asyncio.gather(*gateway._server.handler_tasks), 10)
        await asyncio.sleep(0)

    def kept_since(before: Any) -> list[Any]:
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces(ours)
        return [s for s in after.compare_to(before, "traceback") if s.count_diff > 0]

    async def scenario() -> list[Any]:
        # Traced from before the gateway starts: what its background rounds (the writer
        # waiting for a batch, the watchdog's and the credentials watch's sleeps) hold at
        # any moment is then in both snapshots, and one replaced by the next round's nets
        # nothing. Traced only from the first snapshot, the "before" missed those made
        # earlier and the "after" counted their replacements.
        tracemalloc.start(8)
        try:
            async with running(platform) as gateway:
                await visit(gateway, "C1")  # first use: decoders and the like are made once
                await settled(gateway)
                gc.collect()
                before = tracemalloc.take_snapshot().filter_traces(ours)
                for charger_id in fleet:
                    await visit(gateway, charger_id)
                # What stays is what is still there however long we look: a background
                # round caught in the middle (the credentials watch reading the store on
                # its thread: 2-3 blocks) is over by a later look, a leftover of the
                # connections never is. At most 20 looks, each once nothing is in flight.
                for _ in range(20):
                    await settled(gateway)  # the last offline notices are stored
                    kept = kept_since(before)
                    if sum(s.count_diff for s in kept) <= 4:
                        break
                    await asyncio.sleep(0.25)
                return kept
        finally:
            tracemalloc.stop()

    kept = asyncio.run(scenario())
    held = sum(s.count_diff for s in kept)
    assert held <= 4, "\n".join(f"{s}: {s.traceback.format()[-2:]}" for s in kept)
