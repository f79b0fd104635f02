"""Binding limits, as a guesser and as a member meet them (in memory and on Redis)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from handlers.core.router import Bot
from models.db import SessionFactory
from models.invites import create_invite, format_code
from tests.factories import make_member
from tests.handlers.conftest import Chat

NOW = "2026-11-23 09:00 +0800"


def _roster(db: SessionFactory) -> None:
    """The guesser (1001, phone …1234) and the members whose digits they guess."""
    with db() as session:
        make_member(session, employee_no="1001", phone="13800001234")
        for number in range(1002, 1008):
            make_member(session, employee_no=str(number), name=f"会员{number}", phone="13900005678")


def _bind_and_unbind(chat: Chat) -> None:
    chat.send("1001", expect="后四位")
    chat.send("1234", expect="绑定成功")
    chat.send("解除绑定", expect="确定要解除")
    chat.press("是", expect="已解除")


def test_binding_ones_own_number_between_guesses_buys_no_fresh_tries(db: SessionFactory, chat: Chat) -> None:
    _roster(db)
    with time_machine.travel(NOW, tick=False):
        chat.send("/start")
        chat.send("1002")
        chat.send("0000", expect="还可以再试 2 次")
        _bind_and_unbind(chat)
        chat.send("1003")
        chat.send("0000", expect="还可以再试 1 次")
        _bind_and_unbind(chat)
        chat.send("1004")
        chat.send("0000", expect="请 15 分钟后再试")
        chat.send("1005", expect="请 15 分钟后再试")


def test_wrong_tries_count_on_the_member_behind_each_of_their_accounts(db: SessionFactory, bot: Bot) -> None:
    _roster(db)
    phone = Chat(bot, key="phone")
    wechat = Chat(bot, channel="wechat", key="openid")
    with time_machine.travel(NOW, tick=False):
        for account in (phone, wechat):
            account.send("/start")
            _bind_and_unbind(account)
        phone.send("1002")
        phone.send("0000", expect="还可以再试 2 次")
        phone.send("1003")
        phone.send("0000", expect="还可以再试 1 次")
        # Another account, the same member behind it: the member's third wrong try.
        wechat.send("1004")
        wechat.send("0000", expect="请 15 分钟后再试")
        # A stranger's account is not held up by that member's count.
        Chat(bot, key="stranger").send("1005", expect="后四位")


def test_a_success_clears_only_its_own_numbers_count(db: SessionFactory, bot: Bot) -> None:
    _roster(db)
    with time_machine.travel(NOW, tick=False):
        for key in ("a", "b"):
            guesser = Chat(bot, key=key)
            guesser.send("1002")
            guesser.send("0000")
        member = Chat(bot, key="member")
        member.send("1001")
        member.send("1234", expect="绑定成功")
        Chat(bot, key="c").send("1002")
        Chat(bot, key="c").send("0000", expect="请 15 分钟后再试")


def test_binding_again_and_again_is_told_to_wait_and_for_how_long(db: SessionFactory, chat: Chat) -> None:
    _roster(db)
    with time_machine.travel(NOW, tick=False) as traveller:
        chat.send("/start")
        for _ in range(5):
            _bind_and_unbind(chat)
        chat.send("1001", expect=["绑定次数太多", "请 24 小时后再绑定"])
        traveller.shift(timedelta(hours=23, minutes=30))
        chat.send("1001", expect="请 30 分钟后再绑定")
        traveller.shift(timedelta(minutes=31))
        chat.send("1001", expect="后四位")
        chat.send("1234", expect="绑定成功")


def test_rebinding_limit_follows_the_member_to_a_new_account(db: SessionFactory, bot: Bot) -> None:
    _roster(db)
    with time_machine.travel(NOW, tick=False):
        for number in range(5):
            _bind_and_unbind(Chat(bot, key=f"account-{number}"))
        fresh = Chat(bot, key="account-5")
        fresh.send("1001", expect="后四位")
        fresh.send("1234", expect=["绑定次数太多", "小时后再绑定"], absent=["绑定成功"])
        fresh.send("我的", expect="请先绑定会员身份")


def test_wrong_deep_link_codes_start_the_cooldown_and_spare_the_valid_code(
    db: SessionFactory, chat: Chat, bot: Bot
) -> None:
    with db() as session:
        member = make_member(session, phone=None)
        code = create_invite(session, member=member, now=bot.clock(), ttl=timedelta(days=7))
    wrong = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    with time_machine.travel(NOW, tick=False) as traveller:
        chat.send(f"/start {wrong}", expect="绑定码无效或已过期")
        chat.send(f"/start {wrong}", expect="绑定码无效或已过期")
        chat.send(f"/start {wrong}", expect="请 15 分钟后再试")
        for _ in range(197):
            chat.send(f"/start {wrong}", expect="分钟后再试")
        chat.send(f"/start {code}", expect="分钟后再试", absent=["绑定成功"])
        traveller.shift(timedelta(minutes=16))
        # The code was not used up while the account waited.
        chat.send(f"/start {code}", expect="绑定成功")


def test_wrong_typed_codes_count_too(db: SessionFactory, chat: Chat, bot: Bot) -> None:
    with db() as session:
        member = make_member(session, phone=None)
        code = create_invite(session, member=member, now=bot.clock(), ttl=timedelta(days=7))
    wrong = "ABCD-EFGH" if code != "ABCDEFGH" else "HGFE-DCBA"
    with time_machine.travel(NOW, tick=False):
        chat.send("你好", expect="请输入您的工号")
        for _ in range(2):
            chat.send(wrong, expect="后四位")  # it may be a 工号 too: nothing told
            chat.send("返回", expect="请输入您的工号")
        chat.send(wrong, expect="请 15 分钟后再试")
        chat.send(format_code(code), expect="分钟后再试", absent=["绑定成功"])


def test_a_number_shaped_like_a_code_is_not_a_wrong_code(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session, employee_no="23456789")
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            chat.send("23456789", expect="后四位")
            chat.send("返回", expect="请输入您的工号")
        chat.send("23456789", expect="后四位")
        chat.send("1234", expect="绑定成功")


def test_wrong_codes_from_wechat_qr_scenes_count_like_deep_links(db: SessionFactory, bot: Bot) -> None:
    """A WeChat follow or scan through a code's QR arrives as ``/start CODE`` (bot.channels.wechat)."""
    with db() as session:
        member = make_member(session, phone=None)
        code = create_invite(session, member=member, now=bot.clock(), ttl=timedelta(days=7))
    wrong = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    follower = Chat(bot, channel="wechat", key="openid")
    with time_machine.travel(NOW, tick=False):
        for _ in range(2):
            follower.send(f"/start {wrong}", expect="绑定码无效或已过期")
        follower.send(f"/start {wrong}", expect="请 15 分钟后再试")
        follower.send(f"/start {code}", expect="分钟后再试", absent=["绑定成功"])
