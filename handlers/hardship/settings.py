"""The hardship settings (``UNIONBOT_HARDSHIP_*``): the time limits of each stage, retention, 公示.

Time limits count working days of China's official calendar, 调休 included.
``UNIONBOT_DATA_DIR`` is read here too: the case's document photos are sealed
into its ``media/hardship`` folder, where the channels keep what members send.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field

from handlers.core.module import ModuleSettings
from models.hardship.policy import HardshipPolicy


class HardshipSettings(ModuleSettings):
    """``UNIONBOT_HARDSHIP_*``; the defaults follow the usual union rules (urgent: contact within a day)."""

    hardship_urgent_contact_days: int = Field(default=1, ge=1, le=30)
    hardship_contact_days: int = Field(default=3, ge=1, le=30)
    hardship_visit_days: int = Field(default=5, ge=1, le=60)
    hardship_decide_days: int = Field(default=10, ge=1, le=120)
    hardship_help_days: int = Field(default=10, ge=1, le=120)
    hardship_retention_years: int = Field(default=3, ge=1, le=30)
    # Whether a member told of a coming 公示 may ask the union to leave them out of it.
    hardship_publication_may_withhold: bool = True
    # Days between telling the members concerned of a 公示 and its earliest publication.
    hardship_publication_notice_days: int = Field(default=3, ge=0, le=30)
    data_dir: Path = Path("data")

    def policy(self, zone: ZoneInfo) -> HardshipPolicy:
        return HardshipPolicy(
            urgent_contact_days=self.hardship_urgent_contact_days,
            contact_days=self.hardship_contact_days,
            visit_days=self.hardship_visit_days,
            decide_days=self.hardship_decide_days,
            help_days=self.hardship_help_days,
            retention_years=self.hardship_retention_years,
            publication_may_withhold=self.hardship_publication_may_withhold,
            publication_notice_days=self.hardship_publication_notice_days,
            media_dir=self.data_dir / "media",
            zone=zone,
        )
