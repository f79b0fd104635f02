"""The activity settings: when the reminders before an activity go out."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from handlers.core.module import ModuleSettings
from models.activities import ActivityPolicy

# "24h,1h", "2d, 30m": how admins write lead times.
_LEAD = re.compile(r"\s*(\d{1,4})\s*([dhm])\s*")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
LEADS_MAX = 3


def parse_leads(value: str) -> tuple[timedelta, ...]:
    """``24h,1h`` → (24 h, 1 h), longest first; empty → none.

    Raises:
        ValueError: a part that is no number with d, h or m, a zero, or more than three.
    """
    leads: list[timedelta] = []
    for part in filter(None, (piece.strip() for piece in re.split(r"[,，、]", value))):
        match = _LEAD.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is no lead time such as 24h, 1h or 30m")
        lead = timedelta(**{_UNITS[match[2]]: int(match[1])})
        if not lead:
            raise ValueError(f"{part!r} is no time before the start")
        leads.append(lead)
    if len(leads) > LEADS_MAX:
        raise ValueError(f"more than {LEADS_MAX} reminders before one activity")
    if len(set(leads)) != len(leads):
        raise ValueError("a lead time is listed twice")
    return tuple(sorted(leads, reverse=True))


class ActivitySettings(ModuleSettings):
    """``UNIONBOT_ACTIVITY_*``."""

    # Before an activity starts, reminders to those signed up: "24h,1h" by default, "" for none.
    activity_reminders: str = "24h,1h"
    # Hours a member drawn in a lottery has to confirm the place before it passes on.
    activity_lottery_confirm_hours: int = Field(default=48, ge=1, le=24 * 14)

    @field_validator("activity_reminders")
    @classmethod
    def _activity_reminders(cls, value: str) -> str:
        parse_leads(value)
        return value

    def policy(self, zone: ZoneInfo) -> ActivityPolicy:
        return ActivityPolicy(
            remind_before=parse_leads(self.activity_reminders),
            confirm_hours=self.activity_lottery_confirm_hours,
        )
