"""通知公告: cadres compose and send notices and openness posts; members read them."""

from handlers.core.module import MenuGroup, MenuSlot, Module
from handlers.notices import flows
from handlers.notices.demo import seed_notices
from models.notices import PROGRESS_TOPIC, TOPIC

MODULE = Module(
    name="notices",
    features=(flows.BROWSE, flows.COMPOSE, flows.SENT, flows.FACTORY_AFFAIRS, flows.DUES_USE, flows.READ),
    flows=flows.FLOWS,
    renderers={TOPIC: flows.render_notice, PROGRESS_TOPIC: flows.render_progress},
    after_batch={TOPIC: flows.after_notice_batch, PROGRESS_TOPIC: flows.after_progress_batch},
    produces=(TOPIC, PROGRESS_TOPIC),
    menu=(MenuSlot(MenuGroup.NEWS, flows.BROWSE.name, 10),),
    demo=seed_notices,
)
