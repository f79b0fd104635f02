"""The suggestion settings: the categories members choose from, the "三及时" deadlines, anonymity and awards.

Deadlines count working days of China's official calendar, 调休 included.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from handlers.core.module import ModuleSettings
from models.suggestions import DEFAULT_CATEGORIES, SuggestionPolicy

CATEGORY_MAX = 20
CATEGORIES_MAX = 20


def split_categories(value: str) -> list[str]:
    """Suggestion categories as an admin writes them: "生产技术、节能降耗" or "生产技术,节能降耗"."""
    return [name.strip() for name in re.split(r"[、,，;；]", value) if name.strip()]


class SuggestionSettings(ModuleSettings):
    """``UNIONBOT_SUGGESTION_*``: empty categories mean the six usual ones."""

    suggestion_categories: str = ""
    suggestion_register_days: int = Field(default=3, ge=1, le=60)
    suggestion_decide_days: int = Field(default=15, ge=1, le=250)
    suggestion_implement_days: int = Field(default=30, ge=1, le=250)
    # An anonymous suggestion is shown under the smallest unit with at least this many active members.
    suggestion_anonymity_min_members: int = Field(default=20, ge=1, le=100_000)
    # Awarding a suggestion not yet implemented: refused when true, only warned about when false.
    suggestion_award_requires_implementation: bool = False

    @field_validator("suggestion_categories")
    @classmethod
    def _suggestion_categories(cls, value: str) -> str:
        names = split_categories(value)
        if len(set(names)) != len(names):
            raise ValueError("a category is listed twice")
        if any(len(name) > CATEGORY_MAX for name in names):
            raise ValueError(f"a category is longer than {CATEGORY_MAX} characters")
        if len(names) > CATEGORIES_MAX:
            raise ValueError(f"more than {CATEGORIES_MAX} categories: members pick from a numbered list")
        return value

    def policy(self, zone: ZoneInfo) -> SuggestionPolicy:
        return SuggestionPolicy(
            categories=tuple(split_categories(self.suggestion_categories)) or DEFAULT_CATEGORIES,
            register_days=self.suggestion_register_days,
            decide_days=self.suggestion_decide_days,
            implement_days=self.suggestion_implement_days,
            anonymity_min_members=self.suggestion_anonymity_min_members,
            award_requires_implementation=self.suggestion_award_requires_implementation,
            zone=zone,
        )
