"""Setting an operator's channel (app/channels.py): the service's rules, on the in-memory
store (tests/adapters/storage/test_fakes_agree.py holds it to the SQL one; the channel at
work, signed orders to a real peer: tests/adapters/webhook/test_channels.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from chargenet.adapters.webhook.signing import Sealer
from chargenet.app.channels import ChannelService
from chargenet.core.errors import Invalid
from chargenet.kit.clock import FixedClock
from tests.fakes import FakeChannelStore

pytestmark = pytest.mark.unit

START = datetime(2026, 3, 1, 8, tzinfo=UTC)


@pytest.fixture
def sealer() -> Sealer:
    key = Fernet.generate_key().decode()
    return Sealer(lambda: [key])


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def channels(sealer: Sealer, clock: FixedClock) -> ChannelService:
    return ChannelService(FakeChannelStore(), sealer.seal, clock)


def test_the_signing_secret_is_shown_once_and_kept_only_sealed(
    channels: ChannelService, sealer: Sealer
) -> None:
    secret = channels.set("OP1", "https://op1.example/orders")
    kept = channels.store.channel("OP1")
    assert kept is not None
    assert (kept.url, kept.enabled, kept.updated_at) == ("https://op1.example/orders", True, START)
    assert secret not in kept.secret_sealed
    assert sealer.open(kept.secret_sealed) == secret
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert channels.store.channel("OP2") is None  # another operator's is its own


def test_setting_a_channel_again_replaces_its_address_and_its_secret(
    channels: ChannelService, sealer: Sealer, clock: FixedClock
) -> None:
    first = channels.set("OP1", "https://op1.example/orders")
    clock.advance(timedelta(days=1))
    second = channels.set("OP1", "http://10.0.0.7:8080/hook", enabled=False)
    kept = channels.store.channel("OP1")
    assert kept is not None and second != first
    assert sealer.open(kept.secret_sealed) == second  # the old secret signs nothing more
    assert (kept.url, kept.enabled) == ("http://10.0.0.7:8080/hook", False)
    assert kept.updated_at == START + timedelta(days=1)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://op1.example/orders", "http(s) URL"),
        ("https:///orders", "http(s) URL"),
        ("op1.example/orders", "http(s) URL"),
        ("https://op1.example/" + "x" * 481, "at most 500 characters"),
    ],
)
def test_a_channel_that_is_not_a_short_http_url_is_refused_and_nothing_is_kept(
    channels: ChannelService, url: str, says: str
) -> None:
    with pytest.raises(Invalid, match=re.escape(says)):
        channels.set("OP1", url)
    assert channels.store.channel("OP1") is None


def test_a_channel_of_500_characters_is_kept(channels: ChannelService) -> None:
    url = "https://op1.example/" + "x" * 480
    channels.set("OP1", url)
    kept = channels.store.channel("OP1")
    assert kept is not None and kept.url == url
