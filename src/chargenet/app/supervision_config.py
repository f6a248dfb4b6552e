"""Supervision settings: zombie rules, safety rules, scorecard weights and stars.

Defaults are in the dataclasses of `chargenet.analytics`; a TOML file
(`CHARGENET_SUPERVISION_CONFIG`) overrides any of them, e.g.

    [zombies]
    down_days = 10
    [alarms]
    over_temperature_c = 85
    [scores]
    stars = [92, 85, 75, 60]
    [scores.weights]
    uptime = 0.4
    [uptime]
    respect_opening_hours = false
    uk_ineligible_reliable = false
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from chargenet.analytics.supervision.alarms import AlarmRules
from chargenet.analytics.supervision.scorecards import ScoreConfig
from chargenet.analytics.supervision.statusclass import NEVI_MIN_POWER_AC_W, NEVI_MIN_POWER_DC_W
from chargenet.analytics.supervision.zombies import ZombieRules
from chargenet.core.errors import Invalid
from chargenet.kit.timeutil import DEFAULT_LOCAL_TZ


@dataclass(frozen=True)
class UptimeOptions:
    respect_opening_hours: bool = True  # outages outside opening hours: excluded / not measured
    local_timezone: str = DEFAULT_LOCAL_TZ  # days and months are local
    # PCPR 2023 reg. 7(3)(b): time "ineligible for measurement" (UNKNOWN, BLOCKED) "is
    # considered to be reliable". False: leave it out of the measure instead.
    uk_ineligible_reliable: bool = True
    # Count time per port (23 CFR 680.104: one vehicle at a time, whatever its connectors;
    # a UK EVSE) or per connector.
    unit: str = "port"
    # 23 CFR 680.106(d): below these a port the charger limits is not "up" for NEVI (a
    # connector rated lower is held to its rating).
    nevi_min_power_dc_w: int = NEVI_MIN_POWER_DC_W
    nevi_min_power_ac_w: int = NEVI_MIN_POWER_AC_W
    # Uptime reads and measures the reports of this many chargers at a time: memory holds
    # one batch of reports, whatever the size of the scope.
    batch_chargers: int = 1000


@dataclass(frozen=True)
class SupervisionConfig:
    zombies: ZombieRules = field(default_factory=ZombieRules)
    alarms: AlarmRules = field(default_factory=AlarmRules)
    scores: ScoreConfig = field(default_factory=ScoreConfig)
    uptime: UptimeOptions = field(default_factory=UptimeOptions)
    alarm_tick_s: float = 60.0
    zombie_sweep_s: float = 3600.0
    notice_timeout_s: float = 10.0  # a zombie notice to an operator's channel


class ConfigError(Invalid):
    pass


def _override(section: Any, values: dict[str, Any], name: str) -> Any:
    known = {f.name for f in fields(section)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"[{name}]: unknown settings {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    for key, value in values.items():
        current = getattr(section, key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged = dict(current)
            for k, v in value.items():
                merged[k] = tuple(v) if isinstance(v, list) else v
            changes[key] = merged
        elif isinstance(current, tuple) and isinstance(value, list):
            changes[key] = tuple(value)
        else:
            changes[key] = value
    return replace(section, **changes)


def config_from_mapping(
    data: dict[str, Any], local_timezone: str | None = None
) -> SupervisionConfig:
    """Defaults overridden by a parsed TOML document; unknown keys are errors."""
    config = SupervisionConfig()
    sections = {f.name for f in fields(config)}
    unknown = sorted(set(data) - sections)
    if unknown:
        raise ConfigError(f"unknown sections {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    for name, value in data.items():
        current = getattr(config, name)
        changes[name] = _override(current, value, name) if isinstance(value, dict) else value
    config = replace(config, **changes)
    if local_timezone and "uptime" not in data:
        config = replace(config, uptime=replace(config.uptime, local_timezone=local_timezone))
    problems = config.scores.problems()
    if problems:
        raise ConfigError("[scores]: " + "; ".join(problems))
    if config.uptime.unit not in ("port", "connector"):
        raise ConfigError(f"[uptime]: unit must be port or connector, not {config.uptime.unit!r}")
    return config
