"""通知公告 in conversation: members read their notices a page at a time, heading by heading."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlmodel import Session, col, select

from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.members import Member
from models.notices import (
    Notice,
    NoticeRecipient,
)
from models.outbox import Outbox
from tests.handlers.conftest import Chat
from tests.handlers.notices.conftest import SHANGHAI, cadre_chat, send_notices


def test_members_browse_their_notices_newest_first_in_pages(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    titles = [f"第{n}号通知" for n in range(1, 8)]
    for title in titles:
        send_notices(db, bot, [title])
        clock.shift(timedelta(minutes=1))
    send_notices(db, bot, ["十月会费使用情况"], heading="3")
    member = Chat(bot, key="member")
    listing = member.send("通知公告", expect=["通知公告（第 1/2 页，共 7 条）", "11-23 第7号通知", "下一页"])
    assert listing.index("第7号通知") < listing.index("第3号通知")
    assert "第2号通知" not in listing
    assert "会费使用公开" in listing
    member.send("上一页", expect=["已经是第一页了", "第 1/2 页"])
    member.send("下一页", expect=["第 2/2 页", "第2号通知", "第1号通知", "上一页"])
    member.send("下一页", expect=["已经是最后一页了", "第 2/2 页"])
    member.send("1", expect=["【通知】第2号通知", "第2号通知的正文。", "2026-11-23 09:0", "厂工会/一车间"])
    member.send("会费使用公开", expect=["会费使用公开（第 1/1 页，共 1 条）", "十月会费使用情况"])
    member.send("1", expect="【会费使用公开】十月会费使用情况")
    member.send("我的", expect="我的信息")  # a command word leaves the list
    Chat(bot, key="other").send("通知", expect="目前还没有发给您的通知")  # 二车间 got none
    with db() as session:
        read = session.exec(select(NoticeRecipient).where(col(NoticeRecipient.read_at).is_not(None))).all()
        assert len(read) == 2


def test_openness_posts_have_their_own_heading(db: SessionFactory, bot: Bot, union: None) -> None:
    send_notices(db, bot, ["三季度厂务公开"], heading="2")
    member = Chat(bot, key="member")
    member.send("厂务公开", expect=["厂务公开（第 1/1 页，共 1 条）", "三季度厂务公开"])
    member.send("通知公告", expect=["“通知公告”里还没有内容", "厂务公开"], absent=["三季度厂务公开"])


def test_the_read_button_records_the_read_and_keeps_an_open_form(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    send_notices(db, bot, ["停水通知"])
    with db() as session:
        member_id = session.exec(select(Member.id).where(Member.employee_no == "1001")).one()
        row = session.exec(
            select(Outbox).where(Outbox.topic == "notice", Outbox.member_id == member_id)
        ).one()
        push = REGISTRY.pushes.render(session, row, catalogues.get("zh_CN"), SHANGHAI)
    assert push is not None
    member = Chat(bot, key="member")
    member.send("语言", expect="English")
    member.last = [push.reply]
    member.press("已阅", expect="已收到您的确认，谢谢", absent=["请选择要办理的事项"])
    member.send("2", expect="繁體中文")  # the language form was still open
    cadre = cadre_chat(bot)
    cadre.send("我发的通知")
    cadre.send("1", expect="已阅：1 / 5")


def test_hostile_text_is_stored_and_shown_as_typed(db: SessionFactory, bot: Bot, union: None) -> None:
    send_notices(db, bot, ["<b>停电</b> _*[通知]🌟"])
    Chat(bot, key="member").send("通知", expect="<b>停电</b> _*[通知]🌟")
    with Session(db.engine) as session:
        assert session.exec(select(Notice)).one().title == "<b>停电</b> _*[通知]🌟"
