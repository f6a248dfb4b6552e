"""Safety incidents (R33: "fire/explosion incidents traced to the responsible party").

An incident is recorded against what it happened at — a station, and where known the
charger, connector and session — and so against the operator that holds them. Its
timeline is assembled from the log (app/incidents.py); its closing names who was
responsible, which feeds the operator's credit record.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentKind(StrEnum):
    FIRE = "fire"
    EXPLOSION = "explosion"
    ELECTRIC_SHOCK = "electric_shock"
    OTHER = "other"


class IncidentState(StrEnum):
    OPEN = "open"  # reported, under investigation
    CLOSED = "closed"  # the investigation's finding recorded


class Responsible(StrEnum):
    """Whom the investigation found responsible."""

    OPERATOR = "operator"  # operation and maintenance of the equipment
    MANUFACTURER = "manufacturer"  # the equipment itself
    SITE_OWNER = "site_owner"  # the site, its power supply, its parking
    VEHICLE = "vehicle"  # the vehicle or its battery
    USER = "user"  # misuse
    THIRD_PARTY = "third_party"  # vandalism, weather, others
    UNDETERMINED = "undetermined"
