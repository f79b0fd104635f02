"""推送渠道: a member on both WeChat and Telegram chooses where notices go first."""

from __future__ import annotations

from sqlmodel import select

from handlers.core.router import Bot
from models.db import SessionFactory
from models.members import Member
from tests.factories import make_member
from tests.handlers.conftest import Chat


def _bind(chat: Chat) -> None:
    chat.send("1001")
    chat.send("1234", expect="绑定成功")


def _preferred(db: SessionFactory) -> str | None:
    with db() as session:
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        return member.preferred_channel


def test_member_on_both_channels_chooses_where_notices_go(db: SessionFactory, bot: Bot) -> None:
    with db() as session:
        make_member(session)
    telegram = Chat(bot, channel="telegram", key="t1")
    wechat = Chat(bot, channel="wechat", key="oWx1")
    _bind(telegram)
    telegram.send("/me", absent=["通知优先发到"])  # one channel: nothing to choose
    telegram.send("菜单", absent=["推送渠道"])
    telegram.send(  # not offered with one channel, and no talk of permissions
        "推送渠道", expect="同时绑定了微信和 Telegram 时，才需要选择", absent=["通知优先发到哪里", "权限"]
    )

    _bind(wechat)
    wechat.send("/me", expect="通知优先发到：最近使用的那个（回复“推送渠道”可以更改）")
    wechat.send("菜单", expect="推送渠道")
    wechat.send("推送渠道", expect=["通知优先发到哪里", "1. 微信", "2. Telegram", "3. 最近使用的那个"])
    wechat.send("2", expect="通知会优先发到Telegram；那边发不到时，再发到另一个。")
    assert _preferred(db) == "telegram"
    telegram.send("/me", expect="通知优先发到：Telegram")

    telegram.send("/push")
    telegram.press("最近使用的那个", expect="通知会发到您最近使用的那个渠道")
    assert _preferred(db) is None


def test_the_choice_reads_in_the_members_language(db: SessionFactory, bot: Bot) -> None:
    with db() as session:
        make_member(session)
    telegram = Chat(bot, channel="telegram", key="t1")
    wechat = Chat(bot, channel="wechat", key="oWx1")
    _bind(telegram)
    _bind(wechat)
    telegram.send("/lang")
    telegram.press("English")
    telegram.send("/push", expect=["Where should notices go first?", "WeChat", "the one I used last"])
    telegram.send("WeChat", expect="Notices will go to WeChat first")
    assert _preferred(db) == "wechat"
    telegram.send("/me", expect="Notices go first to: WeChat")
