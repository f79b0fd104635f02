"""The dues settings: whether members may turn the reminder off, and where the ledger starts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import field_validator

from handlers.core.context import CoreConfig
from handlers.core.module import ModuleSettings
from models.dues.months import parse_month
from models.dues.tables import DuesPolicy
from models.errors import InvalidInput


class DuesSettings(ModuleSettings):
    """``UNIONBOT_DUES_*``."""

    # Whether 我的信息 lets a member turn the monthly dues reminder off; false: the union insists.
    dues_reminder_optional: bool = True
    # The first month the bot keeps the ledger for ("2026-01"); empty: the month the job first runs.
    dues_start_month: str = ""

    @field_validator("dues_start_month")
    @classmethod
    def _start_month(cls, value: str) -> str:
        if value.strip():
            try:
                parse_month(value)
            except InvalidInput:
                raise ValueError("a month as YYYY-MM, e.g. 2026-01") from None
        return value

    def policy(self, zone: ZoneInfo) -> DuesPolicy:
        start = parse_month(self.dues_start_month) if self.dues_start_month.strip() else None
        return DuesPolicy(reminder_optional=self.dues_reminder_optional, start_month=start, zone=zone)


def reminder_optional(config: CoreConfig) -> bool:
    """What 我的信息 asks: may a member turn dues reminders off under this union's settings?"""
    return config.policy(DuesPolicy).reminder_optional
