"""Users, passwords and login sessions, on the real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargenet.app.accounts import (
    MAX_FAILURES,
    AccountError,
    AccountService,
    LoginRefused,
    PasswordHasher,
)
from chargenet.bootstrap import Platform
from chargenet.core.access import Role
from chargenet.kit.clock import FixedClock

FAST = PasswordHasher(n=2**10, r=8, p=1)  # the real algorithm at a test's cost


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 5, 1, tzinfo=UTC))


@pytest.fixture
def accounts(platform: Platform, clock: FixedClock) -> AccountService:
    return AccountService(platform.accounts.store, clock, FAST)


def test_a_password_is_stored_only_as_a_salted_scrypt_hash(accounts: AccountService) -> None:
    user = accounts.add_user("xz", "correct horse", Role.REGULATOR, area_code="140900")
    again = accounts.add_user("xz2", "correct horse", Role.REGULATOR)
    assert user.password_hash.startswith("scrypt$n=1024,r=8,p=1$")
    assert "correct horse" not in user.password_hash
    assert user.password_hash != again.password_hash  # salted
    assert FAST.verify("correct horse", user.password_hash)
    assert not FAST.verify("correct horsE", user.password_hash)
    assert not FAST.verify("x", "md5$whatever")


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


def test_wrong_passwords_and_unknown_names_are_refused_alike_then_throttled(
    accounts: AccountService, clock: FixedClock
) -> None:
    accounts.add_user("xz", "correct horse", Role.ADMIN)
    with pytest.raises(LoginRefused) as unknown:
        accounts.login("nobody", "correct horse")
    with pytest.raises(LoginRefused) as wrong:
        accounts.login("xz", "wrong horse")
    assert str(unknown.value) == str(wrong.value)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(LoginRefused):
            accounts.login("xz", "wrong horse")
    with pytest.raises(LoginRefused) as throttled:
        accounts.login("xz", "correct horse")  # even the right password waits now
    assert throttled.value.retry_after_s is not None
    clock.advance(timedelta(minutes=16))
    assert accounts.login("xz", "correct horse")[0].username == "xz"


def test_an_outdated_hash_is_replaced_at_the_next_login(
    platform: Platform, clock: FixedClock
) -> None:
    old = AccountService(platform.accounts.store, clock, PasswordHasher(n=2**9, r=8, p=1))
    old.add_user("xz", "correct horse", Role.ADMIN)
    new = AccountService(platform.accounts.store, clock, FAST)
    new.login("xz", "correct horse")
    stored = platform.accounts.store.user("xz")
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
