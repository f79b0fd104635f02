"""The words help promises (菜单, 帮助, 取消, 返回, 我的) work at every step of a form.

Issue #14, item 2: 菜单 typed at the suggestion's title was stored as the title, and then 我的建议 as the
measure, though help says 随时回复“菜单”查看全部功能. Where such a word could be the answer (a free-text
step) the member is asked which was meant; anywhere else it does what it says.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from sqlmodel import select

from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from models.db import SessionFactory
from models.suggestions import Suggestion
from tests.handlers.conftest import Chat
from tests.handlers.workshop import NOW, seed_workshop

PHOTO = Media(MediaKind.PHOTO, "data/media/telegram/spot.jpg", "image/jpeg", 120_000)
MENU = "请选择要办理的事项"


@pytest.fixture
def member(db: SessionFactory, bot: Bot) -> Iterator[Chat]:
    with time_machine.travel(NOW, tick=False):
        seed_workshop(db)
        yield Chat(bot, key="member")


def _suggestions(db: SessionFactory) -> list[Suggestion]:
    with db() as session:
        return list(session.exec(select(Suggestion)).all())


def test_menu_typed_as_the_title_asks_which_was_meant(db: SessionFactory, member: Chat) -> None:
    member.send("提建议", expect="请选择建议类别")
    member.send("1", expect="请用一句话概括您的建议")
    member.send("菜单", expect="您是想打开“主菜单”，还是把“菜单”作为标题填写？", absent=["请写下发现的问题"])
    assert member.buttons() == ["打开“主菜单”", "作为标题填写"]
    member.press("打开“主菜单”", expect=MENU)
    assert _suggestions(db) == []


def test_my_suggestions_typed_as_the_measure_asks_too_and_opens_it(db: SessionFactory, member: Chat) -> None:
    member.send("提建议")
    member.send("1")
    member.send("菜单", expect="作为标题填写")
    member.send("2", expect="请写下发现的问题和您建议的做法")  # it was meant as the title after all
    member.send("我的建议", expect="您是想打开“我的建议”，还是把“我的建议”作为问题和建议措施填写？")
    member.send("1", expect="您还没有提过建议")
    assert _suggestions(db) == []


def test_the_word_kept_as_the_answer_is_stored_as_typed(db: SessionFactory, member: Chat) -> None:
    member.send("提建议")
    member.send("1")
    member.send("菜单", expect="作为标题填写")
    member.press("作为标题填写", expect="请写下发现的问题和您建议的做法")
    member.send("食堂菜单每周只换一次，建议每周换两次。", expect="预期能带来什么效益")
    member.send("跳过")
    member.send("跳过")
    member.send("跳过")
    member.send("实名", expect=["标题：菜单", "问题和建议措施：食堂菜单每周只换一次"])
    member.send("确认", expect="您的建议已提交")
    assert [suggestion.title for suggestion in _suggestions(db)] == ["菜单"]


def test_on_wechat_the_choice_is_a_numbered_reply(db: SessionFactory, bot: Bot, member: Chat) -> None:
    wechat = Chat(bot, channel="wechat", key="wx-member")
    wechat.send("提建议")
    wechat.send("一", expect="请用一句话概括您的建议")
    wechat.send("我的", expect=["您是想打开“我的信息”，还是把“我的”作为标题填写？", "1. 打开“我的信息”"])
    wechat.send("1", expect="工号：1001")
    assert _suggestions(db) == []


def test_back_and_cancel_at_the_which_question(db: SessionFactory, member: Chat) -> None:
    member.send("提建议")
    member.send("1")
    member.send("菜单", expect="作为标题填写")
    member.send("返回", expect="请用一句话概括您的建议", absent=["请选择建议类别"])
    member.send("菜单", expect="作为标题填写")
    member.send("菜单", expect=MENU)  # said again: the member means it
    member.send("提建议")
    member.send("1")
    member.send("帮助", expect=["您正在办理一项事务", "请用一句话概括您的建议"])
    member.send("菜单", expect="作为标题填写")
    member.send("叉车通道加装凸面镜", expect="请写下发现的问题")  # a fresh answer instead
    member.send("我的建议", expect="作为问题和建议措施填写")
    member.send("取消", expect=["已取消", MENU])
    assert _suggestions(db) == []


# The steps of 提建议 one by one, with the answers that lead to each: 菜单 must reach the menu everywhere.
_TO_STEP = {
    "category": [],
    "title": ["1"],
    "measure": ["1", "叉车通道加装凸面镜"],
    "benefit": ["1", "叉车通道加装凸面镜", "在拐角处装凸面镜，避免叉车撞人。"],
    "amount": ["1", "叉车通道加装凸面镜", "在拐角处装凸面镜，避免叉车撞人。", "跳过"],
    "photo": ["1", "叉车通道加装凸面镜", "在拐角处装凸面镜，避免叉车撞人。", "跳过", "跳过"],
    "name": ["1", "叉车通道加装凸面镜", "在拐角处装凸面镜，避免叉车撞人。", "跳过", "跳过", "跳过"],
    "summary": ["1", "叉车通道加装凸面镜", "在拐角处装凸面镜，避免叉车撞人。", "跳过", "跳过", "跳过", "1"],
}
_FREE_TEXT = {"title", "measure", "benefit"}


@pytest.mark.parametrize("step", list(_TO_STEP))
def test_help_s_promise_holds_at_every_step(db: SessionFactory, member: Chat, step: str) -> None:
    member.send(
        "帮助", expect="随时回复“菜单”查看全部功能，回复“取消”退出正在进行的操作，回复“返回”回到上一步。"
    )
    member.send("提建议")
    for answer in _TO_STEP[step]:
        member.send(answer)
    question = member.last[-1].text
    member.send("帮助", expect=["您正在办理一项事务", question])
    if step in _FREE_TEXT:
        member.send("菜单", expect="您是想打开“主菜单”")
        member.send("1", expect=MENU)
    else:
        member.send("菜单", expect=MENU)
    member.send("提建议")
    for answer in _TO_STEP[step]:
        member.send(answer)
    if step != "category":
        member.send("返回", absent=[question])
    member.send("取消", expect=["已取消", MENU])
    assert _suggestions(db) == []
