"""Charging sessions: what a meter reading may be trusted for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# A single session above this is a broken or reset meter, not a vehicle (the largest truck
# batteries hold under 1 MWh).
MAX_SESSION_ENERGY_WH = 1_000_000
# Slack on "energy ≤ power × time" for meter rounding and clock jitter.
_POWER_SLACK = 1.10
_ENERGY_SLACK_WH = 500


class SessionState(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"


class SessionFlag(StrEnum):
    METER_BACKWARDS = "meter_backwards"  # stop reading below start reading
    ENERGY_TOO_LARGE = "energy_too_large"  # more than any vehicle can take
    ENERGY_EXCEEDS_POWER = "energy_exceeds_power"  # more than the connector can deliver in the time
    STARTED_OFFLINE = "started_offline"  # reported after the fact; times are the charger's
    CLOCK_UNSET = "clock_unset"  # the charger's clock was not set (1970 time stamps)


@dataclass(frozen=True, slots=True)
class EnergyVerdict:
    energy_wh: int | None  # None: not trustworthy, not billable
    flags: tuple[SessionFlag, ...]


def session_energy(
    meter_start_wh: int,
    meter_stop_wh: int,
    started_at: datetime,
    ended_at: datetime,
    max_power_w: int | None,
) -> EnergyVerdict:
    """Energy delivered, or None with the reasons it cannot be trusted."""
    delivered = meter_stop_wh - meter_start_wh
    if delivered < 0:
        return EnergyVerdict(None, (SessionFlag.METER_BACKWARDS,))
    if delivered > MAX_SESSION_ENERGY_WH:
        return EnergyVerdict(None, (SessionFlag.ENERGY_TOO_LARGE,))
    if max_power_w is not None:
        hours = max((ended_at - started_at).total_seconds(), 0.0) / 3600
        ceiling = max_power_w * hours * _POWER_SLACK + _ENERGY_SLACK_WH
        if delivered > ceiling:
            return EnergyVerdict(None, (SessionFlag.ENERGY_EXCEEDS_POWER,))
    return EnergyVerdict(delivered, ())
