"""困难申报 in chat: consent first, the form, the receipt; refusing stores nothing; filing for a member."""

from __future__ import annotations

import pytest
import time_machine
from sqlmodel import select

from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from models.db import SessionFactory
from models.dialog_state import DialogState
from models.hardship import CaseStatus, HardshipCase, HardshipCategory, HelpKind
from models.outbox import Outbox
from tests.handlers.conftest import Chat
from tests.handlers.hardship.people import NOW, STORY, Union, hardship_bot, pushes_to, union

__all__ = ["hardship_bot", "union"]


def fill_form(chat: Chat, *, urgent: bool = True) -> str:
    chat.send(
        "困难申报", expect=["只有负责您所在单位困难帮扶的工会干部能看到", "满 3 年后", "您同意提供以上信息吗"]
    )
    chat.send("同意", expect="请选择困难类别")
    chat.send("重大疾病", expect="家里遇到了什么困难")
    chat.send(STORY, expect="几口人")
    chat.send("4", expect="每月总收入")
    chat.send("3200元", expect="希望得到哪些帮助")
    chat.send("2 3", expect="情况紧急吗")
    chat.send("紧急" if urgent else "一般", expect="证明材料的照片")
    chat.send("跳过", expect="怎样、在什么时间和您联系")
    return chat.send(
        "工作日晚上打电话",
        expect=[
            "困难类别：重大疾病",
            f"情况说明：{STORY}",
            "家庭人口：4 人",
            "家庭月收入：3200.00 元",
            "希望得到的帮助：救助金、助学",
            "紧急程度：紧急" if urgent else "紧急程度：一般",
        ],
    )


def test_a_member_applies_and_the_chair_hears_at_once_without_a_detail(
    db: SessionFactory, hardship_bot: Bot, union: Union, catalogues: Catalogues
) -> None:
    with time_machine.travel(NOW, tick=False):
        member = Chat(hardship_bot, key="member")
        fill_form(member)
        member.send(
            "确认", expect=["已收到您的帮扶申请，编号 KN-2026-", "11月24日 前和您联系", "11月30日 前上门走访"]
        )
    with db() as session:
        case = session.exec(select(HardshipCase)).one()
        assert case.category is HardshipCategory.ILLNESS
        assert case.help_kinds == [HelpKind.RELIEF, HelpKind.SCHOOLING]
        assert (case.story, case.household_size, case.income_fen) == (STORY, 4, 320000)
        assert case.urgent
        assert case.status is CaseStatus.RECEIVED
        assert [state.flow for state in session.exec(select(DialogState))] == ["menu"]
    [(row, push)] = pushes_to(db, catalogues, "C1")
    assert row.urgent, "an urgent case reaches the chair during quiet hours too"
    assert push is not None
    assert "紧急帮扶申请" in push.reply.text
    assert "KN-2026-" in push.reply.text
    for secret in ("李娜", "脑梗", "3200", "重大疾病"):
        assert secret not in push.reply.text
    assert pushes_to(db, catalogues, "T1") == [], "the nearest handlers, not the plant's chair"
    assert pushes_to(db, catalogues, "O1") == []


def test_refusing_consent_stores_nothing(db: SessionFactory, hardship_bot: Bot, union: Union) -> None:
    with time_machine.travel(NOW, tick=False):
        member = Chat(hardship_bot, key="member")
        member.send("我家里老人住院了，想申请困难补助", expect="您同意提供以上信息吗")
        member.send("不同意", expect="我们没有保存任何信息")
    with db() as session:
        assert session.exec(select(HardshipCase)).first() is None
        assert session.exec(select(Outbox)).first() is None
        assert [state.flow for state in session.exec(select(DialogState))] == ["menu"]


def test_wrong_answers_are_asked_again_with_the_reason(hardship_bot: Bot, union: Union) -> None:
    with time_machine.travel(NOW, tick=False):
        member = Chat(hardship_bot, key="member")
        member.send("/hardship")
        member.send("是")
        member.send("1")
        member.send("难" * 2001, expect="最多 2000 个字")
        member.send(STORY)
        member.send("一百", expect="1 到 30")
        member.send("3")
        member.send("很多", expect="没看懂这个金额")
        member.send("2000")
        member.send("9", expect="没有“9”这个选项")


@pytest.mark.parametrize("words", ["困难帮扶", "申请困难补助", "救助", "想申请救助"])
def test_the_words_a_member_uses_open_the_form(hardship_bot: Bot, union: Union, words: str) -> None:
    with time_machine.travel(NOW, tick=False):
        Chat(hardship_bot, key="member").send(words, expect="您同意提供以上信息吗")


def test_a_cadre_files_for_a_member_who_is_told_and_sees_it(
    db: SessionFactory, hardship_bot: Bot, union: Union, catalogues: Catalogues
) -> None:
    with time_machine.travel(NOW, tick=False):
        chair = Chat(hardship_bot, key="chair")
        chair.send("代为申报", expect="工号")
        chair.send("O1", expect="不在您负责的单位")
        chair.send("1001", expect="本人同意由您代为申报")
        chair.send("是")
        chair.send("3")
        chair.send(STORY)
        chair.send("2")
        chair.send("0")
        chair.send("1")
        chair.send("一般")
        chair.send("跳过")
        chair.send("中午到车间找她", expect="请核对为李娜代为申报的帮扶申请")
        chair.send("确认", expect="已为李娜登记帮扶申请")
        member = Chat(hardship_bot, key="member")
        member.send("我的申请", expect=["（由工会干部代为登记）", "已受理，待走访", "工会干部会先和您联系"])
    told = [push for _row, push in pushes_to(db, catalogues, "1001")]
    assert len(told) == 1
    assert told[0] is not None
    assert "工会干部为您登记了一件帮扶申请" in told[0].reply.text
