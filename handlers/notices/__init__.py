"""通知公告: cadres compose and send notices and openness posts; members read them."""

from handlers.core.module import MenuGroup, MenuSlot, Module
from handlers.notices import browse, compose, render, sent
from handlers.notices.demo import seed_notices
from models.notices import PROGRESS_TOPIC, REMINDER_TOPIC, TOPIC

MODULE = Module(
    name="notices",
    features=(
        browse.BROWSE,
        compose.COMPOSE,
        sent.SENT,
        browse.FACTORY_AFFAIRS,
        browse.DUES_USE,
        browse.READ,
    ),
    flows=(
        compose.COMPOSE_NOTICE,
        browse.BROWSE_NOTICES,
        sent.SENT_NOTICES,
        sent.NOTICE_ACTIONS,
        sent.UNREAD,
        sent.REMIND,
    ),
    renderers={
        TOPIC: render.render_notice,
        PROGRESS_TOPIC: render.render_progress,
        REMINDER_TOPIC: render.render_reminder,
    },
    after_batch={TOPIC: render.after_notice_batch, PROGRESS_TOPIC: render.after_progress_batch},
    produces=(TOPIC, PROGRESS_TOPIC, REMINDER_TOPIC),
    menu=(MenuSlot(MenuGroup.NEWS, browse.BROWSE.name, 10),),
    demo=seed_notices,
)
