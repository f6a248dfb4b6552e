"""What the OCPI party needs from storage, declared by the application: a directory of the
platforms we exchange data with (peers, their credentials, which party is which operator)
and the reads its senders, its receiver checks and the open-data feed make.

Credentials are configuration, not facts: they are kept out of the event log (which is
replicated and read by regulators); only SHA-256 digests of the tokens presented to us are
stored. Rows are TypedDicts (plain dicts at run time); times are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypedDict

# What a peer sent as its endpoints and roles: its JSON objects, as they came.
Json = dict[str, Any]


class PartyOwnerRow(TypedDict):
    operator_id: str
    peer_id: str | None  # the peer that may write the party's objects; None: us


class PartyRow(PartyOwnerRow):
    country_code: str
    party_id: str
    created_at: datetime


class OcpiOperatorRow(TypedDict):
    operator_id: str
    name: str
    as_of: datetime


class StatementRow(TypedDict):
    """An operator platform's own statement of one of its objects (`ObjectStated`)."""

    object_id: str
    body: str  # JSON object
    as_of: datetime  # its last_updated


class EvseConnectorsRow(TypedDict):
    operator_id: str
    station_id: str
    retired_at: datetime | None  # the charger's
    as_of: datetime  # the charger's
    connector_ids: list[str]  # in service


class ConnectorOwnerRow(TypedDict):
    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str


class LiveStatusRow(TypedDict):
    connector_id: str
    charger_id: str
    station_id: str
    evse_no: int
    status: str  # a `ConnectorStatus` value, effective (presence and stop orders applied)
    status_since: datetime | None  # as reported


class OcpiStationRow(TypedDict):
    """A station as registered (the receiver's check of a Location it is sent)."""

    station_id: str
    operator_id: str
    name: str
    name_en: str | None
    address: str | None
    lat: float
    lon: float
    area_code: str | None
    area_placed: str | None  # given | nearest | code
    province_code: str | None
    city_code: str | None
    county_code: str | None
    township_code: str | None
    village_code: str | None
    category: str  # a `SiteCategory` value
    scenic_grade: int | None
    access: str  # an `Access` value
    parking_spaces: int | None
    charging_spaces: int | None
    opening_hours: str
    commissioned_on: date | None
    source_adapter: str
    registered_at: datetime
    retired_at: datetime | None
    as_of: datetime
    public_hours: str | None
    public_hours_as_of: datetime | None


class OcpiConnectorRow(TypedDict):
    """A connector (retired ones too) with its charger, live state, tariffs and the
    operator platform's own statement of its EVSE: what an OCPI Connector and EVSE are
    made of."""

    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    evse_no: int
    evse_uid: str | None
    connector_no: int
    standard: str
    power_type: str
    max_power_w: int
    max_voltage_v: int | None
    max_current_a: int | None
    is_pile: bool
    is_fast: bool
    registered_at: datetime
    retired_at: datetime | None
    as_of: datetime
    protocol: str | None  # the charger's
    online: bool | None  # the charger's; None: presence not tracked
    charger_as_of: datetime
    presence_since: datetime | None
    charger_retired_at: datetime | None
    vendor: str | None
    model: str | None
    reported_status: str | None  # a `ConnectorStatus` value, as reported
    status_since: datetime | None  # as reported
    stopped: bool  # under a regulator's stop order in force
    stop_changed_at: datetime | None  # the newest stop order issued or lifted for it
    tariff_ids: list[str]  # in the operator's order
    tariffs_as_of: datetime | None
    evse_stated: str | None  # JSON object: the operator platform's own EVSE
    status: str  # a `ConnectorStatus` value, effective (presence and stop orders applied)


class OcpiLocationRow(OcpiStationRow):
    """A station with its operator's and city's names, the operator platform's own
    statement of it, when anything in it last changed, and its connectors."""

    operator_name: str
    city_name: str | None
    stated: str | None  # JSON object: the operator platform's own Location
    last_updated: datetime  # newest change to anything in it, live status included
    connectors: list[OcpiConnectorRow]  # by charger, EVSE and connector number


class OcpiChargerRow(TypedDict):
    """A charger with its connectors (retired ones included) and their live state."""

    charger_id: str
    station_id: str
    operator_id: str
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware: str | None
    protocol: str | None
    online: bool | None
    presence_since: datetime | None
    presence_at: datetime | None
    registered_at: datetime
    retired_at: datetime | None
    as_of: datetime
    commissioned_at: datetime | None
    connectors: list[OcpiConnectorRow]


class OcpiSessionRow(TypedDict):
    """A charging session with the numbers of its connector and where its station and
    the operator platform's own statement of it came from."""

    session_id: str
    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    state: str  # a `SessionState` value
    started_at: datetime
    ended_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int | None
    peak_power_w: int | None
    stop_reason: str | None
    cost_amount: Decimal | None
    currency: str | None
    flags: str
    token_hash: str | None
    source_adapter: str
    as_of: datetime
    evse_no: int
    evse_uid: str | None
    connector_no: int
    station_source: str  # the station's source adapter
    protocol: str | None  # the charger's
    stated: str | None  # JSON object, as the operator's platform stated it


class OcpiCdrRow(TypedDict):
    """A charge detail record with its connector, station and city, and the operator
    platform's own statement of it."""

    cdr_id: str
    connector_id: str
    charger_id: str
    station_id: str
    operator_id: str
    session_id: str | None
    started_at: datetime
    ended_at: datetime
    energy_wh: int
    charging_time_s: int | None
    parking_time_s: int | None
    cost_amount: Decimal
    cost_incl_vat: Decimal | None
    currency: str
    auth_method: str
    token_hash: str | None
    tariff_ids: str  # comma-separated global tariff ids
    credit: bool
    credit_reference_id: str | None
    remark: str | None
    source_adapter: str
    as_of: datetime  # the record's last_updated
    evse_no: int
    evse_uid: str | None
    connector_no: int
    standard: str
    power_type: str
    max_power_w: int
    protocol: str | None  # the charger's
    station_name: str
    address: str | None
    lat: float
    lon: float
    station_source: str  # the station's source adapter
    city_name: str | None
    stated: str | None  # JSON object, as the operator's platform stated it


class OcpiTariffRow(TypedDict):
    """A tariff as published (`TariffPublished`), with the operator platform's own
    statement of it when it came over OCPI."""

    tariff_id: str
    operator_id: str
    currency: str
    kind: str | None  # an OCPI TariffType
    alt_text: str
    elements: str  # JSON, as published
    energy_per_kwh: Decimal | None
    per_session: Decimal | None
    time_per_hour: Decimal | None
    parking_per_hour: Decimal | None
    valid_from: datetime | None
    valid_until: datetime | None
    withdrawn_at: datetime | None
    source_adapter: str
    registered_at: datetime | None  # first published: the order senders page in
    as_of: datetime
    stated: str | None  # JSON object, as the operator's platform stated it


class TariffPriceRow(TypedDict):
    """A tariff's headline prices (VAT included where stated)."""

    tariff_id: str
    currency: str
    kind: str | None  # an OCPI TariffType
    energy_per_kwh: Decimal | None
    per_session: Decimal | None
    time_per_hour: Decimal | None
    parking_per_hour: Decimal | None
    alt_text: str


class PeerKind(StrEnum):
    CPO = "cpo"  # an operator's back-end: writes its own party's objects, reads its own
    PLATFORM = "platform"  # another chargenet feeding us (a city, seen from its province)
    UPSTREAM = "upstream"  # a platform we feed (the province, seen from a city)
    # a party that roams through us as a hub (an eMSP, an NSP …): its messages to other
    # connected parties are routed, it writes nothing of its own here
    EMSP = "emsp"


class PeerStatus(StrEnum):
    PENDING = "pending"  # token A issued or registration under way
    REGISTERED = "registered"
    REVOKED = "revoked"


class CredentialKind(StrEnum):
    A = "A"  # registration only: versions, version details, credentials
    C = "C"  # every module


@dataclass(frozen=True, slots=True)
class Party:
    country_code: str
    party_id: str

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}"


@dataclass(frozen=True, slots=True)
class Peer:
    peer_id: str
    kind: PeerKind
    name: str
    status: PeerStatus
    versions_url: str | None = None
    version: str | None = None
    endpoints: tuple[Json, ...] = ()
    roles: tuple[Json, ...] = ()
    token_out: str | None = None
    writable: Mapping[Party, str] = field(default_factory=dict)  # parties it may write → operator

    def party(self) -> Party | None:
        """The party requests to this platform go to (OCPI-to-*): its HUB role's, else its
        first role's (4.1.8.6)."""
        ordered = sorted(self.roles, key=lambda r: r.get("role") != "HUB")
        for role in ordered:
            if role.get("country_code") and role.get("party_id"):
                return Party(str(role["country_code"]), str(role["party_id"]))
        return None

    def parties(self) -> dict[Party, str]:
        """Every party this platform speaks for, with its role: the roles of its
        credentials, and (a hub's clients) the parties it may write, as CPOs."""
        out = dict.fromkeys(self.writable, "CPO")
        for role in self.roles:
            if role.get("country_code") and role.get("party_id"):
                key = Party(str(role["country_code"]).upper(), str(role["party_id"]).upper())
                out[key] = str(role.get("role") or "OTHER")
        return out

    def endpoint(self, module: str, role: str) -> str | None:
        for ep in self.endpoints:
            if ep.get("identifier") == module and ep.get("role", role) == role:
                return str(ep["url"])
        return None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling us, by the token they presented."""

    peer: Peer
    credential: CredentialKind
    token_hash: str


class OcpiDirectory(Protocol):
    def dispose(self) -> None: ...

    def add_peer(self, peer_id: str, kind: PeerKind, name: str, now: datetime) -> None: ...

    def update_peer(self, peer_id: str, now: datetime, **values: Any) -> None:
        """Set any of: status, versions_url, version, endpoints, roles, token_out, name."""
        ...

    def peer(self, peer_id: str) -> Peer | None: ...

    def peers(self, kind: PeerKind | None = None) -> list[Peer]: ...

    def add_credential(
        self, token_hash: str, peer_id: str, kind: CredentialKind, now: datetime
    ) -> None: ...

    def caller(self, token_hash: str) -> Caller | None:
        """The peer presenting a token with this digest, unless revoked."""
        ...

    def revoke_credentials(
        self,
        peer_id: str,
        now: datetime,
        kind: CredentialKind | None = None,
        token_hash: str | None = None,
        only: bool = False,
    ) -> int:
        """Revoke a peer's live credentials (of one kind, or all); with `token_hash`, all but
        that one — or, with `only`, just that one. How many were revoked."""
        ...

    def set_party(
        self, party: Party, operator_id: str, peer_id: str | None, now: datetime
    ) -> None: ...

    def party(self, party: Party) -> PartyOwnerRow | None:
        """Who a known party is."""
        ...

    def parties(self) -> list[PartyRow]: ...

    def cursor(self, peer_id: str, module: str) -> datetime | None: ...

    def save_cursor(
        self,
        peer_id: str,
        module: str,
        synced_to: datetime | None,
        now: datetime,
        objects: int,
        error: str | None,
    ) -> None: ...


class OcpiQueries(Protocol):
    def operators(self) -> list[OcpiOperatorRow]: ...

    def statements(self, kind: str) -> list[StatementRow]:
        """The newest statement of every object of a kind (`ObjectStated`)."""
        ...

    def station(self, station_id: str) -> OcpiStationRow | None: ...

    def charger(self, charger_id: str) -> OcpiChargerRow | None:
        """The charger with its connectors (retired ones included) and their live state."""
        ...

    def stop_order_station(self, stop_id: str) -> str | None:
        """The station a regulator's stop order concerns (it shows out of order)."""
        ...

    def find_station_ids(self, location_id: str) -> list[str]: ...

    def evse_connectors(self, charger_id: str) -> EvseConnectorsRow | None:
        """Cheap lookup for status updates."""
        ...

    def connector_owner(self, connector_id: str) -> ConnectorOwnerRow | None: ...

    def locations(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        station_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        public_only: bool = False,
        include_retired: bool = True,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiLocationRow], int]:
        """Stations with `last_updated` (newest change to anything in them, live status
        included), their chargers, connectors, live status and tariff ids."""
        ...

    def sessions(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        session_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiSessionRow], int]: ...

    def cdrs(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        cdr_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiCdrRow], int]: ...

    def tariffs(
        self,
        *,
        operator_ids: Sequence[str] | None = None,
        tariff_ids: Sequence[str] | None = None,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[OcpiTariffRow], int]: ...

    def live_status(
        self, *, since: datetime | None = None, offset: int = 0, limit: int = 1000
    ) -> tuple[list[LiveStatusRow], int]:
        """Connectors of public stations in service with their effective status."""
        ...

    def tariff_prices(self, tariff_ids: Sequence[str]) -> dict[str, TariffPriceRow]:
        """Headline prices of tariffs in force, by tariff id."""
        ...
