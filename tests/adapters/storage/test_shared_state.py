"""Two chargenet processes on one database agree on T/CEC tokens and replays, rate limits
and failed log-ins (shared_state = "database"); the embedded default keeps them apart."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from chargenet.adapters.storage.shared_state import SqlRateLimiter, SqlThrottleRecords
from chargenet.app.accounts import LoginRefused
from chargenet.app.login_throttle import LoginThrottle, MemoryRecords
from chargenet.bootstrap import Platform, bootstrap
from chargenet.config import Settings
from chargenet.core.access import Role
from chargenet.kit.clock import FixedClock

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


def two(database_url: str, shared: str) -> tuple[Platform, Platform]:
    key = Fernet.generate_key().decode()
    settings = Settings(
        database_url=database_url,
        sqlite_synchronous="OFF",
        tcec_master_key=key,
        shared_state=shared,
    )
    clock = FixedClock(NOW)
    return bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)


@pytest.fixture
def pair(migrated_database_url: str) -> Iterator[tuple[Platform, Platform]]:
    a, b = two(migrated_database_url, "database")
    yield a, b
    a.close()
    b.close()


def test_a_token_one_process_issues_is_honoured_and_revoked_by_the_other(
    pair: tuple[Platform, Platform],
) -> None:
    a, b = pair
    issued = a.tcec.tokens.issue("MA0001")
    assert b.tcec.tokens.partner_of(issued.token) == "MA0001"
    again = b.tcec.tokens.issue("MA0001")  # a partner's second worker asks elsewhere
    assert again.token == issued.token and again.ttl_s <= issued.ttl_s
    b.tcec.tokens.revoke("MA0001")
    assert a.tcec.tokens.partner_of(issued.token) is None
    assert a.tcec.tokens.issue("MA0001").token != issued.token


def test_a_message_one_process_has_seen_is_a_replay_at_the_other(
    pair: tuple[Platform, Platform],
) -> None:
    a, b = pair
    assert a.tcec.replay.check("MA0001", NOW, "20260302160000", "0001") is None
    refused = b.tcec.replay.check("MA0001", NOW, "20260302160000", "0001")
    assert refused is not None and "replay" in refused
    assert b.tcec.replay.check("MA0001", NOW, "20260302160000", "0002") is None
    assert b.tcec.replay.check("MA0002", NOW, "20260302160000", "0001") is None


def test_failed_logins_at_one_process_slow_the_guesser_at_the_other(
    pair: tuple[Platform, Platform],
) -> None:
    a, b = pair
    a.accounts.add_user("lin", "correct horse battery", Role.ADMIN)
    for attempt in range(6):
        target = (a, b)[attempt % 2]
        with pytest.raises(LoginRefused):
            target.accounts.login("lin", "wrong password!!", "10.0.0.9")
    with pytest.raises(LoginRefused) as refused:
        b.accounts.login("lin", "correct horse battery", "10.0.0.9")
    retry_after_s = refused.value.retry_after_s
    assert retry_after_s is not None and retry_after_s >= 1
    # The user's own address is not locked out by someone else's failures.
    user, _, _ = a.accounts.login("lin", "correct horse battery", "10.0.0.1")
    assert user.username == "lin"


def test_the_embedded_default_keeps_guards_in_each_process(
    migrated_database_url: str,
) -> None:
    a, b = two(migrated_database_url, "memory")
    try:
        issued = a.tcec.tokens.issue("MA0001")
        assert b.tcec.tokens.partner_of(issued.token) is None
        assert a.tcec.replay.check("MA0001", NOW, "20260302160000", "0001") is None
        assert b.tcec.replay.check("MA0001", NOW, "20260302160000", "0001") is None
    finally:
        a.close()
        b.close()


def test_a_rate_limit_is_one_bucket_for_every_process(pair: tuple[Platform, Platform]) -> None:
    a, b = pair
    t = [1000.0]
    first = SqlRateLimiter(a.store.engine, "open_data", 3, clock=lambda: t[0])
    second = SqlRateLimiter(b.store.engine, "open_data", 3, clock=lambda: t[0])
    assert [first.take("10.0.0.9")[0], second.take("10.0.0.9")[0]] == [True, True]
    assert first.take("10.0.0.9")[:2] == (True, 0)
    allowed, remaining, wait = second.take("10.0.0.9")
    assert (allowed, remaining) == (False, 0) and wait == pytest.approx(20.0)
    assert second.take("10.0.0.10")[0]  # another client has its own bucket
    t[0] += 20
    assert first.take("10.0.0.9")[0]


def test_the_shared_login_records_give_the_waits_of_the_memory_ones(
    pair: tuple[Platform, Platform],
) -> None:
    """One rule (LoginThrottle), two places for its records: the same waits."""
    memory = LoginThrottle(MemoryRecords())
    shared = LoginThrottle(SqlThrottleRecords(pair[0].store.engine))
    rng = random.Random(4)
    now = NOW
    names, addresses = ["lin", "wu"], [f"10.0.0.{i}" for i in range(3)]
    for _ in range(400):
        now += timedelta(seconds=rng.choice([0.5, 2, 30, 400]))
        name, address = rng.choice(names), rng.choice(addresses)
        roll = rng.random()
        for throttle in (memory, shared):
            if roll < 0.8:
                throttle.failed(name, address, now)
            elif roll < 0.85:
                throttle.succeeded(name, address, now)
        for n in names:
            for addr in addresses:
                assert shared.wait(n, addr, now) == memory.wait(n, addr, now)
