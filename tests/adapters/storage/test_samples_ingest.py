"""Every codec sample (tests/adapters/test_codec.py SAMPLES) is a valid event of its type:
ingested in order on SQLite and PostgreSQL, each is accepted. A sample that round-trips
through JSON but that ingest refuses says nothing true about its type (a policy pack
sample whose text was no pack went unnoticed that way)."""

from __future__ import annotations

from chargenet.bootstrap import Platform
from chargenet.core.drivers import TokenKind, legacy_token_digest
from chargenet.core.events import Event, TokenRegistered, TokenRekeyed
from tests.adapters.test_codec import SAMPLES
from tests.builders import areas, charger, meta, operator, station

# What the samples name without registering it themselves, as the world they assume:
PRELUDE: list[Event] = [
    # the province and city above the county the first sample registers (and whose code
    # the target, scenario and pack samples name)
    *areas()[:2],
    # the charger whose inventory a sample reports (the samples retire C1 before that)
    operator(),
    station(),
    charger("C2", "S1"),
]
# ... and what one sample assumes of its own, ingested just before it: the token under the
# unkeyed digest of earlier versions that the re-key sample re-keys (of the driver the
# samples register).
BEFORE: dict[type[Event], list[Event]] = {
    TokenRekeyed: [
        TokenRegistered(
            **meta(),
            token_digest=legacy_token_digest("04A1B2C3"),
            driver_id="D1",
            kind=TokenKind.RFID,
            label="card …B2C3",
        )
    ],
}


def test_every_codec_sample_is_accepted_by_ingest(any_platform: Platform) -> None:
    assert all(o.ok for o in any_platform.ingestor.ingest(PRELUDE))
    refused = []
    for sample in SAMPLES:  # one at a time: each refusal with its own reason
        assert all(o.ok for o in any_platform.ingestor.ingest(BEFORE.get(type(sample), [])))
        [outcome] = any_platform.ingestor.ingest([sample])
        if outcome.disposition.value != "accepted":
            refused.append(f"{sample.TYPE}: {outcome.disposition.value} {outcome.reason}")
    assert refused == []
