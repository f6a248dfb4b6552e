"""Whether a token may charge: the one rule every intake asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chargenet.core.drivers import (
    DEVELOPMENT_TOKEN_KEY,
    AuthStatus,
    TokenKey,
    TokenKind,
    TokenState,
    authorise,
    token_problems,
)

NOW = datetime(2025, 5, 1, 8, tzinfo=UTC)


def _token(
    *, blocked: bool = False, expires_at: datetime | None = None, driver_closed: bool = False
) -> TokenState:
    return TokenState(
        digest=DEVELOPMENT_TOKEN_KEY.digest("04A1B2C3"),
        driver_id="d1",
        kind=TokenKind.RFID,
        blocked=blocked,
        expires_at=expires_at,
        driver_closed=driver_closed,
    )


def test_a_token_is_answered_invalid_blocked_expired_no_credit_or_accepted() -> None:
    assert authorise(None, NOW).status is AuthStatus.INVALID
    assert authorise(_token(blocked=True), NOW).status is AuthStatus.BLOCKED
    assert authorise(_token(driver_closed=True), NOW).status is AuthStatus.BLOCKED
    expired = authorise(_token(expires_at=NOW - timedelta(seconds=1)), NOW)
    assert expired.status is AuthStatus.EXPIRED
    assert authorise(_token(), NOW, available=Decimal(0)).status is AuthStatus.NO_CREDIT
    ok = authorise(_token(expires_at=NOW + timedelta(days=1)), NOW, available=Decimal("5"))
    assert ok.status is AuthStatus.ACCEPTED and ok.driver_id == "d1"


def test_a_blocked_card_stays_blocked_whatever_its_wallet_holds() -> None:
    assert authorise(_token(blocked=True), NOW, available=Decimal(999)).status is AuthStatus.BLOCKED


def test_tokens_are_kept_as_digests_that_do_not_reveal_them() -> None:
    key = TokenKey.of("a deployment's secret")
    digest = key.digest("04A1B2C3")
    assert "04A1B2C3" not in digest and len(digest) == 40
    assert digest == key.digest("04a1b2c3") != key.digest("04A1B2C4")  # case does not count
    assert digest != DEVELOPMENT_TOKEN_KEY.digest("04A1B2C3")
    assert "secret" not in repr(key)


def test_token_text_is_checked_by_kind() -> None:
    assert token_problems(TokenKind.RFID, "04A1B2C3") == []
    assert token_problems(TokenKind.RFID, "X" * 21)  # beyond a 1.6 idTag
    assert token_problems(TokenKind.VIN, "LSVAU2180N2183294") == []
    assert token_problems(TokenKind.VIN, "LSVAU2180N218329O")  # O is not in a VIN
    assert token_problems(TokenKind.APP, "has space")
