"""活动报名: cadres set out activities for their units; members sign up and cancel."""

from handlers.activities import (
    attendance,
    browse,
    figures,
    lottery,
    manage,
    organise,
    reminders,
    render,
    roster,
)
from handlers.activities.demo import seed_activities
from handlers.activities.settings import ActivitySettings
from handlers.core.module import MenuGroup, MenuSlot, Module
from models.activities import (
    ANNOUNCED_TOPIC,
    CANCELLED_TOPIC,
    CHANGED_TOPIC,
    DRAWN_TOPIC,
    OFFERED_TOPIC,
    PROMOTED_TOPIC,
    REMINDER_TOPIC,
    REMOVED_TOPIC,
)

MODULE = Module(
    name="activities",
    features=(
        browse.BROWSE,
        organise.ORGANISE,
        manage.MANAGED,
        figures.ACTIVITY_FIGURES,
        browse.MY_SIGNUPS,
        attendance.CHECK_IN,
    ),
    flows=(
        browse.BROWSE_ACTIVITIES,
        browse.ACTIVITY_ACTIONS,
        organise.ORGANISE_ACTIVITY,
        manage.MANAGED_ACTIVITIES,
        manage.MANAGE_ACTIVITY,
        attendance.CHECK_IN_FLOW,
        figures.FIGURES,
        figures.RESULT,
    ),
    renderers={
        CANCELLED_TOPIC: render.render_cancelled,
        PROMOTED_TOPIC: render.render_promoted,
        REMINDER_TOPIC: reminders.render_reminder,
        REMOVED_TOPIC: roster.render_removed,
        ANNOUNCED_TOPIC: render.render_announced,
        CHANGED_TOPIC: render.render_changed,
        DRAWN_TOPIC: lottery.render_drawn,
        OFFERED_TOPIC: lottery.render_offered,
    },
    produces=(
        CANCELLED_TOPIC,
        PROMOTED_TOPIC,
        REMINDER_TOPIC,
        REMOVED_TOPIC,
        ANNOUNCED_TOPIC,
        CHANGED_TOPIC,
        DRAWN_TOPIC,
        OFFERED_TOPIC,
    ),
    jobs=(reminders.REMINDERS_JOB, lottery.DRAWS_JOB),
    # t.me/<bot>?start=act_12 opens activity 12; the check-in QR code carries ci_<code>.
    links={"act": browse.BROWSE.name, attendance.CHECKIN_LINK_PREFIX: attendance.CHECK_IN.name},
    settings=ActivitySettings,
    scores=(figures.PARTICIPATION_SCORE,),
    menu=(MenuSlot(MenuGroup.SERVICES, browse.BROWSE.name, 40),),
    demo=seed_activities,
)
