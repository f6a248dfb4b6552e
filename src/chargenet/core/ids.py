"""Typed identifiers, so that signatures read in domain words."""

from typing import NewType

AreaCode = NewType("AreaCode", str)  # GB/T 2260 (6 digits) / NBS township (9) / village (12)
OperatorId = NewType("OperatorId", str)
StationId = NewType("StationId", str)
ChargerId = NewType("ChargerId", str)  # one per OCPP identity or per operator equipment id
ConnectorId = NewType("ConnectorId", str)
SwapStationId = NewType("SwapStationId", str)
SessionId = NewType("SessionId", str)
AlarmId = NewType("AlarmId", str)
OrderId = NewType("OrderId", str)
EventId = NewType("EventId", str)
