"""Announcing an activity to those who may join, a question at sign-up, and a change of time or place."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.activities.render import render_announced, render_changed
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from models.activities import ANNOUNCED_TOPIC, CHANGED_TOPIC, Activity
from models.db import SessionFactory
from models.members import Member
from models.outbox import Outbox
from tests.handlers.activities.conftest import SHANGHAI, organise
from tests.handlers.conftest import Chat


def test_publishing_can_announce_it_and_members_answer_the_question_when_signing_up(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    summary = organise(cadre, question="衣服尺码", choices="S、M、L", announce="是")
    assert "报名时回答：衣服尺码（S、M、L）" in summary
    assert "发布后通知可以报名的 3 位会员。" in summary  # the chair, 李娜 and 赵强 of 一车间
    cadre.press("确认", expect="活动“职工篮球赛”已发布，正在通知厂工会/一车间的 3 位会员。")
    with db() as session:
        activity = session.exec(select(Activity)).one()
        rows = session.exec(select(Outbox).where(Outbox.topic == ANNOUNCED_TOPIC)).all()
        names = {m.id: m.name for m in session.exec(select(Member))}
        assert sorted(names[row.member_id] for row in rows) == ["李娜", "王主席", "赵强"]
        push = render_announced(session, rows[0], catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert push.title == "新活动：职工篮球赛"
        assert f"回复“活动 {activity.id}”查看并报名" in push.reply.text
        assert [button.payload for button in push.reply.buttons] == [f"go:activities:{activity.id}"]
        for locale in ("zh_TW", "en"):
            assert render_announced(session, rows[0], catalogues.get(locale), SHANGHAI) is not None
    member = Chat(bot, key="member")
    member.send(f"活动 {activity.id}", expect=["【活动】职工篮球赛", "类别：文体", "报名时请回答：衣服尺码"])
    member.press("报名", expect=["报名请回答：衣服尺码", "1. S", "3. L"])
    member.send("XL", expect="报名请回答：衣服尺码")
    member.send("2", expect="报名成功")
    member.send(f"活动{activity.id}", expect=["您已报名这个活动", "您的回答：M"])
    cadre.send("我发起的活动")
    cadre.send("1", expect="1. 李娜（1001，厂工会/一车间/甲班）：M")


def test_a_free_answer_and_a_change_of_time_and_place_told_to_those_signed_up(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre, question="参赛项目")
    cadre.press("确认", expect="会员现在可以在“活动报名”里报名了")
    member = Chat(bot, key="member")
    member.send("活动报名")
    member.send("1")
    member.press("报名", expect=["报名请回答：参赛项目", "最多 100 个字"])
    member.send("三分球", expect="报名成功")
    cadre.send("我发起的活动")
    cadre.send("1", expect="：三分球")
    cadre.press("修改时间地点", expect=["新的开始时间是", "时间不变请回复“跳过”"])
    cadre.send("11月29日下午3点", expect="新的地点是")
    cadre.send(
        "跳过", expect="确定改为 2026-11-29 15:00，在职工之家体育馆举行吗？已报名和候补的 1 人会收到通知。"
    )
    cadre.press("是", expect="已修改，正在通知已报名和候补的 1 人。")
    cadre.press("修改时间地点")
    cadre.send("跳过")
    cadre.send("二号球场", expect="确定改为 2026-11-29 15:00，在二号球场举行吗")
    cadre.press("是")
    cadre.press("修改时间地点")
    cadre.send("跳过")
    cadre.send("跳过")
    cadre.press("是", expect="时间和地点都没有变，不用通知大家")
    with db() as session:
        activity = session.exec(select(Activity)).one()
        assert (activity.place, activity.revision) == ("二号球场", 2)
        first, second = session.exec(
            select(Outbox).where(Outbox.topic == CHANGED_TOPIC).order_by(col(Outbox.id))
        ).all()
        assert render_changed(session, first, catalogues.get("zh_CN"), SHANGHAI) is None  # overtaken
        push = render_changed(session, second, catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert (
            push.reply.text
            == "您报名的活动“职工篮球赛”有变动，现在改为：2026-11-29 15:00，在二号球场举行。请留意。"
        )
        assert render_changed(session, second, catalogues.get("en"), SHANGHAI) is not None
