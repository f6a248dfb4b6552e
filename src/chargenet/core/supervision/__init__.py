"""Vocabulary shared by alarms and orders (the rules themselves live in analytics)."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"  # a hazard: grounds for a stop order (R33)


class TargetKind(StrEnum):
    """What an alarm or an order is about."""

    CONNECTOR = "connector"
    CHARGER = "charger"
    STATION = "station"
    SWAP_STATION = "swap_station"
    OPERATOR = "operator"


class OrderKind(StrEnum):
    STOP = "stop"  # stop and rectify (R33): the charger is made inoperative
    RESUME = "resume"  # lift a stop order
    RESET = "reset"
    REMOTE_START = "remote_start"
    REMOTE_STOP = "remote_stop"
    SET_CHARGING_LIMIT = "set_charging_limit"
    CLEAR_CHARGING_LIMIT = "clear_charging_limit"
    GET_CONFIGURATION = "get_configuration"
    CHANGE_CONFIGURATION = "change_configuration"
    GET_VARIABLES = "get_variables"  # OCPP 2.0.1 device model
    SET_VARIABLES = "set_variables"
    UNLOCK_CONNECTOR = "unlock_connector"
    TRIGGER_MESSAGE = "trigger_message"  # ask the charger to send a message now
    SET_SESSION_PROFILE = "set_session_profile"  # orderly charging: a session's schedule
    GET_COMPOSITE_SCHEDULE = "get_composite_schedule"  # what the charger will actually do
    # A notice to the equipment's operator (a zombie case and its deadline, R34): delivered
    # through the operator's channel and answered, but nothing is done to the charger.
    NOTICE = "notice"
    SEND_LOCAL_LIST = "send_local_list"  # the platform's tokens, for authorising offline


class OrderOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    FAILED = "failed"  # could not be delivered (offline, transport error)
    NOTIFIED = "notified"  # passed to an operator platform that acts on it itself
