"""困难职工帮扶: the member's private application and 我的申请, the cadres' case work, 送温暖 campaigns,
公示, figures and the audit log's reading, with the stage reminders and the retention erasure as jobs.

The parts each declare their features, flows and push renderers; this manifest gathers them.
"""

from handlers.core.module import Command, MenuGroup, MenuSlot, Module, Score
from handlers.hardship import audit, campaigns, casework, figures, jobs, mine, publication, render, report
from handlers.hardship.demo import seed_hardship
from handlers.hardship.settings import HardshipSettings
from models.errors import N_
from models.hardship import NEW_TOPIC, UPDATE_TOPIC
from models.hardship.deadlines import DUE_TOPIC, OVERDUE_TOPIC
from models.hardship.scores import SCORE_ID, on_time_shares

_PARTS = (campaigns, publication, figures, audit)

ON_TIME = Score(
    SCORE_ID,
    N_("帮扶及时率"),
    lambda session, period, subtrees: on_time_shares(session, period.start, period.end, subtrees),
)

MODULE = Module(
    name="hardship",
    features=(
        report.REPORT_FEATURE,
        mine.MY_CASES,
        casework.CASEWORK,
        report.REPORT_FOR_FEATURE,
        *(feature for part in _PARTS for feature in part.FEATURES),
    ),
    flows=(*report.FLOWS, *casework.FLOWS, *(flow for part in _PARTS for flow in part.FLOWS)),
    renderers={
        UPDATE_TOPIC: render.render_update,
        NEW_TOPIC: render.render_new,
        DUE_TOPIC: render.render_due,
        OVERDUE_TOPIC: render.render_overdue,
        **{topic: renderer for part in _PARTS for topic, renderer in part.RENDERERS.items()},
    },
    produces=(
        UPDATE_TOPIC,
        NEW_TOPIC,
        DUE_TOPIC,
        OVERDUE_TOPIC,
        *(topic for part in _PARTS for topic in part.PRODUCES),
    ),
    jobs=(jobs.DEADLINES_JOB, jobs.RETENTION_JOB),
    settings=HardshipSettings,
    menu=(MenuSlot(MenuGroup.SERVICES, report.REPORT_FEATURE.name, 30),),
    commands=(Command("hardship", report.REPORT_FEATURE.label, rank=35),),
    demo=seed_hardship,
    scores=(ON_TIME,),
)
