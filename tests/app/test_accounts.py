"""Users, passwords and login sessions: the service's rules, on the in-memory store
(tests/adapters/storage/test_fakes_agree.py holds it to the SQL one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargenet.app.accounts import (
    AccountError,
    AccountService,
    LoginRefused,
    PasswordHasher,
)
from chargenet.app.login_throttle import ADDRESS_FAILURES, FREE_FAILURES, USER_FAILURES
from chargenet.core.access import Role
from chargenet.kit.clock import FixedClock
from tests.fakes import FakeUserStore

pytestmark = pytest.mark.unit

FAST = PasswordHasher(n=2**10, r=8, p=1)  # the real algorithm at a test's cost


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 5, 1, tzinfo=UTC))


@pytest.fixture
def store() -> FakeUserStore:
    return FakeUserStore()


@pytest.fixture
def accounts(store: FakeUserStore, clock: FixedClock) -> AccountService:
    return AccountService(store, clock, FAST)


def test_a_password_is_stored_only_as_a_salted_scrypt_hash(accounts: AccountService) -> None:
    user = accounts.add_user("xz", "correct horse", Role.REGULATOR, area_code="140900")
    again = accounts.add_user("xz2", "correct horse", Role.REGULATOR)
    assert user.password_hash.startswith("scrypt$n=1024,r=8,p=1$")
    assert "correct horse" not in user.password_hash
    assert user.password_hash != again.password_hash  # salted
    assert FAST.verify("correct horse", user.password_hash)
    assert not FAST.verify("correct horsE", user.password_hash)
    assert not FAST.verify("x", "md5$whatever")


def test_the_default_cost_is_owasps_and_a_hash_at_another_cost_still_verifies() -> None:
    production = PasswordHasher()
    encoded = production.hash("correct horse")
    assert encoded.startswith("scrypt$n=32768,r=8,p=3$")  # OWASP: N=2^15, r=8, p=3
    # verifying uses the parameters in the hash, whichever hasher verifies
    assert FAST.verify("correct horse", encoded)
    assert production.outdated(FAST.hash("correct horse")) and not production.outdated(encoded)


def test_login_gives_a_session_that_resolves_until_it_expires(
    accounts: AccountService, clock: FixedClock
) -> None:
    accounts.add_user("xz", "correct horse", Role.REGULATOR, area_code="140900")
    _user, token, session = accounts.login("xz", "correct horse")
    found = accounts.resolve(token)
    assert found is not None and found[0].principal().area_code == "140900"
    assert session.token_digest != token  # only the digest is kept
    clock.advance(timedelta(hours=13))
    assert accounts.resolve(token) is None


def test_logout_and_disabling_end_sessions(accounts: AccountService) -> None:
    accounts.add_user("op", "correct horse", Role.OPERATOR, operator_id="XZ-JB")
    _, first, _ = accounts.login("op", "correct horse")
    _, second, _ = accounts.login("op", "correct horse")
    accounts.logout(first)
    assert accounts.resolve(first) is None and accounts.resolve(second) is not None
    accounts.set_disabled("op", True)
    assert accounts.resolve(second) is None
    with pytest.raises(LoginRefused):
        accounts.login("op", "correct horse")


def _guess(accounts: AccountService, clock: FixedClock, name: str, address: str) -> int:
    """One wrong password from `address`, waiting as long as told first: the wait, in s."""
    waited = 0
    while True:
        with pytest.raises(LoginRefused) as refused:
            accounts.login(name, "wrong horse", address)
        if refused.value.retry_after_s is None:
            return waited
        waited += refused.value.retry_after_s
        clock.advance(timedelta(seconds=refused.value.retry_after_s))


def test_wrong_passwords_and_unknown_names_are_refused_alike_then_slowed(
    accounts: AccountService, clock: FixedClock
) -> None:
    accounts.add_user("xz", "correct horse", Role.ADMIN)
    with pytest.raises(LoginRefused) as unknown:
        accounts.login("nobody", "correct horse", "10.0.0.9")
    with pytest.raises(LoginRefused) as wrong:
        accounts.login("xz", "wrong horse", "10.0.0.9")
    assert str(unknown.value) == str(wrong.value)
    waits = [_guess(accounts, clock, "xz", "10.0.0.9") for _ in range(FREE_FAILURES + 3)]
    # free failures first, then each wait twice the one before
    assert waits == [0] * FREE_FAILURES + [1, 2, 4]
    with pytest.raises(LoginRefused) as throttled:
        accounts.login("xz", "correct horse", "10.0.0.9")  # the right password waits too
    assert throttled.value.retry_after_s == 8
    clock.advance(timedelta(seconds=8))
    assert accounts.login("xz", "correct horse", "10.0.0.9")[0].username == "xz"


def test_a_stranger_failing_on_purpose_does_not_lock_the_user_out(
    accounts: AccountService, clock: FixedClock
) -> None:
    accounts.add_user("admin", "correct horse", Role.ADMIN)
    start, guesses = clock.now(), 0
    while clock.now() - start < timedelta(hours=1):  # an attacker hammers the admin account
        _guess(accounts, clock, "admin", "203.0.113.7")
        guesses += 1
        # meanwhile the admin, elsewhere, logs in at once
        assert accounts.login("admin", "correct horse", "10.1.2.3")[0].username == "admin"
    assert guesses <= 20  # an hour of trying buys about twenty guesses


def test_a_guess_spread_over_many_addresses_slows_strangers_not_the_users_own_places(
    accounts: AccountService, clock: FixedClock
) -> None:
    accounts.add_user("admin", "correct horse", Role.ADMIN)
    accounts.login("admin", "correct horse", "10.1.2.3")  # where the admin works
    for n in range(USER_FAILURES):
        with pytest.raises(LoginRefused):
            accounts.login("admin", "guess", f"198.51.{n // 250}.{n % 250}")
    with pytest.raises(LoginRefused) as stranger:
        accounts.login("admin", "correct horse", "192.0.2.200")
    assert stranger.value.retry_after_s is not None
    assert accounts.login("admin", "correct horse", "10.1.2.3")[0].username == "admin"


def test_one_address_trying_many_names_is_slowed(
    accounts: AccountService, clock: FixedClock
) -> None:
    accounts.add_user("xz", "correct horse", Role.ADMIN)
    for n in range(ADDRESS_FAILURES):
        with pytest.raises(LoginRefused):
            accounts.login(f"user{n}", "guess", "203.0.113.9")
    with pytest.raises(LoginRefused) as slowed:
        accounts.login("xz", "correct horse", "203.0.113.9")
    assert slowed.value.retry_after_s is not None
    assert accounts.login("xz", "correct horse", "10.0.0.1")[0].username == "xz"


def test_an_outdated_hash_is_replaced_at_the_next_login(
    store: FakeUserStore, clock: FixedClock
) -> None:
    old = AccountService(store, clock, PasswordHasher(n=2**9, r=8, p=1))
    old.add_user("xz", "correct horse", Role.ADMIN)
    new = AccountService(store, clock, FAST)
    new.login("xz", "correct horse")
    stored = store.user("xz")
    assert stored is not None and stored.password_hash.startswith("scrypt$n=1024,")


@pytest.mark.parametrize(
    ("name", "password", "role", "operator", "area", "reason"),
    [
        ("x", "long enough", Role.ADMIN, None, None, "user name"),
        ("xz", "short", Role.ADMIN, None, None, "at least 8"),
        ("xz", "long enough", Role.PUBLIC, None, None, "anonymous"),
        ("xz", "long enough", Role.OPERATOR, None, None, "needs an operator id"),
        ("xz", "long enough", Role.ADMIN, None, "140900", "jurisdiction"),
    ],
)
def test_users_that_make_no_sense_are_refused(
    accounts: AccountService,
    name: str,
    password: str,
    role: Role,
    operator: str | None,
    area: str | None,
    reason: str,
) -> None:
    with pytest.raises(AccountError, match=reason):
        accounts.add_user(name, password, role, operator_id=operator, area_code=area)


def test_a_user_name_is_taken_once(accounts: AccountService) -> None:
    accounts.add_user("xz", "correct horse", Role.ADMIN)
    with pytest.raises(AccountError, match="exists"):
        accounts.add_user("xz", "other horse", Role.ADMIN)
