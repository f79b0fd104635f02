"""The organiser's list: removing a sign-up with a reason the member is told, and the .xlsx."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import select

from handlers.activities.roster import render_removed
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.activities import PROMOTED_TOPIC, REMOVED_TOPIC, ActivitySignup, SignupStatus
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.outbox import Outbox
from tests.handlers.activities.conftest import SHANGHAI, organise
from tests.handlers.conftest import Chat


def test_the_organiser_removes_a_sign_up_the_member_is_told_and_the_first_waiting_moves_in(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, union: None, tmp_path: Path
) -> None:
    config = CoreConfig(export_dir=tmp_path, dialog_timeout=timedelta(minutes=30))
    bot = Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)
    cadre = Chat(bot, key="cadre")
    organise(cadre, capacity="1")
    cadre.send("确认")
    member, second = Chat(bot, key="member"), Chat(bot, key="second")
    member.send("活动报名")
    member.send("1")
    member.send("报名", expect="报名成功")
    second.send("活动报名")
    second.send("1")
    second.press("排队候补", expect="目前排第 1 位")

    cadre.send("我发起的活动")
    cadre.send("1", expect=["1. 李娜（1001", "候补1. 赵强（1002"])
    cadre.press("导出名单", expect="“职工篮球赛”的报名名单：已报名 1 人，候补 1 人。")
    file = next(reply.file for reply in cadre.last if reply.file is not None)
    assert file.name == "报名名单-职工篮球赛.xlsx"
    sheet = load_workbook(file.path).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows[0] == ["序号", "姓名", "工号", "单位", "状态", "报名时间", "到场", "批次", "回答"]
    assert [row[:5] for row in rows[1:]] == [
        [1, "李娜", "1001", "厂工会/一车间/甲班", "已报名"],
        [2, "赵强", "1002", "厂工会/一车间/乙班", "候补"],
    ]

    cadre.press("移除报名", expect="请回复要移除的会员在名单上的序号")
    cadre.send("5", expect="没有这个序号")
    cadre.send("1", expect="请说明移除的原因")
    cadre.send("x" * 101, expect="最多 100 个字")
    cadre.send(
        "不是本车间职工家属。",
        expect="确定把 李娜（1001） 移出“职工篮球赛”的名单吗？会告诉本人原因：不是本车间职工家属。",
    )
    cadre.press("是", expect=["已把 李娜（1001） 移出名单", "1. 赵强（1002"])
    with db() as session:
        statuses = {s.member_id: s.status for s in session.exec(select(ActivitySignup))}
        assert sorted(statuses.values()) == [SignupStatus.REMOVED, SignupStatus.SIGNED_UP]
        removed = session.exec(select(Outbox).where(Outbox.topic == REMOVED_TOPIC)).one()
        assert session.exec(select(Outbox).where(Outbox.topic == PROMOTED_TOPIC)).one()
        push = render_removed(session, removed, catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert push.reply.text == (
            "很抱歉，组织人调整了活动“职工篮球赛”（2026-11-28 14:00，职工之家体育馆）的名单，"
            "您的报名已被移除。\n原因：不是本车间职工家属。\n如有疑问，请联系活动组织人。"
        )
        for locale in ("zh_TW", "en"):
            assert render_removed(session, removed, catalogues.get(locale), SHANGHAI) is not None
    member.send("活动报名")
    member.send("1")
    member.send("排队候补", expect="您的报名已被活动组织人移除，不能再报名")
