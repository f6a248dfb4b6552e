"""The bodies supervision routes take."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chargenet.core.oversight import ExclusionReason, ZombieOutcome


class ExclusionIn(BaseModel):
    target_kind: Literal["connector", "charger", "station"]
    target_id: str
    start: datetime
    end: datetime
    reason: ExclusionReason
    note: str = Field(default="", max_length=1000)


class CloseCaseIn(BaseModel):
    outcome: ZombieOutcome
    note: str = Field(default="", max_length=1000)


class RectificationIn(BaseModel):
    note: str = Field(min_length=1, max_length=1000, description="What was done")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class PublicHoursIn(BaseModel):
    hours: str = Field(
        max_length=200,
        description="When the station is open to the public, local time: 'Mo-Fr "
        "18:00-08:00; Sa-Su 00:00-24:00', '18:00-08:00' (every day) or '24/7'; '' withdraws",
    )
    note: str = Field(default="", max_length=500)


class StopIn(BaseModel):
    target_kind: Literal["charger", "station"]
    target_id: str
    reason: str = Field(min_length=1, max_length=1000)
    alarm_id: str | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=300)
