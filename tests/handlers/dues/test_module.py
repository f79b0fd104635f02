"""The dues module as the rest of the bot sees it: its settings, its reminder's opt-out, its score."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pydantic
import pytest
from sqlmodel import Session

from handlers.core.context import CoreConfig
from handlers.core.module import ScorePeriod
from handlers.dues.settings import DuesSettings
from handlers.modules import REGISTRY
from models.dues.tables import DuesPolicy
from models.units import subtree_ids
from tests.models.dues.test_figures import paid_union

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_settings_give_the_policy() -> None:
    policy = DuesSettings(dues_reminder_optional=False, dues_start_month="2026-01").policy(SHANGHAI)
    assert policy == DuesPolicy(reminder_optional=False, start_month=202601, zone=SHANGHAI)
    assert DuesSettings().policy(SHANGHAI).start_month is None
    with pytest.raises(pydantic.ValidationError, match="YYYY-MM"):
        DuesSettings(dues_start_month="2026年")


def test_whether_members_may_turn_the_reminder_off_is_the_unions_setting() -> None:
    [reminder] = [reminder for reminder in REGISTRY.reminders if reminder.topic == "dues"]
    assert reminder.label == "会费提醒"
    assert reminder.optional(CoreConfig()) is True
    insisting = CoreConfig(policies={DuesPolicy: DuesPolicy(reminder_optional=False)})
    assert reminder.optional(insisting) is False


def test_the_ranking_gets_the_collection_rate_of_a_quarter(session: Session) -> None:
    union = paid_union(session)
    [score] = [score for score in REGISTRY.scores if score.id == "dues_collection"]
    assert score.label == "会费收缴率"
    root = union.unit(session, "厂工会")
    quarter = ScorePeriod(datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
    everyone = frozenset(subtree_ids(session, [root]))
    # November 4 of 5, December 2 of 5.
    assert score.compute(session, quarter, {root.id or 0: everyone}) == {root.id: 0.6}
