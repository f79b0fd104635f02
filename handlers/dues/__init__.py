"""会费 (dues): 我的会费, 会费登记, 会费统计 and its workbook, the monthly reminders and digests."""

from collections.abc import Mapping

from sqlmodel import Session

from handlers.core.module import Command, MenuGroup, MenuSlot, Module, Reminder, Score, ScorePeriod
from handlers.dues import figures, mine, record, reminders
from handlers.dues.demo import seed_dues
from handlers.dues.settings import DuesSettings, reminder_optional
from models.dues.figures import dues_collection, months_in
from models.dues.reminders import CHAIR_TOPIC, MEMBER_TOPIC, REMINDER_TOPIC, UNIT_TOPIC
from models.errors import N_


def _collection(
    session: Session, period: ScorePeriod, subtrees: Mapping[int, frozenset[int]]
) -> Mapping[int, float]:
    """会费收缴率 for the ranking: months paid ÷ months due in the period, per ranked unit's subtree."""
    return dues_collection(session, months_in(period.start, period.end), subtrees)


MODULE = Module(
    name="dues",
    features=(mine.MY_DUES, record.RECORD_DUES, figures.FEATURE),
    flows=(record.RECORD, *figures.FLOWS),
    renderers={
        MEMBER_TOPIC: reminders.render_reminder,
        UNIT_TOPIC: reminders.render_unit,
        CHAIR_TOPIC: reminders.render_chair,
    },
    produces=(MEMBER_TOPIC, UNIT_TOPIC, CHAIR_TOPIC),
    jobs=(reminders.REMINDERS_JOB,),
    settings=DuesSettings,
    menu=(MenuSlot(MenuGroup.MINE, mine.MY_DUES.name, 10),),
    commands=(Command("dues", mine.MY_DUES.label, rank=25),),
    demo=seed_dues,
    scores=(Score("dues_collection", N_("会费收缴率"), _collection),),
    reminders=(Reminder(REMINDER_TOPIC, N_("会费提醒"), optional=reminder_optional),),
)
