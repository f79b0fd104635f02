"""The union's settings for hardship cases: the time limits of each stage, retention, and where photos go.

Time limits are counted in working days of China's official calendar (调休
included), from the day the application came in for the first contact and the
visit, and from the step before for the decision and the help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class HardshipPolicy:
    """The hardship settings as the rules take them (from ``UNIONBOT_HARDSHIP_*``).

    Attributes:
        urgent_contact_days: working days within which an urgent case gets its first contact.
        contact_days: the same for an ordinary case.
        visit_days: working days within which a case is verified by a visit (走访).
        decide_days: working days from the visit to the decision.
        help_days: working days from the decision to the first help given.
        retention_years: a closed case's sensitive fields are erased this many years after closing.
        publication_may_withhold: a member may ask the union to leave them out of a 公示.
        publication_notice_days: days between telling the members concerned of a 公示 and its
            earliest publication, in which they may ask to be left out.
        media_dir: the channels' media folder; a case's photos are sealed into its ``hardship``
            folder and the clear copies the channel left there are removed.
        zone: the union's time zone, for dates.
    """

    urgent_contact_days: int = 1
    contact_days: int = 3
    visit_days: int = 5
    decide_days: int = 10
    help_days: int = 10
    retention_years: int = 3
    publication_may_withhold: bool = True
    publication_notice_days: int = 3
    media_dir: Path = Path("data/media")
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def contact_limit(self, urgent: bool) -> int:
        return self.urgent_contact_days if urgent else self.contact_days
