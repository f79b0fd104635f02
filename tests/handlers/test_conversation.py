"""Whole conversations through the real router and dialog engine."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlmodel import Session, select

from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.accounts import ChatAccount
from models.db import SessionFactory
from models.roles import Role
from tests.factories import HOSTILE_NAME, make_member
from tests.handlers.conftest import Chat


def test_bind_menu_english_me_and_cancel_mid_dialog(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session, roles=[(Role.CHAIR, "厂工会/一车间")])

    chat.send("你好", expect=["欢迎使用工会助手", "请输入您的工号"])
    chat.send("１００１", expect="手机号的后四位")
    chat.send("1234", expect=["绑定成功", HOSTILE_NAME, "会员服务", "我的与设置"])
    # A chair's fifteen entries come in sections, as the WeChat menu groups them: two steps to any.
    chat.send("菜单", expect=["请选择要办理的事项", "1. 会员服务", "5. 帮扶工作", "6. 我的与设置"])
    chat.send("6", expect=["我的与设置：请选择要办理的事项", "1. 我的信息", "切换语言", "返回主菜单"])
    chat.send("返回主菜单", expect="1. 会员服务")
    chat.send("建议管理", expect=["建议办理", "季度评比", "建议统计"])
    chat.send("/lang", expect=["简体中文", "繁體中文", "English"])
    chat.press("English", expect=["English from now on", "Services"])
    chat.send("/me", expect=[HOSTILE_NAME, "1001", "厂工会/一车间/甲班", "138****1234", "25.00", "Telegram"])
    chat.send("/unbind", expect="Are you sure")
    chat.send("cancel", expect="OK, nothing has changed", absent=["Unbound", "Cancelled"])
    chat.send("/me", expect="1001")  # still bound: the cancelled form changed nothing


def test_unbound_account_can_only_bind_get_help_or_change_language(chat: Chat) -> None:
    chat.send("/me", expect=["请先绑定会员身份", "请输入您的工号"])
    chat.send("/help", expect="使用前请先绑定会员身份")
    chat.send("语言", expect="English")
    chat.send("3", expect="English from now on")
    chat.send("hello", expect="employee number")


def test_wrong_answers_are_re_asked_with_the_reason(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session)
    chat.send("/start")
    chat.send("   ", expect=["内容不能为空", "请输入您的工号"])
    chat.send("x" * 5000, expect=["最多 32 个字", "5000"])
    chat.send("工号'; DROP TABLE member;--", expect="工号只能包含字母、数字")
    chat.send("我想提个建议", expect=["先确认一下您的会员身份", "例如 1001", "请输入您的工号"])
    chat.send("1001", expect="后四位")
    chat.send("12a4", expect=["请输入手机号的最后 4 位数字", "后四位"])
    chat.send("0000", expect=["工号或手机号后四位不正确", "还可以再试 2 次", "请输入您的工号"])


def test_three_wrong_tries_start_a_cooldown_that_ends(db: SessionFactory, chat: Chat, bot: Bot) -> None:
    with db() as session:
        make_member(session)
    with time_machine.travel("2026-11-23 09:00 +0800", tick=False) as traveller:
        chat.send("/start")
        for left in (2, 1):
            chat.send("1001")
            chat.send("9999", expect=f"还可以再试 {left} 次")
        chat.send("1001")
        chat.send("9999", expect="请 15 分钟后再试")
        chat.send("1001", expect="请 15 分钟后再试")
        # Another account cannot get round the limit: it is counted per 工号 too.
        other = Chat(bot, key="someone-else")
        other.send("/start")
        other.send("1001", expect="分钟后再试")
        traveller.shift(timedelta(minutes=16))
        chat.send("1001", expect="后四位")
        chat.send("1234", expect="绑定成功")


def test_invite_code_binds_by_deep_link_once(db: SessionFactory, chat: Chat, bot: Bot) -> None:
    from models.invites import create_invite

    with db() as session:
        member = make_member(session, phone=None)
        code = create_invite(session, member=member, now=bot.clock(), ttl=timedelta(days=7))
    chat.send(f"/start {code}", expect="绑定成功")
    Chat(bot, key="thief").send(f"/start {code}", expect="绑定码无效或已过期")


def test_typed_invite_code_with_dash_and_lower_case_binds(db: SessionFactory, chat: Chat, bot: Bot) -> None:
    from models.invites import create_invite, format_code

    with db() as session:
        member = make_member(session, phone=None)
        code = create_invite(session, member=member, now=bot.clock(), ttl=timedelta(days=7))
    chat.send("你好")
    chat.send(format_code(code).lower(), expect="绑定成功")


def test_second_account_on_same_channel_replaces_the_first_after_confirmation(
    db: SessionFactory, chat: Chat, bot: Bot
) -> None:
    with db() as session:
        make_member(session)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234", expect="绑定成功")

    phone = Chat(bot, key="new-phone")
    phone.send("/start")
    phone.send("1001")
    phone.send("1234", expect="已在另一个Telegram账号上绑定")
    phone.send("否", expect="保留原来的绑定")
    phone.send("/me", expect="请先绑定会员身份")

    phone.send("1001")
    phone.send("1234", expect="要改用当前账号吗")
    phone.press("是", expect="绑定成功")
    chat.send("/me", expect="请先绑定会员身份")


def test_a_member_can_use_telegram_and_wechat_at_once(db: SessionFactory, bot: Bot) -> None:
    with db() as session:
        make_member(session)
    for channel in ("telegram", "wechat"):
        person = Chat(bot, channel=channel, key="same-id")
        person.send("/start")
        person.send("1001")
        person.send("1234", expect="绑定成功")
    Chat(bot, channel="wechat", key="same-id").send("我的", expect=["Telegram", "微信"])


def test_numbered_choices_forgive_full_width_and_chinese_numerals(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234")
    chat.send("语言")
    chat.send("４", expect="没有这个选项，请回复 1 到 3")
    chat.send("二", expect="繁體中文")
    chat.send("菜單")
    chat.send(" 1 ", expect="姓名")


def test_stale_dialog_expires_with_a_kind_message(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session)
    with time_machine.travel("2026-11-23 09:00 +0800", tick=False) as traveller:
        chat.send("/start")
        chat.send("1001", expect="后四位")
        traveller.shift(timedelta(minutes=31))
        chat.send("1234", expect=["超过 30 分钟没有回复，已自动取消", "请输入您的工号"])


def test_dialog_state_survives_a_restart(db: SessionFactory, chat: Chat, bot: Bot) -> None:
    with db() as session:
        make_member(session)
    chat.send("/start")
    chat.send("1001", expect="后四位")
    restarted = Bot(
        sessions=db, store=bot.store, catalogues=bot.catalogues, config=bot.config, registry=REGISTRY
    )
    Chat(restarted).send("1234", expect="绑定成功")


def test_back_returns_to_the_previous_step(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session)
    chat.send("/start")
    chat.send("1002", expect="后四位")
    chat.send("返回", expect="请输入您的工号")
    chat.send("1001")
    chat.send("1234", expect="绑定成功")


def test_unknown_words_get_help_not_silence(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234")
    chat.send("取消")
    chat.send("<script>alert(1)</script>", expect=["没看懂您的意思", "我的信息"])
    chat.send("/frobnicate", expect=["没看懂您的意思", "我的信息"])
    chat.send("🙂", expect="没看懂您的意思")


def test_a_stale_button_is_explained(db: SessionFactory, chat: Chat) -> None:
    with db() as session:
        make_member(session)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234")
    chat.send("/lang")
    language_buttons = chat.last
    chat.press("English")
    chat.last = language_buttons  # the member taps the old message again
    chat.press("English", expect="no longer works")


def test_unbind_then_bind_again(db: SessionFactory, chat: Chat, session: Session) -> None:
    with db() as s:
        make_member(s)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234")
    chat.send("解除绑定", expect="确定要解除")
    chat.press("是", expect="已解除当前账号的绑定")
    with db() as s:
        account = s.exec(select(ChatAccount)).one()
        assert account.member_id is None
    chat.send("我的", expect="请先绑定会员身份")


def test_back_from_the_replace_question_asks_for_the_phone_digits_again(db: SessionFactory, bot: Bot) -> None:
    with db() as session:
        make_member(session)
    Chat(bot, key="old-phone").send("1001")
    Chat(bot, key="old-phone").send("1234", expect="绑定成功")
    phone = Chat(bot, key="new-phone")
    phone.send("1001")
    phone.send("1234", expect="要改用当前账号吗")
    phone.send("返回", expect="手机号的后四位")
    phone.send("1234", expect="要改用当前账号吗")
    phone.send("是", expect="绑定成功")
