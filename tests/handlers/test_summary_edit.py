"""A summary changes one answer by its name, then comes back: no walking back through the whole form.

Issue #14, item 8: 返回修改 at a summary went back one step, so fixing the title took about six 返回.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from models.activities import Activity
from models.db import SessionFactory
from models.suggestions import Suggestion, SuggestionPhoto
from tests.handlers.conftest import Chat
from tests.handlers.workshop import NOW, seed_workshop

PHOTO = Media(MediaKind.PHOTO, "data/media/telegram/spot.jpg", "image/jpeg", 120_000)
OFFER = "要修改哪一项，请直接回复它的名称，例如“标题”。"


@pytest.fixture
def clock(db: SessionFactory) -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        seed_workshop(db)
        yield traveller


def _to_the_summary(member: Chat) -> None:
    member.send("提建议")
    member.send("3")
    member.send("叉车通道加装凸面镜")
    member.send("在拐角处装凸面镜，避免叉车撞人。")
    member.send("跳过")
    member.send("跳过")
    member.send_media(PHOTO)
    member.send_media(PHOTO)
    member.send("好了")
    member.send(
        "匿名",
        expect=["标题：叉车通道加装凸面镜", "照片：2 张", "提交方式：匿名", OFFER, "1. 确认", "2. 返回修改"],
    )


def test_the_title_is_changed_by_its_name_and_the_summary_comes_back(
    db: SessionFactory, bot: Bot, clock: time_machine.Traveller
) -> None:
    member = Chat(bot, key="member")
    _to_the_summary(member)
    member.send("标题", expect="请用一句话概括您的建议（不超过 40 个字）")
    member.send(
        "叉车通道拐角加装凸面镜",
        expect=[
            "标题：叉车通道拐角加装凸面镜",
            "问题和建议措施：在拐角处装凸面镜，避免叉车撞人。",
            "照片：2 张",
            "提交方式：匿名",
            OFFER,
        ],
    )
    member.send("确认", expect="您的建议已提交")
    with db() as session:
        suggestion = session.exec(select(Suggestion)).one()
        assert (suggestion.title, suggestion.anonymous) == ("叉车通道拐角加装凸面镜", True)
        assert len(session.exec(select(SuggestionPhoto)).all()) == 2


def test_fields_are_named_loosely_and_back_returns_to_the_summary_unchanged(
    bot: Bot, clock: time_machine.Traveller
) -> None:
    member = Chat(bot, key="member")
    _to_the_summary(member)
    member.send("改一下措施", expect="请写下发现的问题和您建议的做法")
    member.send("返回", expect=["问题和建议措施：在拐角处装凸面镜，避免叉车撞人。", OFFER])
    member.send("类别", expect="请选择建议类别")
    member.press("节能降耗", expect=["类别：节能降耗", "标题：叉车通道加装凸面镜", "照片：2 张"])
    member.send("地点", expect=["请回复 1 确认，2 返回修改，3 取消。", OFFER])  # no such field here


def test_photos_are_asked_again_whole(db: SessionFactory, bot: Bot, clock: time_machine.Traveller) -> None:
    member = Chat(bot, key="member")
    _to_the_summary(member)
    member.send("照片", expect="可以发一张现场照片")
    member.send("返回", expect="照片：2 张")  # changed their mind: both photos are still there
    member.send("照片", expect="可以发一张现场照片")
    member.send_media(PHOTO, expect="还可以再发一张")
    member.send("好了", expect=["照片：1 张", "提交方式：匿名"])
    member.send("确认", expect="您的建议已提交")
    with db() as session:
        assert len(session.exec(select(SuggestionPhoto)).all()) == 1


def test_back_to_change_still_goes_one_step_back_on_every_channel(
    bot: Bot, clock: time_machine.Traveller
) -> None:
    telegram = Chat(bot, key="member")
    _to_the_summary(telegram)
    telegram.press("返回修改", expect="评审时是否显示您的姓名")
    telegram.send("匿名", expect=OFFER)
    telegram.send("返回修改", expect="评审时是否显示您的姓名")
    wechat = Chat(bot, channel="wechat", key="wx-member")
    _to_the_summary(wechat)
    wechat.send("2", expect="评审时是否显示您的姓名")
    wechat.send("2", expect=OFFER)
    wechat.send("标题", expect="请用一句话概括您的建议")
    wechat.send("叉车通道拐角加装凸面镜", expect="标题：叉车通道拐角加装凸面镜")


def _activity_summary(cadre: Chat, *, starts: str, deadline: str) -> None:
    cadre.send("发起活动")
    cadre.send("一车间职工篮球赛")
    cadre.send("文体")
    cadre.send("三人制，自带球鞋。")
    cadre.send("职工之家体育馆")
    cadre.send("一次举行")
    cadre.send(starts)
    cadre.send("跳过")
    cadre.send(deadline)
    cadre.send("10")
    cadre.send("先到先得")
    cadre.send("不设优先")
    cadre.send("1")
    cadre.send("跳过")
    cadre.send("否", expect=["请核对活动信息", "要修改哪一项，请直接回复它的名称，例如“活动名称”。"])


def test_a_change_that_breaks_a_rule_asks_what_it_affects(
    db: SessionFactory, bot: Bot, clock: time_machine.Traveller
) -> None:
    cadre = Chat(bot, key="cadre")
    _activity_summary(cadre, starts="11月28日下午2点", deadline="11月26日 18:00")
    cadre.send("时间", expect="活动什么时候开始")
    cadre.send("11月25日下午2点", expect=["报名截止时间不能晚于活动开始时间", "报名截止到什么时候"])
    cadre.send(
        "11月24日 18:00", expect=["时间：2026-11-25 14:00", "报名截止：2026-11-24 18:00", "名额：10 人"]
    )
    cadre.send("报名范围", expect="哪些会员可以报名")
    cadre.send("指定单位", expect="请回复可以报名的单位编号")  # what the new answer needs is asked
    cadre.send("2", expect="报名范围：厂工会/一车间/甲班")
    cadre.send("确认", expect="已发布")
    with db() as session:
        assert session.exec(select(Activity)).one().title == "一车间职工篮球赛"


def test_times_that_passed_while_the_summary_was_read_are_asked_then_the_summary(
    bot: Bot, clock: time_machine.Traveller
) -> None:
    cadre = Chat(bot, key="cadre")
    _activity_summary(cadre, starts="9:20", deadline="9:10")
    clock.shift(timedelta(minutes=25))
    cadre.send("确认", expect=["这个活动时间已经过去了", "活动什么时候开始"])
    cadre.send("11月28日下午2点", expect=["这个报名截止时间已经过去了", "报名截止到什么时候"])
    cadre.send("11月26日 18:00", expect=["时间：2026-11-28 14:00", "报名截止：2026-11-26 18:00"])
    cadre.send("确认", expect="已发布")


def test_a_notice_s_recipients_are_changed_by_name(bot: Bot, clock: time_machine.Traveller) -> None:
    cadre = Chat(bot, key="cadre")
    cadre.send("发通知")
    cadre.send("1")
    cadre.send("周五下午停电检修")
    cadre.send("周五下午两点到四点停电，请提前保存工作。")
    cadre.send("跳过")
    cadre.send("1")
    cadre.send("立即发送", expect=["发送对象：全体会员（厂工会/一车间）", OFFER])
    cadre.send("发送对象", expect="请选择发送对象")
    cadre.send("指定单位", expect="请回复要发送的单位编号")
    cadre.send("3", expect=["发送对象：厂工会/一车间/乙班", "发送时间：立即发送", OFFER])
    cadre.send("正文", expect="请输入正文")
    cadre.send(
        "周五下午两点到五点停电。", expect=["周五下午两点到五点停电。", "发送对象：厂工会/一车间/乙班"]
    )
    cadre.send("确认", expect="通知开始发给 1 人")
