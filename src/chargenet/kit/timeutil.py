"""UTC inside, local time only at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_LOCAL_TZ = "Asia/Shanghai"

# A source's clock may run a little ahead of ours (NTP drift, rounding); further ahead than
# this, its time stamp is not believed (it would outrank every honest later report). One
# rule for every protocol: OCPP replaces such a time with our receive time, OCPI and T/CEC
# refuse the object (docs/ocpp.md, docs/ocpi.md, docs/tcec.md).
CLOCK_AHEAD_TOLERANCE = timedelta(minutes=5)


def runs_ahead(stated: datetime, received: datetime) -> bool:
    """Whether a source's time stamp lies further in the future than its clock may drift."""
    return stated > received + CLOCK_AHEAD_TOLERANCE


def require_utc(value: datetime, what: str = "time") -> datetime:
    """Return `value` in UTC; naive datetimes are refused because their zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def parse_instant(text: str, assume: tzinfo | None = None) -> datetime:
    """Parse ISO 8601; a string without an offset is read in `assume` (refused when None)."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    value = datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        if assume is None:
            raise ValueError(f"time {text!r} has no UTC offset")
        value = value.replace(tzinfo=assume)
    return value.astimezone(UTC)


def to_local(value: datetime, zone: str = DEFAULT_LOCAL_TZ) -> datetime:
    return require_utc(value).astimezone(ZoneInfo(zone))


def local_midnight_utc(day: date, zone: str = DEFAULT_LOCAL_TZ) -> datetime:
    """The UTC instant at which `day` starts in `zone`."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def isoformat_z(value: datetime) -> str:
    """UTC ISO 8601 with a trailing Z, the form every wire protocol here accepts."""
    return require_utc(value).isoformat().replace("+00:00", "Z")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch (UTC): the compact form of bulk time columns."""
    try:
        # An aware time's difference counts its offset: no conversion to UTC needed.
        d = value - _EPOCH
    except TypeError:
        require_utc(value)  # a naive time: refused as ever
        raise
    # The difference's microseconds by its fields, as `d // _MICROSECOND` counts them (a
    # timedelta's days may be negative, its seconds and microseconds never are): that
    # division makes Python integers of both operands first, a tenth of the cost.
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))
