"""我的信息 lists every module's reminders: one turned off and on again, a compulsory one always on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.messages import Incoming
from handlers.core.module import JobContext
from handlers.core.router import Bot
from handlers.modules import registry
from handlers.suggestions.collection import CALL_JOB
from models.db import SessionFactory
from models.dues.tables import DuesPolicy
from models.ephemeral import EphemeralStore
from models.preferences import reminders_off
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat, transcript


def bound_member(db: SessionFactory) -> int:
    with db() as session:
        member = make_member(session, employee_no="2101", name="张伟")
        bind(session, member, key="u1")
        assert member.id is not None
        return member.id


def test_a_member_turns_the_monthly_call_off_and_on_again(db: SessionFactory, chat: Chat) -> None:
    member_id = bound_member(db)
    chat.send("我的信息", expect=["提醒：", "· 每月征集提醒：开启"])
    chat.press("关闭每月征集提醒", expect="已关闭“每月征集提醒”，以后不再发给您。")
    with db() as session:
        assert reminders_off(session, member_id) == {"collect"}
    # The month's call leaves them out.
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    context = JobContext(sessions=db, config=CoreConfig(), clock=lambda: now, due=now)
    assert CALL_JOB.run(context) == 0
    chat.send("我的信息", expect="· 每月征集提醒：已关闭")
    chat.press("开启每月征集提醒", expect="已开启“每月征集提醒”。")
    assert CALL_JOB.run(context) == 1
    with db() as session:
        assert reminders_off(session, member_id) == frozenset()


def test_the_reminders_word_lists_them_too(db: SessionFactory, chat: Chat) -> None:
    bound_member(db)
    chat.send("提醒设置", expect="· 每月征集提醒：开启")


def test_a_reminder_the_union_insists_on_is_shown_always_on(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues
) -> None:
    # The dues module's reminder, where the union's settings say members may not turn it off.
    insisted: dict[type, object] = {DuesPolicy: DuesPolicy(reminder_optional=False)}
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(dialog_timeout=timedelta(minutes=30), policies=insisted),
        registry=registry(),
    )
    chat = Chat(bot)
    bound_member(db)
    chat.send("我的信息", expect=["· 会费提醒：始终开启", "· 每月征集提醒：开启"])
    assert "关闭会费提醒" not in chat.buttons()
    # Even asked for directly (an old button), it stays on.
    replies = bot.handle(Incoming("telegram", "u1", button="go:reminder:dues"))
    assert "“会费提醒”按本会规定不能关闭。" in transcript(replies)
