"""The whole path in chat: consent, the report with a document photo, the urgent push, the visit, the
decision, two disbursements, the review reminder and the close — the member told at each step, never how."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from sqlmodel import select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.messages import Media, MediaKind
from handlers.core.module import JobContext
from handlers.core.router import Bot
from handlers.hardship.jobs import DEADLINES_JOB
from models.db import SessionFactory
from models.hardship import CaseStatus, HardshipCase, HardshipDisbursement, HardshipPolicy
from tests.handlers.conftest import Chat
from tests.handlers.hardship.people import NOW, STORY, Union, hardship_bot, pushes_to, union

__all__ = ["hardship_bot", "union"]

MEMBER_PUSH = "您的帮扶申请有新进展，请回复“我的申请”查看。"


def test_from_consent_to_close(
    db: SessionFactory, hardship_bot: Bot, union: Union, catalogues: Catalogues
) -> None:
    channel_folder = union.media_dir / "telegram"
    channel_folder.mkdir(parents=True)
    photo = channel_folder / "diagnosis.jpg"
    photo.write_bytes(b"\xff\xd8 diagnosis of the father \xff\xd9")
    with time_machine.travel(NOW, tick=False):
        member = Chat(hardship_bot, key="member")
        member.send("困难申报")
        member.send("是")
        member.send("1")
        member.send(STORY)
        member.send("4")
        member.send("3200")
        member.send("2")
        member.send("紧急")
        member.send_media(Media(MediaKind.PHOTO, str(photo), "image/jpeg", 40), expect="还可以再发一张")
        member.send("好了", expect="怎样、在什么时间和您联系")
        member.send("工作日晚上打电话", expect="证明材料照片：1 张")
        member.send("确认", expect="这是紧急申请")
    assert not photo.exists(), "the channel's clear copy goes once sealed"
    [sealed] = (union.media_dir / "hardship").iterdir()
    assert b"diagnosis" not in sealed.read_bytes()

    [(row, push)] = pushes_to(db, catalogues, "C1")
    assert row.urgent
    assert push is not None
    assert "紧急帮扶申请" in push.reply.text

    chair = Chat(hardship_bot, key="chair")
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        chair.send("帮扶办理", expect="紧急")
        chair.send("1", expect=["证明材料照片：1 张", "查看证明材料"])
        chair.send("查看证明材料", expect="证明材料 1/1")
        [image] = [reply.image for reply in chair.last if reply.image is not None]
        assert Path(image.path).read_bytes() == b"\xff\xd8 diagnosis of the father \xff\xd9"
        chair.send("记录走访", expect="哪天走访")
        chair.send("今天")
        chair.send("王主席、赵会计")
        chair.send("夫妻二人带一个上学的孩子，老人住院。")
        chair.send("本人焦虑，但配合治疗安排。")
        chair.send("父亲重病，医药费负担重。")
        chair.send("急需医药费和孩子学费。")
        chair.send("跳过", expect=["走访人：王主席、赵会计", "生活需求：急需医药费和孩子学费。"])
        chair.send("确认", expect="走访已记录")
        chair.send("帮扶决定")
        chair.send("2", expect="金额多少元")
        chair.send("5000")
        chair.send("跳过")
        chair.send("困难职工帮扶资金")
        chair.send("经走访核实，家庭收入低于当地标准。", expect="金额或物品：5000.00 元")
        chair.send("确认", expect="帮扶决定已记录")
        chair.send("登记发放")
        chair.send("今天")
        chair.send("3000")
        chair.send("跳过")
        chair.send("困难职工帮扶资金")
        chair.send("确认", expect="发放已登记")
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        chair.send("帮扶办理")
        chair.send("1", expect=["已发放：", "3000.00 元（困难职工帮扶资金，王主席经办）"])
        chair.send("登记发放")
        chair.send("今天")
        chair.send("2000")
        chair.send("米一袋、油一桶")
        chair.send("困难职工帮扶资金")
        chair.send("确认", expect="发放已登记")
        chair.send("动态管理")
        chair.send("2027-03-01")
        chair.send("确认", expect="已转入动态管理")

    with db() as session:
        case = session.exec(select(HardshipCase)).one()
        assert case.status is CaseStatus.REVIEW
        given = session.exec(select(HardshipDisbursement)).all()
        assert [(row.amount_fen, row.goods) for row in given] == [(300000, None), (200000, "米一袋、油一桶")]

    # The working day before the review date (a Monday): the chair is reminded, once however often it runs.
    config = CoreConfig(policies={HardshipPolicy: HardshipPolicy(media_dir=union.media_dir)})
    review_eve = NOW.replace(year=2027, month=2, day=26)
    context = JobContext(sessions=db, config=config, clock=lambda: review_eve)
    assert DEADLINES_JOB.run(context) == 1
    assert DEADLINES_JOB.run(context) == 0
    reminder = pushes_to(db, catalogues, "C1")[-1][1]
    assert reminder is not None
    assert "“动态管理回访”期限是 3月1日" in reminder.reply.text

    with time_machine.travel(review_eve + timedelta(days=3), tick=False):
        chair.send("帮扶办理")
        chair.send("1")
        chair.send("办结")
        chair.send("孩子已返校，父亲出院，困难已缓解。")
        chair.send("确认", expect="已办结")
        member.send(
            "我的申请",
            expect=["已办结", "已收到的帮扶：", "3000.00 元", "2000.00 元，米一袋、油一桶"],
            absent=["王主席", "焦虑", "家庭收入低于", "困难已缓解"],
        )

    told = [push for _row, push in pushes_to(db, catalogues, "1001")]
    assert len(told) == 6  # visited, decided, two disbursements, review, closed
    assert all(push is not None and push.body == MEMBER_PUSH for push in told)
