"""OCPI 2.2.1 objects as received: validated shapes (msgspec) of the fields chargenet reads.
Fields not declared here are accepted; the receiver keeps them in the object as stated.
Times stay text here and are parsed by `wire.parse_time` (UTC, with OCPI's own leniency)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

import msgspec

from chargenet.adapters.ocpi.wire import OcpiError, Status

CiString = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
# A CDR id may be 39 long: a credit CDR appends to the id it credits (mod_cdrs, CDR object).
CdrId = Annotated[str, msgspec.Meta(min_length=1, max_length=39)]
CountryCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$")]
PartyId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{3}$")]
Latitude = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]{1,2}\.[0-9]{5,7}$")]
Longitude = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]{1,3}\.[0-9]{5,7}$")]


class GeoLocation(msgspec.Struct):
    latitude: Latitude
    longitude: Longitude


class RegularHours(msgspec.Struct):
    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)]
    period_begin: str
    period_end: str


class Hours(msgspec.Struct):
    twentyfourseven: bool
    regular_hours: list[RegularHours] = []


class BusinessDetails(msgspec.Struct):
    name: str
    website: str | None = None


class Connector(msgspec.Struct):
    id: CiString
    standard: str
    format: str
    power_type: str
    max_voltage: Annotated[int, msgspec.Meta(ge=0)]
    max_amperage: Annotated[int, msgspec.Meta(ge=0)]
    last_updated: str
    max_electric_power: Annotated[int, msgspec.Meta(ge=0)] | None = None
    tariff_ids: list[CiString] | None = None


class Evse(msgspec.Struct):
    uid: CiString
    status: str
    connectors: Annotated[list[Connector], msgspec.Meta(min_length=1)]
    last_updated: str
    evse_id: str | None = None
    physical_reference: str | None = None


class Location(msgspec.Struct):
    country_code: CountryCode
    party_id: PartyId
    id: CiString
    publish: bool
    address: str
    city: str
    country: str
    coordinates: GeoLocation
    time_zone: str
    last_updated: str
    name: str | None = None
    postal_code: str | None = None
    parking_type: str | None = None
    evses: list[Evse] | None = None
    facilities: list[str] | None = None
    opening_times: Hours | None = None
    operator: BusinessDetails | None = None


class Price(msgspec.Struct):
    excl_vat: Decimal
    incl_vat: Decimal | None = None


class CdrToken(msgspec.Struct):
    uid: CiString
    type: str
    contract_id: CiString


class Session(msgspec.Struct):
    country_code: CountryCode
    party_id: PartyId
    id: CiString
    start_date_time: str
    kwh: Decimal
    cdr_token: CdrToken
    auth_method: str
    location_id: CiString
    evse_uid: CiString
    connector_id: CiString
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    status: str
    last_updated: str
    end_date_time: str | None = None
    total_cost: Price | None = None


class CdrLocation(msgspec.Struct):
    id: CiString
    evse_uid: CiString
    connector_id: CiString


class Cdr(msgspec.Struct):
    country_code: CountryCode
    party_id: PartyId
    id: CdrId
    start_date_time: str
    end_date_time: str
    cdr_token: CdrToken
    auth_method: str
    cdr_location: CdrLocation
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    total_cost: Price
    total_energy: Decimal
    total_time: Decimal
    last_updated: str
    session_id: CiString | None = None
    total_parking_time: Decimal | None = None
    tariffs: list[dict[str, Any]] | None = None
    remark: str | None = None
    credit: bool | None = None
    credit_reference_id: CdrId | None = None


class PriceComponent(msgspec.Struct):
    type: str
    price: Decimal
    step_size: int
    vat: Decimal | None = None


class TariffElement(msgspec.Struct):
    price_components: Annotated[list[PriceComponent], msgspec.Meta(min_length=1)]
    restrictions: dict[str, Any] | None = None


class DisplayText(msgspec.Struct):
    language: str
    text: str


class Tariff(msgspec.Struct):
    country_code: CountryCode
    party_id: PartyId
    id: CiString
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    elements: Annotated[list[TariffElement], msgspec.Meta(min_length=1)]
    last_updated: str
    type: str | None = None
    tariff_alt_text: list[DisplayText] | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None


class CredentialsRole(msgspec.Struct):
    role: str
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Credentials(msgspec.Struct):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    url: str
    roles: Annotated[list[CredentialsRole], msgspec.Meta(min_length=1)]


T = TypeVar("T")


def parse(data: Any, kind: type[T]) -> T:
    """Validate a decoded JSON value as an OCPI object; 2001 naming the bad field if not."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise OcpiError(Status.INVALID_PARAMETERS, f"invalid {kind.__name__}: {exc}") from None


def to_data(obj: msgspec.Struct) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(obj)
    return out
