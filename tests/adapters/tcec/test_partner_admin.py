"""Adding, changing and removing partner platforms (PartnerAdmin) and who the directory
answers for (PartnerDirectory): the rules, on the in-memory partner store
(tests/adapters/storage/test_fakes_agree.py holds it to the SQL one; the command line
on a real database: tests/entrypoints/test_cli_tcec.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from chargenet.adapters.tcec.crypto import KeySet, Vault
from chargenet.adapters.tcec.partners import PartnerAdmin, PartnerDirectory
from chargenet.kit.clock import FixedClock
from tests.fakes import FakePartnerStore

pytestmark = pytest.mark.unit

START = datetime(2026, 3, 1, 8, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def store() -> FakePartnerStore:
    return FakePartnerStore()


@pytest.fixture
def vault() -> Vault:
    key = Fernet.generate_key().decode()
    return Vault(lambda: [key])


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def admin(store: FakePartnerStore, vault: Vault, clock: FixedClock) -> PartnerAdmin:
    return PartnerAdmin(store, vault, clock)


def test_a_new_partner_gets_its_secret_and_keys_once_and_the_store_keeps_neither_in_clear(
    admin: PartnerAdmin, store: FakePartnerStore, vault: Vault
) -> None:
    given = admin.add(partner_id="MA59J8YL8", operator_id="OPX", name="晋北充电")
    record = store.partner("MA59J8YL8")
    assert record is not None and record.enabled and record.created_at == START
    assert record.operator_id == "OPX" and record.outbound_keys is None
    assert given.operator_secret not in record.inbound_secret_hash
    assert given.keys.data_key not in record.inbound_keys
    assert given.keys.sig_key not in record.inbound_keys
    assert vault.open(record.inbound_keys)[0] == given.keys
    directory = PartnerDirectory(store, vault, SHANGHAI)
    partner = directory.get("MA59J8YL8")
    assert partner is not None and partner.secret_matches(given.operator_secret)
    assert not partner.secret_matches("another-secret")


def test_a_partner_id_and_an_operator_are_taken_once(admin: PartnerAdmin) -> None:
    admin.add(partner_id="P1", operator_id="OPX", name="one")
    with pytest.raises(ValueError, match="partner P1 exists"):
        admin.add(partner_id="P1", operator_id="OPY", name="again")
    with pytest.raises(ValueError, match="operator OPX already has a partner platform"):
        admin.add(partner_id="P2", operator_id="OPX", name="second for OPX")
    assert [r.partner_id for r in admin.records()] == ["P1"]


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"partner_id": "MA-59"}, "letters and digits"),
        ({"partner_id": "X" * 33}, "letters and digits"),
        ({"datum": "BD09"}, "datum must be one of GCJ02, WGS84"),
        ({"base_url": "ftp://op.example"}, "must start with http"),
        ({"pull": True}, "pulling needs the partner's base_url"),
    ],
)
def test_a_partner_that_cannot_work_is_refused_and_not_kept(
    admin: PartnerAdmin, store: FakePartnerStore, kw: dict[str, object], says: str
) -> None:
    fields: dict[str, object] = {"partner_id": "P1", "operator_id": "OPX", "name": "n", **kw}
    with pytest.raises(ValueError, match=says):
        admin.add(**fields)  # type: ignore[arg-type]
    assert store.partners() == []


def test_an_update_changes_only_what_may_change_and_still_checks_the_whole(
    admin: PartnerAdmin, clock: FixedClock
) -> None:
    admin.add(partner_id="P1", operator_id="OPX", name="one", base_url="https://p1.example")
    clock.advance(timedelta(days=2))
    updated = admin.update("P1", name="renamed", pull=True)
    assert (updated.name, updated.pull, updated.operator_id) == ("renamed", True, "OPX")
    assert (updated.created_at, updated.updated_at) == (START, START + timedelta(days=2))
    with pytest.raises(ValueError, match="cannot change operator_id"):
        admin.update("P1", operator_id="OPY")
    with pytest.raises(ValueError, match="pulling needs"):
        admin.update("P1", base_url=None)  # it pulls: it needs its address
    with pytest.raises(ValueError, match="no partner P9"):
        admin.update("P9", name="x")
    [kept] = admin.records()
    assert kept == updated


def test_a_disabled_or_removed_partner_is_not_answered_for(
    admin: PartnerAdmin, store: FakePartnerStore, vault: Vault
) -> None:
    admin.add(partner_id="P1", operator_id="OPX", name="one")
    admin.add(partner_id="P2", operator_id="OPY", name="two")
    admin.update("P1", enabled=False)
    directory = PartnerDirectory(store, vault, SHANGHAI, ttl_s=0.0)
    assert directory.get("P1") is None and directory.by_operator("OPX") is None
    assert [p.partner_id for p in directory.all()] == ["P2"]
    assert admin.remove("P2") and not admin.remove("P2")
    assert directory.get("P2") is None and directory.all() == []


def test_rotating_a_partners_keys_retires_the_old_secret(
    admin: PartnerAdmin, store: FakePartnerStore, vault: Vault
) -> None:
    old = admin.add(partner_id="P1", operator_id="OPX", name="one")
    new = admin.rotate_inbound("P1")
    directory = PartnerDirectory(store, vault, SHANGHAI)
    partner = directory.get("P1")
    assert partner is not None and partner.inbound_keys == new.keys != old.keys
    assert partner.secret_matches(new.operator_secret)
    assert not partner.secret_matches(old.operator_secret)


def test_the_keys_for_calling_a_partner_are_kept_sealed_with_their_secret(
    admin: PartnerAdmin, store: FakePartnerStore, vault: Vault
) -> None:
    admin.add(partner_id="P1", operator_id="OPX", name="one")
    theirs = KeySet.generate()
    with pytest.raises(ValueError, match="cannot be empty"):
        admin.set_outbound("P1", "", theirs)
    admin.set_outbound("P1", "their-secret-123", theirs)
    record = store.partner("P1")
    assert record is not None and record.outbound_keys is not None
    assert "their-secret-123" not in record.outbound_keys
    partner = PartnerDirectory(store, vault, SHANGHAI).get("P1")
    assert partner is not None
    assert (partner.outbound_keys, partner.outbound_secret) == (theirs, "their-secret-123")
