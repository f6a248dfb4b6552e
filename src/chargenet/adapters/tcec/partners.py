"""Partner platforms: who they are, their keys (opened from the vault), and ids in their
own namespace, so that two operators' station "1001" never meet."""

from __future__ import annotations

import threading
import time as monotonic
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from chargenet.adapters.tcec.crypto import KeySet, Vault, hash_secret, new_secret, secret_matches
from chargenet.app.interconnect import PartnerRecord, PartnerStore
from chargenet.core.ids import ChargerId, ConnectorId, OperatorId, SessionId, StationId
from chargenet.kit.clock import Clock

DATUMS = ("GCJ02", "WGS84")
_PREFIX = "tcec"


@dataclass(frozen=True, kw_only=True)
class Partner:
    partner_id: str  # their OperatorID
    operator_id: OperatorId  # chargenet's operator they speak for
    name: str
    base_url: str | None
    pull: bool
    datum: str
    enabled: bool
    zone: ZoneInfo  # the wall clock of their TimeStamps and business times
    inbound_keys: KeySet  # they call us: requests and our answers
    inbound_secret_hash: str
    outbound_keys: KeySet | None  # we call them
    outbound_secret: str | None
    last_station_pull: datetime | None = None

    def __repr__(self) -> str:
        return f"Partner({self.partner_id!r} → {self.operator_id!r})"

    # ids: tcec:<their OperatorID>:<their id>
    @property
    def prefix(self) -> str:
        return f"{_PREFIX}:{self.partner_id}:"

    def station_id(self, local: str) -> StationId:
        return StationId(self.prefix + local)

    def charger_id(self, local: str) -> ChargerId:
        return ChargerId(self.prefix + local)

    def connector_id(self, local: str) -> ConnectorId:
        return ConnectorId(self.prefix + local)

    def session_id(self, local: str) -> SessionId:
        return SessionId(self.prefix + local)

    def local(self, global_id: str) -> str | None:
        """Their own id for one of ours, or None when the id is not in their namespace."""
        return global_id[len(self.prefix) :] if global_id.startswith(self.prefix) else None

    def secret_matches(self, secret: str) -> bool:
        return secret_matches(secret, self.inbound_secret_hash)


def partner_of_id(global_id: str) -> str | None:
    """The partner (OperatorID) whose namespace an id is in."""
    parts = global_id.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == _PREFIX else None


class PartnerDirectory:
    """Partners by OperatorID, opened once and cached; changes made by `chargenet tcec`
    in another process show within `ttl_s`."""

    def __init__(
        self, store: PartnerStore, vault: Vault, zone: ZoneInfo, ttl_s: float = 5.0
    ) -> None:
        self._store = store
        self._vault = vault
        self._zone = zone
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._by_id: dict[str, Partner] = {}
        self._loaded = -1e9

    def _open(self, record: PartnerRecord) -> Partner:
        inbound, _ = self._vault.open(record.inbound_keys)
        outbound, secret = (
            self._vault.open(record.outbound_keys) if record.outbound_keys else (None, None)
        )
        return Partner(
            partner_id=record.partner_id,
            operator_id=OperatorId(record.operator_id),
            name=record.name,
            base_url=record.base_url,
            pull=record.pull,
            datum=record.datum,
            enabled=record.enabled,
            zone=self._zone,
            inbound_keys=inbound,
            inbound_secret_hash=record.inbound_secret_hash,
            outbound_keys=outbound,
            outbound_secret=secret or None,
            last_station_pull=record.last_station_pull,
        )

    def reload(self) -> None:
        opened = {r.partner_id: self._open(r) for r in self._store.partners()}
        with self._lock:
            self._by_id = opened
            self._loaded = monotonic.monotonic()

    def _fresh(self, force: bool = False) -> dict[str, Partner]:
        stale = monotonic.monotonic() - self._loaded > (1.0 if force else self._ttl)
        if stale:
            self.reload()
        return self._by_id

    def cached(self, partner_id: str) -> Partner | None:
        """An enabled partner from what is loaded, when that is fresh, without touching the
        database; None when `get` must ask (blocking: run it in a thread)."""
        if monotonic.monotonic() - self._loaded > self._ttl:
            return None
        found = self._by_id.get(partner_id)
        return found if found is not None and found.enabled else None

    def get(self, partner_id: str) -> Partner | None:
        """An enabled partner; an unknown id reloads (at most once a second)."""
        found = self._fresh().get(partner_id)
        if found is None:
            found = self._fresh(force=True).get(partner_id)
        return found if found is not None and found.enabled else None

    def by_operator(self, operator_id: str) -> Partner | None:
        for partner in self._fresh().values():
            if partner.operator_id == operator_id and partner.enabled:
                return partner
        return None

    def all(self) -> list[Partner]:
        return [p for p in self._fresh().values() if p.enabled]


@dataclass(frozen=True, kw_only=True)
class InboundCredentials:
    """What chargenet hands a new partner, once: their OperatorSecret and the keys of
    messages they send (and of our answers)."""

    partner_id: str
    operator_secret: str
    keys: KeySet


class PartnerAdmin:
    """Adding, changing and removing partners (the `chargenet tcec` commands)."""

    def __init__(self, store: PartnerStore, vault: Vault, clock: Clock) -> None:
        self._store = store
        self._vault = vault
        self._clock = clock

    def add(
        self,
        *,
        partner_id: str,
        operator_id: str,
        name: str,
        base_url: str | None = None,
        pull: bool = False,
        datum: str = "GCJ02",
    ) -> InboundCredentials:
        if self._store.partner(partner_id) is not None:
            raise ValueError(f"partner {partner_id} exists; use `chargenet tcec update`")
        if any(p.operator_id == operator_id for p in self._store.partners()):
            raise ValueError(f"operator {operator_id} already has a partner platform")
        _check(partner_id, base_url, pull, datum)
        secret, keys = new_secret(), KeySet.generate()
        now = self._clock.now()
        self._store.save(
            PartnerRecord(
                partner_id=partner_id,
                operator_id=operator_id,
                name=name,
                base_url=base_url,
                pull=pull,
                datum=datum,
                enabled=True,
                inbound_secret_hash=hash_secret(secret),
                inbound_keys=self._vault.seal(keys),
                outbound_keys=None,
                created_at=now,
                updated_at=now,
            )
        )
        return InboundCredentials(partner_id=partner_id, operator_secret=secret, keys=keys)

    def records(self) -> list[PartnerRecord]:
        return self._store.partners()

    def _require(self, partner_id: str) -> PartnerRecord:
        record = self._store.partner(partner_id)
        if record is None:
            raise ValueError(f"no partner {partner_id}")
        return record

    def update(self, partner_id: str, **changes: object) -> PartnerRecord:
        record = self._require(partner_id)
        allowed = {"name", "base_url", "pull", "datum", "enabled"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        updated = replace(record, **changes, updated_at=self._clock.now())  # type: ignore[arg-type]
        _check(updated.partner_id, updated.base_url, updated.pull, updated.datum)
        self._store.save(updated)
        return updated

    def set_outbound(self, partner_id: str, operator_secret: str, keys: KeySet) -> None:
        """The secret and keys the partner gave chargenet for calling them."""
        if not operator_secret:
            raise ValueError("the partner's OperatorSecret cannot be empty")
        record = self._require(partner_id)
        self._store.save(
            replace(
                record,
                outbound_keys=self._vault.seal(keys, operator_secret),
                updated_at=self._clock.now(),
            )
        )

    def rotate_inbound(self, partner_id: str) -> InboundCredentials:
        record = self._require(partner_id)
        secret, keys = new_secret(), KeySet.generate()
        self._store.save(
            replace(
                record,
                inbound_secret_hash=hash_secret(secret),
                inbound_keys=self._vault.seal(keys),
                updated_at=self._clock.now(),
            )
        )
        return InboundCredentials(partner_id=partner_id, operator_secret=secret, keys=keys)

    def reseal_all(self) -> int:
        """Re-seal every partner's keys under the newest master key (after adding one)."""
        count = 0
        for record in self._store.partners():
            self._store.save(
                replace(
                    record,
                    inbound_keys=self._vault.reseal(record.inbound_keys),
                    outbound_keys=self._vault.reseal(record.outbound_keys)
                    if record.outbound_keys
                    else None,
                )
            )
            count += 1
        return count

    def remove(self, partner_id: str) -> bool:
        return self._store.remove(partner_id)


def _check(partner_id: str, base_url: str | None, pull: bool, datum: str) -> None:
    if not partner_id or len(partner_id) > 32 or not partner_id.isalnum():
        raise ValueError("a partner's OperatorID is 1..32 letters and digits")
    if datum not in DATUMS:
        raise ValueError(f"datum must be one of {', '.join(DATUMS)}")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise ValueError("base_url must start with http:// or https://")
    if pull and not base_url:
        raise ValueError("pulling needs the partner's base_url")
