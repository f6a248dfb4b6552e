"""Vocabulary of supervision cases: outage exclusions, zombie piles, equipment notices.

The rules that use these words live in `chargenet.analytics`; the events that carry them
in `chargenet.core.events`.
"""

from __future__ import annotations

from enum import StrEnum


class ExclusionReason(StrEnum):
    """Why an outage does not count against the operator (NEVI, 23 CFR 680.116(b)).

    The names follow the Final Rule's list, 23 CFR 680.116(b)(3)(i)–(vi), in its order;
    EV-ChART's module 4 takes `excluded_outage_reason` as an integer 1–6 (its validation:
    `min_value` 1, `max_value` 6), numbered here in that same order (`EVCHART_CODE`).
    """

    UTILITY_OUTAGE = "utility_outage"  # electric utility service interruption
    VEHICLE_FAULT = "vehicle_fault"  # failure to charge through the fault of the vehicle
    SCHEDULED_MAINTENANCE = "scheduled_maintenance"
    VANDALISM = "vandalism"
    NATURAL_DISASTER = "natural_disaster"
    OUTSIDE_HOURS = "outside_hours"  # outside the station's identified hours of operation


# EV-ChART module 4 `excluded_outage_reason`: the position of the reason in 23 CFR
# 680.116(b)(3) — (i) utility service interruptions, (ii) the vehicle's fault, (iii)
# scheduled maintenance, (iv) vandalism, (v) natural disasters, (vi) hours outside the
# station's identified hours of operation.
EVCHART_CODE = {reason: n for n, reason in enumerate(ExclusionReason, start=1)}


class ZombieRule(StrEnum):
    """What makes a charger a zombie pile (R34); thresholds in
    analytics.supervision.zombies.ZombieRules."""

    NEVER_CONNECTED = "never_connected"  # registered, never a word from it
    LONG_DOWN = "long_down"  # every connector offline, faulted or out of service for days
    IDLE_AVAILABLE = "idle_available"  # claims available, yet nobody has charged for weeks
    FAILING_SESSIONS = "failing_sessions"  # sessions start but almost none deliver energy


class ZombieStage(StrEnum):
    DETECTED = "detected"
    NOTIFIED = "notified"  # the operator was told and given a deadline
    ESCALATED = "escalated"  # the deadline passed; a new one, a higher level
    CLOSED = "closed"


class ZombieOutcome(StrEnum):
    RECTIFIED = "rectified"  # back in service: the rules no longer hold
    RETIRED = "retired"  # the exit mechanism: the pile leaves the registry
    DISMISSED = "dismissed"  # a regulator judged the detection wrong


class NoticeKind(StrEnum):
    """Kinds of notices equipment sends besides connector status (OCPP
    SecurityEventNotification and NotifyEvent, T/CEC alarm pushes, OCPP firmware and
    diagnostics/log upload progress), and the status of a charger as a whole (OCPP 1.6
    StatusNotification for connector 0: `code` is its error code, `cleared` says it reports
    itself available without error)."""

    SECURITY = "security"
    MONITORING = "monitoring"
    ALARM = "alarm"
    STATUS = "status"
    FIRMWARE = "firmware"  # a firmware update's progress (OCPP FirmwareStatusNotification)
    DIAGNOSTICS = "diagnostics"  # a diagnostics or log upload's progress
