"""A feature is added by its Module alone: one declared here, in the tests, reaches every place.

春游报名 is a module no file of the bot knows: a feature in the main menu with a word and a
Telegram command, a WeChat menu slot, a form, a push topic with its renderer and a weekly
job. Handed to ``handlers.modules.registry``, it is reached by a member through the real
router, published in WeChat's menu and Telegram's command list, its pushes are rendered
and its job is run by the scheduler, with no other file changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlmodel import Session, col, select

from bot.channels.telegram.adapter import TelegramChannel, TelegramConfig
from bot.channels.telegram.limits import SendLimiter
from bot.channels.wechat.menu import build_menu
from bot.core_runner import ThreadCore
from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import Data, Flow, Number
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues, Translator
from handlers.core.messages import Reply
from handlers.core.module import Command, Job, JobContext, MenuGroup, MenuSlot, Module
from handlers.core.pushes import Push
from handlers.core.router import Bot
from handlers.modules import MODULES, REGISTRY, registry
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.members import Member, MemberStatus
from models.outbox import NewPush, Outbox, PushKind, PushRow, enqueue
from scheduler.jobs import trigger
from scheduler.runner import Scheduler
from tests.e2e.telegram_stub import TelegramStub
from tests.factories import make_member
from tests.handlers.conftest import Chat

TOPIC = "outing"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 4, 6, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
CATALOGUES = Catalogues()
ZH = CATALOGUES.get("zh_CN")


def _signed_up(ctx: Context, data: Data) -> list[Reply]:
    assert ctx.member is not None
    assert ctx.member.id is not None
    guests = data["guests"]
    confirmation = NewPush(
        key=f"outing:{ctx.member.id}",
        member_id=ctx.member.id,
        kind=PushKind.STATUS,
        topic=TOPIC,
        params={"guests": guests},
    )
    enqueue(ctx.session, [confirmation], now=ctx.now)
    return [Reply(f"已报名春游，带 {guests} 位家属。")]


FLOW = Flow(
    name="outing", steps=(Number("guests", "带几位家属？", minimum=0, maximum=3),), on_done=_signed_up
)
FEATURE = Feature(
    name="outing",
    label="春游报名",
    summary="报名参加工会春游",
    words=("/outing", "春游"),
    run=lambda ctx, arg: ctx.dialogs.start(ctx, FLOW),
    rank=45,
)


def render_outing(session: Session, row: PushRow, _: Translator, zone: tzinfo) -> Push | None:
    if "guests" in row.params:
        text = f"您已报名春游，带 {row.params['guests']} 位家属。"
        return Push(title="春游报名", reply=Reply(text), body=text)
    text = f"{row.params['week']} 周六春游，请在周四前报名。"
    return Push(title="春游提醒", reply=Reply(text), body=text)


def remind(context: JobContext) -> int:
    """Every active member hears of this week's outing, once a week whatever runs twice."""
    week = context.clock().astimezone(context.config.timezone).strftime("%G-W%V")
    with context.sessions() as session:
        members = session.exec(select(Member.id).where(Member.status == MemberStatus.ACTIVE)).all()
        pushes = [
            NewPush(
                key=f"outing-reminder:{week}:{member_id}",
                member_id=member_id,
                kind=PushKind.REMINDER,
                topic=TOPIC,
                params={"week": week},
            )
            for member_id in members
            if member_id is not None
        ]
        return enqueue(session, pushes, now=context.clock())


JOB = Job(id="outing_reminder", run=remind, schedule="0 9 * * mon")

OUTINGS = Module(
    name="outings",
    features=(FEATURE,),
    flows=(FLOW,),
    renderers={TOPIC: render_outing},
    produces=(TOPIC,),
    jobs=(JOB,),
    menu=(MenuSlot(MenuGroup.NEWS, FEATURE.name, 20),),
    commands=(Command("outing", FEATURE.label, rank=45),),
)
WITH_OUTINGS = registry(OUTINGS)


def test_the_module_is_added_to_the_bots_own_and_changes_nothing_else() -> None:
    assert WITH_OUTINGS.modules == (*MODULES, OUTINGS)
    assert "outing" not in REGISTRY.features
    assert [job.id for job in WITH_OUTINGS.jobs] == [*(job.id for job in REGISTRY.jobs), JOB.id]


@pytest.fixture
def member(db: SessionFactory, store: EphemeralStore) -> Chat:
    """A bound member talking to the real router, built with the throwaway module."""
    bot = Bot(sessions=db, store=store, catalogues=CATALOGUES, config=CoreConfig(), registry=WITH_OUTINGS)
    with db() as session:
        make_member(session)
    chat = Chat(bot)
    chat.send("1001")
    chat.send("1234", expect="绑定成功")
    return chat


def test_a_member_finds_it_in_the_menu_and_runs_its_form(member: Chat, db: SessionFactory) -> None:
    member.send("菜单", expect="请选择要办理的事项")
    assert "春游报名" in member.buttons()
    member.press("春游报名", expect="带几位家属？")
    member.send("5", expect="请输入 0 到 3 之间的数字")
    member.send("2", expect="已报名春游，带 2 位家属。")
    with db() as session:
        [row] = session.exec(select(Outbox).where(Outbox.topic == TOPIC)).all()
        push = WITH_OUTINGS.pushes.render(session, row, ZH, SHANGHAI)
    assert push is not None
    assert push.title == "春游报名"
    assert push.reply.text == "您已报名春游，带 2 位家属。"


def test_its_word_and_its_command_open_its_form(member: Chat) -> None:
    member.send("春游", expect="带几位家属？")
    member.send("取消")
    member.send("/outing", expect="带几位家属？")
    member.send("0", expect="已报名春游，带 0 位家属。")


def test_its_slot_is_published_in_the_wechat_menu() -> None:
    plan = build_menu(WITH_OUTINGS, ZH)
    news = next(button for button in plan.menu["button"] if button.get("name") == "工会动态")
    assert news["sub_button"] == [
        {"type": "click", "name": "通知公告", "key": "go:notices"},
        {"type": "click", "name": "排行榜", "key": "go:ranking"},
        {"type": "click", "name": "春游报名", "key": "go:outing"},
    ]
    assert "outing" in plan.published


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStub]:
    server = TelegramStub()
    await server.start()
    yield server
    await server.stop()


async def test_its_command_is_registered_with_telegram(
    telegram: TelegramStub, db: SessionFactory, store: EphemeralStore, tmp_path: Path
) -> None:
    bot = Bot(sessions=db, store=store, catalogues=CATALOGUES, config=CoreConfig(), registry=WITH_OUTINGS)
    channel = TelegramChannel(
        core=ThreadCore(bot),
        sessions=db,
        store=store,
        catalogues=CATALOGUES,
        config=TelegramConfig(
            token=telegram.token,
            api_root=telegram.url,
            media_dir=tmp_path / "media",
            commands=WITH_OUTINGS.commands,
        ),
        limiter=SendLimiter(per_second=1000, per_chat_interval=0),
    )
    await channel.start()
    try:
        listed = [(command["command"], command["description"]) for command in telegram.commands["zh"]]
    finally:
        await channel.stop()
        await channel.core.close()
    # Among the bot's own commands, by rank: after 使用帮助 (40), before 取消 (50).
    names = [name for name, _description in listed]
    assert names[names.index("help") + 1 : names.index("cancel")] == ["outing"]
    assert ("outing", "春游报名") in listed


async def test_its_job_is_run_by_the_scheduler_and_its_pushes_rendered(db: SessionFactory) -> None:
    with db() as session:
        make_member(session, employee_no="1001")
        make_member(session, employee_no="1002", phone="13900001002")
    weekly = trigger(JOB, SHANGHAI)
    assert weekly is not None
    assert weekly.get_next_fire_time(None, MONDAY + timedelta(minutes=1)) == MONDAY + timedelta(days=7)
    context = JobContext(sessions=db, config=CoreConfig(), clock=lambda: MONDAY)
    jobs = [job for job in WITH_OUTINGS.jobs if job.id == JOB.id]
    scheduler = Scheduler(context, jobs, zone=SHANGHAI, startup_delay=timedelta(0))
    done = asyncio.Event()
    results: list[object] = []

    def executed(event: JobExecutionEvent) -> None:
        results.append(event.retval if event.exception is None else event.exception)
        done.set()

    await scheduler.start()
    try:
        scheduler.scheduler.add_listener(executed, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await scheduler.stop()
    assert results == [2]
    assert await scheduler.run(JOB) == 0  # the week's reminders are queued already
    with db() as session:
        rows = session.exec(select(Outbox).where(Outbox.topic == TOPIC).order_by(col(Outbox.id))).all()
        pushes = [WITH_OUTINGS.pushes.render(session, row, ZH, SHANGHAI) for row in rows]
    assert [push.reply.text if push else None for push in pushes] == [
        "2026-W15 周六春游，请在周四前报名。"
    ] * 2
