"""我发起的活动 in conversation: a cadre sees who comes and calls the activity off."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.activities.render import render_cancelled
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from models.activities import Activity, ActivityStatus
from models.db import SessionFactory
from models.outbox import Outbox
from tests.handlers.activities.conftest import SHANGHAI, organise
from tests.handlers.conftest import Chat


def test_the_cadre_sees_who_comes_and_cancels_the_activity(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    for key in ("member", "second"):
        chat = Chat(bot, key=key)
        chat.send("活动报名")
        chat.send("1")
        chat.send("报名", expect="报名成功")
    cadre.send(
        "我发起的活动", expect=["我发起的活动（第 1/1 页，共 1 个）", "11-28 职工篮球赛（已报名 2/2 人）"]
    )
    cadre.send(
        "1",
        expect=[
            "状态：报名中",
            "报名人数：2 / 2",
            "1. 李娜（1001，厂工会/一车间/甲班）",
            "2. 赵强（1002，厂工会/一车间/乙班）",
            "取消活动",
        ],
    )
    cadre.press("取消活动", expect=["请简单说明取消的原因", "最多 100 个字", "没有可回复“跳过”"])
    cadre.send(
        "跳过",
        expect=["确定要取消活动“职工篮球赛”吗？已报名的 2 人会收到取消通知。", "（没有填写取消原因）"],
    )
    cadre.press("否", expect=["好的，活动照常进行", "报名人数：2"])
    cadre.press("取消活动", expect="请简单说明取消的原因")
    cadre.send("场馆临时检修。", expect=["确定要取消活动“职工篮球赛”吗", "取消原因：场馆临时检修。"])
    cadre.press("是", expect="已取消活动“职工篮球赛”，正在通知已报名的 2 人")
    with db() as session:
        activity = session.exec(select(Activity)).one()
        assert activity.status is ActivityStatus.CANCELLED
        rows = session.exec(select(Outbox).order_by(col(Outbox.member_id))).all()
        assert [row.key for row in rows] == [
            f"activity:{activity.id}:cancelled:member:{row.member_id}" for row in rows
        ]
        assert len(rows) == 2
        texts = {}
        for locale in ("zh_CN", "zh_TW", "en"):
            push = render_cancelled(session, rows[0], catalogues.get(locale), SHANGHAI)
            assert push is not None
            texts[locale] = (push.title, push.reply.text)
    assert texts["zh_CN"] == (
        "活动取消通知",
        "很抱歉，您报名的活动“职工篮球赛”（2026-11-28 14:00，职工之家体育馆）已取消。\n"
        "取消原因：场馆临时检修。",
    )
    assert texts["zh_TW"][0] == "活動取消通知"
    assert "“职工篮球赛”" in texts["zh_TW"][1] or "「职工篮球赛」" in texts["zh_TW"][1]  # as typed
    assert texts["en"][1].startswith("Sorry")
    cadre.send("我发起的活动", expect="（已取消）")
    cadre.send("1", expect=["状态：已取消", "取消原因：场馆临时检修。"], absent=["取消活动"])
    member = Chat(bot, key="member")
    member.send("活动报名", expect=["我的报名", "（活动已取消）", "取消原因：场馆临时检修。"])
    member.send("1", expect=["这个活动已经取消了", "取消原因：场馆临时检修。"])
    assert member.buttons() == ["返回列表"]


def test_the_reason_is_optional_and_its_limit_is_named(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    member = Chat(bot, key="member")
    member.send("活动报名")
    member.send("1")
    member.send("报名", expect="报名成功")
    cadre.send("我发起的活动")
    cadre.send("1")
    cadre.send("取消活动", expect="请简单说明取消的原因，会一并告诉已报名的会员（最多 100 个字）。")
    cadre.send("因" * 101, expect=["最多 100 个字，您发了 101 个字", "请简单说明取消的原因"])
    cadre.send("返回", expect="接下来要做什么")
    cadre.send("取消活动", expect="请简单说明取消的原因")
    cadre.send("跳过", expect="（没有填写取消原因）")
    cadre.send("是", expect="已取消活动“职工篮球赛”，正在通知已报名的 1 人")
    with db() as session:
        activity = session.exec(select(Activity)).one()
        assert activity.cancel_reason is None
        row = session.exec(select(Outbox)).one()
        push = render_cancelled(session, row, catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert (
            push.reply.text == "很抱歉，您报名的活动“职工篮球赛”（2026-11-28 14:00，职工之家体育馆）已取消。"
        )
    member.send("我的报名", expect="（活动已取消）", absent=["取消原因"])
