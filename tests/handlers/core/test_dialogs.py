"""Every kind of step, through a form declared only for this test."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from sqlmodel import select

from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import Ask, Choose, Confirm, DateStep, Flow, Number, Option, Photo, YesNo
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import Media, MediaKind, Reply
from handlers.core.module import Module
from handlers.core.router import Bot
from handlers.modules import REGISTRY, registry
from models.db import SessionFactory
from models.dialog_state import DialogState
from models.ephemeral import EphemeralStore
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat

SUBMITTED: list[dict[str, Any]] = []


def _summary(ctx: Context, data: dict[str, Any]) -> str:
    return f"标题：{data['title']}\n类别：{data['category']}"


def _done(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    SUBMITTED.append(data)
    return [Reply("已提交")]


FORM = Flow(
    name="form",
    steps=(
        Choose(
            "category",
            "请选择建议类别",
            options=(Option("energy", "节能降耗"), Option("safety", "安全生产")),
            label="类别",
        ),
        Ask("title", "请用一句话概括您的建议", max_length=40, label="标题"),
        Ask("detail", "补充说明", min_length=2, max_length=100, optional=True),
        Number("people", "涉及多少人", minimum=1, maximum=500),
        DateStep("when", "希望哪天开始", earliest=lambda today: today),
        YesNo("public", "是否实名"),
        Photo("photo", "请发一张照片", max_bytes=1024 * 1024, optional=True),
        Confirm(summary=_summary),
    ),
    on_done=_done,
)

FORM_FEATURE = Feature(
    name="form",
    label="测试表单",
    summary="测试",
    words=("/form", "表单"),
    run=lambda ctx, arg: ctx.dialogs.start(ctx, "form"),
)

DONE: list[str] = []


def _withdrawn(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    DONE.append("withdrawn" if data["sure"] else "kept")
    return [Reply("已撤回" if data["sure"] else "好的，照常发送")]


# A yes/no whose subject is itself a cancellation, and a photo that must be sent.
WITHDRAW = Flow(
    name="withdraw",
    steps=(YesNo("sure", "确定要撤回吗？", keeps="好的，这条照常发送。"),),
    on_done=_withdrawn,
)
EVIDENCE = Flow(
    name="evidence",
    steps=(Photo("photo", "请发一张现场照片"),),
    on_done=lambda ctx, data: [Reply("收到")],
)
EXTRA_FEATURES = (
    Feature(
        name="withdraw",
        label="撤回",
        summary="",
        words=("撤回测试",),
        run=lambda ctx, arg: ctx.dialogs.start(ctx, "withdraw"),
        in_menu=False,
    ),
    Feature(
        name="evidence",
        label="现场照片",
        summary="",
        words=("照片测试",),
        run=lambda ctx, arg: ctx.dialogs.start(ctx, "evidence"),
        in_menu=False,
    ),
)


@pytest.fixture
def form_chat(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Chat:
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(),
        registry=registry(
            Module(name="test", features=(FORM_FEATURE, *EXTRA_FEATURES), flows=(FORM, WITHDRAW, EVIDENCE))
        ),
    )
    with db() as session:
        make_member(session)
    chat = Chat(bot)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234", expect="绑定成功")
    SUBMITTED.clear()
    DONE.clear()
    return chat


def photo(size: int = 2048, mime: str = "image/jpeg", kind: MediaKind = MediaKind.PHOTO) -> Media:
    return Media(kind, "file-1", mime, size, "a.jpg")


def test_a_whole_form_with_every_kind_of_step(form_chat: Chat) -> None:
    chat = form_chat
    with time_machine.travel("2026-11-23 09:00 +0800", tick=False):
        chat.send("表单", expect=["请选择建议类别", "1. 节能降耗", "2. 安全生产"])
        chat.send("安全生产", expect="请用一句话概括")
        chat.send("  <b>换 LED 灯</b> 💡  ", expect="补充说明")
        chat.send("跳过", expect="涉及多少人")
        chat.send("五百零一", expect="请输入 1 到 500 之间的数字")
        chat.send("1.5", expect="请输入整数")
        chat.send("３０", expect="希望哪天开始")
        chat.send("昨天", expect="日期不能早于 2026-11-23")
        chat.send("明天", expect="是否实名")
        chat.send("嗯", expect="请发一张照片")
        chat.send_media(photo(size=2 * 1024 * 1024), expect="照片太大了：最大 1 MB")
        chat.send_media(photo(mime="image/gif"), expect="只能接收 JPG 或 PNG")
        chat.send_media(photo(kind=MediaKind.DOCUMENT), expect="请发送照片")
        chat.send_media(
            photo(), expect=["标题：  <b>换 LED 灯</b> 💡  ", "1. 确认", "2. 返回修改", "3. 取消"]
        )
        chat.press("确认", expect="已提交")
    assert [
        {
            "category": "safety",
            "title": "  <b>换 LED 灯</b> 💡  ",
            "detail": None,
            "people": 30,
            "when": (date(2026, 11, 24)).isoformat(),
            "public": True,
            "photo": {"ref": "file-1", "mime_type": "image/jpeg", "size": 2048},
        }
        | {"confirm": True}
    ] == SUBMITTED


def test_over_long_text_is_refused_with_its_limit_never_cut(form_chat: Chat) -> None:
    form_chat.send("表单")
    form_chat.send("1")
    form_chat.send("长" * 41, expect=["最多 40 个字", "您发了 41 个字"])
    form_chat.send("👨‍👩‍👧" * 40, expect="补充说明")  # a family emoji counts as one character


def test_control_characters_and_non_text_are_refused(form_chat: Chat) -> None:
    form_chat.send("表单")
    form_chat.send("1")
    form_chat.send("标题\u202e反转", expect="控制字符")
    form_chat.send_media(photo(), expect="请用文字回复")


def test_confirm_back_goes_to_the_last_step_and_cancel_writes_nothing(form_chat: Chat) -> None:
    chat = form_chat
    chat.send("表单")
    for answer in ("1", "标题", "跳过", "3", "2099-01-01", "否", "跳过"):
        chat.send(answer)
    chat.press("返回修改", expect="请发一张照片")
    chat.send("返回", expect="是否实名")
    chat.send("取消", expect="已取消")
    assert SUBMITTED == []


def test_a_spoken_answer_is_read_back_before_it_fills_a_field(form_chat: Chat) -> None:
    chat = form_chat
    chat.send("表单")
    chat.say("二", expect="请用一句话概括")  # a spoken choice needs no read-back
    chat.say("换节能灯", expect=["我听到的是：“换节能灯”", "是这样吗？", "1. 是", "2. 否"])
    chat.send("不对", expect=["请再说一遍，或直接打字回复", "请用一句话概括"])
    chat.say("换 LED 灯", expect="我听到的是：“换 LED 灯”")
    chat.press("是", expect="补充说明")
    chat.say("楼道", expect="我听到的是：“楼道”")
    chat.send("楼道里的灯", expect="涉及多少人")  # typing instead is a fresh answer
    chat.say("三十", expect="我听到的是：“三十”")
    chat.send("1", expect="希望哪天开始")
    chat.say("昨天", expect="日期不能早于")  # a wrong spoken answer is refused like a typed one
    chat.send("取消")
    assert SUBMITTED == []


def test_a_spoken_answer_that_is_too_long_is_refused_before_any_read_back(form_chat: Chat) -> None:
    form_chat.send("表单")
    form_chat.send("1")
    form_chat.say("长" * 41, expect="最多 40 个字", absent=["我听到的是"])


def test_a_voice_message_without_text_asks_for_text_and_repeats_the_question(form_chat: Chat) -> None:
    voice = Media(MediaKind.VOICE, "voice-1", "audio/amr")
    form_chat.send("表单")
    form_chat.send("1")
    form_chat.send_media(voice, expect=["这条语音没能识别成文字", "请用一句话概括"])
    form_chat.send("取消")
    form_chat.send_media(voice, expect=["这条语音没能识别成文字", "请选择要办理的事项"])


def test_back_on_the_first_step_leaves_the_form(form_chat: Chat) -> None:
    form_chat.send("表单")
    form_chat.send("返回", expect="请选择要办理的事项")
    form_chat.send("1", expect="姓名")


def test_help_inside_a_form_repeats_the_question(form_chat: Chat) -> None:
    form_chat.send("表单")
    form_chat.send("帮助", expect=["您正在办理一项事务", "请选择建议类别"])


def test_a_slash_command_leaves_the_form(form_chat: Chat) -> None:
    form_chat.send("表单")
    form_chat.send("/me", expect="姓名")
    form_chat.send("1", expect="姓名")  # the menu is open again, not the form


def test_timeout_is_a_setting(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> None:
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(dialog_timeout=timedelta(minutes=5)),
        registry=REGISTRY,
    )
    with db() as session:
        make_member(session)
    chat = Chat(bot)
    with time_machine.travel("2026-11-23 09:00 +0800", tick=False) as traveller:
        chat.send("/start")
        chat.send("1001")
        traveller.shift(timedelta(minutes=6))
        chat.send("1234", expect="超过 5 分钟没有回复")


def _to_the_summary(chat: Chat) -> None:
    chat.send("表单")
    for answer in ("1", "标题", "跳过", "3", "2099-01-01", "否"):
        chat.send(answer)
    chat.send("跳过", expect=["标题：标题", "要修改哪一项，请直接回复它的名称，例如“标题”。"])


def test_a_field_named_at_the_summary_is_asked_and_the_summary_comes_back(form_chat: Chat) -> None:
    chat = form_chat
    _to_the_summary(chat)
    chat.send("改标题", expect="请用一句话概括您的建议")
    chat.send("换 LED 灯", expect=["标题：换 LED 灯", "类别：energy"], absent=["补充说明", "涉及多少人"])
    chat.send("类别", expect="请选择建议类别")
    chat.press("安全生产", expect=["标题：换 LED 灯", "类别：safety"])
    chat.send("类别", expect="请选择建议类别")
    chat.send("返回", expect=["标题：换 LED 灯", "类别：safety"])  # nothing changed
    chat.send("确认", expect="已提交")
    assert SUBMITTED[0]["title"] == "换 LED 灯"
    assert SUBMITTED[0]["people"] == 3
    assert "_editing" not in SUBMITTED[0]


def test_a_command_word_at_a_free_text_step_asks_which_was_meant(form_chat: Chat) -> None:
    chat = form_chat
    chat.send("表单")
    chat.send("1")
    chat.send("菜单", expect=["您是想打开“主菜单”，还是把“菜单”作为标题填写？", "1. 打开“主菜单”"])
    chat.press("作为标题填写", expect="补充说明")
    chat.send("我的", expect="您是想打开“我的信息”，还是把“我的”作为回答填写？")  # a step without a label
    chat.press("打开“我的信息”", expect="工号：1001")
    assert SUBMITTED == []


def test_a_command_word_at_any_other_step_opens_it_unless_it_is_the_answer(form_chat: Chat) -> None:
    chat = form_chat
    chat.send("表单")
    chat.send("菜单", expect="请选择要办理的事项")  # a choice: 菜单 is no answer there
    chat.send("表单")
    for answer in ("1", "标题", "跳过", "3", "2099-01-01"):
        chat.send(answer)
    chat.send("我的", expect="工号：1001")  # at a yes/no
    assert SUBMITTED == []


def test_cancel_at_a_question_about_cancelling_says_what_stays(form_chat: Chat) -> None:
    chat = form_chat
    chat.send("撤回测试", expect=["确定要撤回吗？", "1. 是", "2. 否"])
    chat.send("取消", expect=["好的，这条照常发送。", "请选择要办理的事项"], absent=["已取消"])
    chat.send("撤回测试")
    chat.send("不撤回", expect="好的，照常发送")
    chat.send("撤回测试")
    chat.press("否", expect="好的，照常发送")
    chat.send("撤回测试")
    chat.send("返回", expect="好的，这条照常发送。")  # leaving the question at its first step
    chat.send("撤回测试")
    chat.send("一", expect="已撤回")
    assert DONE == ["kept", "kept", "withdrawn"]


def test_a_photo_that_must_be_sent_is_not_ended_by_done(form_chat: Chat) -> None:
    form_chat.send("照片测试", expect="请发一张现场照片", absent=["好了"])
    form_chat.send("好了", expect="请发送一张照片。")
    form_chat.send_media(photo(), expect="收到")


def test_done_and_skip_words_end_an_optional_photo(form_chat: Chat) -> None:
    chat = form_chat
    chat.send("表单")
    for answer in ("1", "标题", "跳过", "3", "2099-01-01"):
        chat.send(answer)
    chat.send("否", expect=["请发一张照片", "（发完请回复“好了”；不发照片请回复“跳过”）"])
    chat.send("就这些。", expect="请核对以上内容")


ONCE = Flow(
    name="once",
    steps=(Ask("word", "说一个词", max_length=10),),
    on_done=lambda ctx, data: [Reply(f"收到：{data['word']}")],
)
ONCE_FEATURE = Feature(
    name="once",
    label="一问一答",
    summary="测试",
    words=("/once",),
    run=lambda ctx, arg: ctx.dialogs.start(ctx, "once"),
    in_menu=False,
)


def open_dialogs(db: SessionFactory) -> list[str]:
    with db() as session:
        return [state.flow for state in session.exec(select(DialogState))]


def test_a_dialog_closed_is_gone_after_the_message_unless_the_message_opened_another(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues
) -> None:
    """Closing waits for the end of the message, where the next dialog's upsert may have replaced it."""
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(),
        registry=registry(Module(name="test", features=(ONCE_FEATURE,), flows=(ONCE,))),
    )
    with db() as session:
        bind(session, make_member(session), key="u1")
    chat = Chat(bot)
    chat.send("/once", expect="说一个词")
    assert open_dialogs(db) == ["once"]
    chat.send("你好", expect="收到：你好")  # done, and nothing opened after it
    assert open_dialogs(db) == []
    chat.send("菜单", expect="请选择要办理的事项")
    assert open_dialogs(db) == ["menu"]
    chat.send("/once", expect="说一个词")  # the menu closed, the form opened: one row, the form's
    assert open_dialogs(db) == ["once"]
    chat.send("取消", expect="请选择要办理的事项")  # cancelled: the menu follows
    assert open_dialogs(db) == ["menu"]
    chat.send("取消", expect="现在没有正在办理的事项")
    assert open_dialogs(db) == []
