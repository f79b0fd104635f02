"""活动报名: cadres set out activities for their units; members sign up and cancel."""

from handlers.activities import flows
from handlers.activities.demo import seed_activities
from handlers.core.module import MenuGroup, MenuSlot, Module
from models.activities import CANCELLED_TOPIC

MODULE = Module(
    name="activities",
    features=(flows.BROWSE, flows.ORGANISE, flows.MANAGED, flows.MY_SIGNUPS),
    flows=flows.FLOWS,
    renderers={CANCELLED_TOPIC: flows.render_cancelled},
    produces=(CANCELLED_TOPIC,),
    menu=(MenuSlot(MenuGroup.SERVICES, flows.BROWSE.name, 40),),
    demo=seed_activities,
)
