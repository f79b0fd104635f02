"""The whole path in chat: a member files an idea with a photo, the chair works it, each step told."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, col, select

from handlers.core.i18n import Catalogues
from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.members import Member
from models.outbox import Outbox
from models.roles import Role
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHOTO = Media(MediaKind.PHOTO, "data/media/telegram/boiler.jpg", "image/jpeg", 240_000)


@pytest.fixture
def union(db: SessionFactory) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        with db() as session:
            chair = make_member(
                session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")]
            )
            bind(session, chair, key="chair")
            member = make_member(session, employee_no="1001", name="李娜")
            bind(session, member, key="member")
        yield


class Proposer:
    """What reaches the proposer's phone: each new push, rendered as the worker would render it."""

    def __init__(self, db: SessionFactory, catalogues: Catalogues) -> None:
        self.db = db
        self.catalogues = catalogues
        self.seen = 0

    def told(self, *fragments: str) -> str:
        with self.db() as session:
            rows = self._rows(session)
            assert len(rows) == self.seen + 1, f"expected one new push, got {len(rows) - self.seen}"
            push = REGISTRY.pushes.render(session, rows[-1], self.catalogues.get("zh_CN"), SHANGHAI)
            self.seen = len(rows)
        assert push is not None
        for fragment in fragments:
            assert fragment in push.reply.text, f"expected {fragment!r} in:\n{push.reply.text}"
        return push.reply.text

    def _rows(self, session: Session) -> list[Outbox]:
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        return list(
            session.exec(select(Outbox).where(Outbox.member_id == member.id).order_by(col(Outbox.id)))
        )


def test_from_a_members_photo_to_an_award_the_member_is_told_at_every_step(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    with time_machine.travel(NOW, tick=False):
        member = Chat(bot, key="member")
        member.send("提建议")
        member.send("节能降耗")
        member.send("锅炉排污水余热回收", expect="请写下发现的问题")
        member.send("锅炉排污水温度很高，直接排掉可惜。建议加装换热器预热软化水。")
        member.send("每年可节约燃气")
        member.send("3万")
        member.send_media(PHOTO, expect="还可以再发一张")
        member.send("跳过")
        member.send("实名", expect=["照片：1 张", "预计创效：30000.00 元"])
        receipt = member.send("确认", expect=["您的建议已提交，编号 JY-2026-", "11月26日 前登记"])
        number = receipt.split("编号 ")[1].split("。")[0]

        proposer = Proposer(db, catalogues)
        chair = Chat(bot, key="chair")
        chair.send("建议办理", expect=[number, "待登记 1 条"])
        chair.send("1", expect=["提出人：李娜（工号 1001）", "照片 1/1"])
        assert [reply.image.path for reply in chair.last if reply.image is not None] == [PHOTO.ref]

        chair.press("登记分类")
        chair.press("节能降耗")
        chair.send("动力科")
        chair.press("我自己")
        chair.press("确认", expect="已登记")
        proposer.told(number, "已登记，类别：节能降耗，承办部门：动力科")

        chair.press("初评")
        chair.send("思路可行，请动力科测算。")
        chair.press("确认")
        proposer.told("初评意见：思路可行，请动力科测算。")

        chair.press("决定")
        chair.press("采纳")
        chair.send("投入少、回收快。")
        chair.press("确认", expect="已决定采纳")
        proposer.told("建议被采纳：投入少、回收快。")

        chair.press("开始实施")
        chair.send("今天")
        chair.send("动力科已订购换热器。")
        chair.press("确认")
        proposer.told("开始实施（2026-11-23）：动力科已订购换热器。")

        chair.press("实施效果")
        chair.send("2.8万")
        chair.send("今天")
        chair.send("软化水预热到 60 度。")
        chair.press("确认")
        proposer.told("实施完成（2026-11-23），创效 28000.00 元：软化水预热到 60 度。")

        chair.press("评奖")
        chair.press("银点子")
        chair.send("300")
        chair.press("确认")
        proposer.told("评为“银点子”，奖金 300.00 元")

        chair.press("答复提出人")
        chair.send("感谢您的好建议，奖金随本月工资发放。")
        chair.press("确认")
        proposer.told("答复：感谢您的好建议，奖金随本月工资发放。")

        chair.press("办结")
        chair.press("是", expect=f"{number} 已办结")
        proposer.told("办结")

        member.send(
            "我的建议",
            expect=[number, "状态：已办结"],
        )
        member.send(
            "1",
            expect=[
                "工会答复：感谢您的好建议，奖金随本月工资发放。",
                "评为“银点子”，奖金 300.00 元",
                "已登记，类别：节能降耗，承办部门：动力科",
            ],
        )
