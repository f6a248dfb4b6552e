"""The interface-compliance record adds up alike on SQLite and PostgreSQL: counts written
in two flushes are summed, refusals are kept with their reason, and the share accepted is
read per operator over a period's days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargenet.adapters.storage.interface_log import SqlInterfaceLog, compliance_by_operator
from chargenet.app.compliance import InterfaceRecorder
from chargenet.bootstrap import Platform


def test_counts_add_up_across_flushes_and_refusals_keep_their_reason(
    any_platform: Platform,
) -> None:
    engine = any_platform.store.engine
    recorder = InterfaceRecorder(SqlInterfaceLog(engine))
    now = datetime.now(UTC)

    def send(ret: int, n: int, reason: str = "") -> None:
        for _ in range(n):
            recorder.note(
                protocol="tcec",
                partner_id="MA59J8YL8",
                operator_id="OPT",
                at=now,
                endpoint="notification_stationStatus",
                ret=ret,
                reason=reason,
            )

    send(0, 30)
    send(4003, 2, "Status 9 of 1001E1C1 is not 0, 1, 2, 3, 4 or 255")
    recorder.flush()
    send(0, 10)
    send(4001, 1, "signature does not match")
    recorder.flush()
    recorder.flush()  # nothing new: nothing written

    with engine.connect() as conn:
        figures = compliance_by_operator(conn, now - timedelta(days=1), now + timedelta(hours=1))
        earlier = compliance_by_operator(conn, now - timedelta(days=3), now - timedelta(days=1))
    assert figures == {"OPT": (40, 3)}
    assert earlier == {}
    refused = SqlInterfaceLog(engine).refusals("MA59J8YL8")
    assert [(r["ret"], r["reason"]) for r in refused] == [
        (4001, "signature does not match"),
        (4003, "Status 9 of 1001E1C1 is not 0, 1, 2, 3, 4 or 255"),
        (4003, "Status 9 of 1001E1C1 is not 0, 1, 2, 3, 4 or 255"),
    ]
