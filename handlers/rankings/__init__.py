"""排行榜 (打分排队, 季评比): units ranked at their level by every feature's scores, monthly and quarterly.

The ranking knows no feature: it ranks by ``Registry.scores`` (each module's ``Score``s,
handed down in ``CoreConfig.scores``). The formula is in :mod:`models.rankings.compute`
and the README's "排行榜" section.
"""

from handlers.core.module import MenuGroup, MenuSlot, Module, Reminder
from handlers.rankings import pushes, view
from handlers.rankings.demo import seed_rankings
from handlers.rankings.settings import RankingSettings
from models.errors import N_
from models.notices import TOPIC as NOTICE_TOPIC
from models.rankings.digests import REMINDER_TOPIC
from models.rankings.tables import DIGEST_TOPIC, DRAFT_TOPIC, TABLE_TOPIC

MODULE = Module(
    name="rankings",
    features=(view.FEATURE, view.DRAFT, view.PUBLISH),
    renderers={
        DIGEST_TOPIC: pushes.render_member,
        TABLE_TOPIC: pushes.render_table,
        DRAFT_TOPIC: pushes.render_draft,
    },
    # A quarter's published ranking goes out as a notice, which the notices module renders.
    produces=(DIGEST_TOPIC, TABLE_TOPIC, DRAFT_TOPIC, NOTICE_TOPIC),
    jobs=(pushes.MONTHLY_JOB, pushes.QUARTERLY_JOB),
    settings=RankingSettings,
    menu=(MenuSlot(MenuGroup.NEWS, view.FEATURE.name, 20),),
    demo=seed_rankings,
    reminders=(Reminder(REMINDER_TOPIC, N_("每月排行榜")),),
)
