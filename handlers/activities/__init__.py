"""活动报名: cadres set out activities for their units; members sign up and cancel."""

from collections.abc import Mapping

from sqlmodel import Session

from handlers.activities import browse, manage, organise, render
from handlers.activities.demo import seed_activities
from handlers.core.module import MenuGroup, MenuSlot, Module, Score, ScorePeriod
from models.activities import CANCELLED_TOPIC
from models.activity_scores import activity_participation
from models.errors import N_


def _participation(
    session: Session, period: ScorePeriod, subtrees: Mapping[int, frozenset[int]]
) -> dict[int, float]:
    return activity_participation(session, period.start, period.end, subtrees)


MODULE = Module(
    name="activities",
    features=(browse.BROWSE, organise.ORGANISE, manage.MANAGED, browse.MY_SIGNUPS),
    flows=(
        browse.BROWSE_ACTIVITIES,
        browse.ACTIVITY_ACTIONS,
        organise.ORGANISE_ACTIVITY,
        manage.MANAGED_ACTIVITIES,
        manage.MANAGE_ACTIVITY,
    ),
    renderers={CANCELLED_TOPIC: render.render_cancelled},
    produces=(CANCELLED_TOPIC,),
    menu=(MenuSlot(MenuGroup.SERVICES, browse.BROWSE.name, 40),),
    demo=seed_activities,
    # The ranking's input (打分排队): the share of members who signed up for something that month.
    scores=(Score("activity_participation", N_("活动参与率"), _participation),),
)
