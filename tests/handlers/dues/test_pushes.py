"""The month's pushes as each reader gets them: in their own language, and nothing once it is paid."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from handlers.core.i18n import Catalogues
from handlers.core.pushes import Push
from handlers.modules import REGISTRY
from models.dues.ledger import System, record_dues_payment
from models.dues.reminders import CHAIR_TOPIC, MEMBER_TOPIC, UNIT_TOPIC, enqueue_dues_reminders
from models.members import Member
from models.outbox import Outbox
from tests.models.dues.test_figures import paid_union
from tests.models.dues.union import DECEMBER, NOW, POLICY

SHANGHAI = ZoneInfo("Asia/Shanghai")


def render(
    session: Session, catalogues: Catalogues, topic: str, member: Member, locale: str = "zh_CN"
) -> Push | None:
    row = session.exec(select(Outbox).where(Outbox.topic == topic, Outbox.member_id == member.id)).one()
    return REGISTRY.pushes.render(session, row, catalogues.get(locale), SHANGHAI)


def test_a_member_is_told_the_months_and_the_total(session: Session, catalogues: Catalogues) -> None:
    union = paid_union(session)
    enqueue_dues_reminders(session, now=NOW, policy=POLICY)
    push = render(session, catalogues, MEMBER_TOPIC, union.a3)
    assert push is not None
    assert push.title == "会费提醒"
    assert push.reply.text == (
        "【会费提醒】您有 2 个月的会费尚未缴纳：2026-11、2026-12，共 60.00 元。"
        "请交给本组的会费收缴员或工会小组长，谢谢！回复“我的会费”可以查看明细。"
    )
    for locale in ("zh_TW", "en"):
        assert render(session, catalogues, MEMBER_TOPIC, union.a3, locale) is not None


def test_a_member_who_paid_meanwhile_gets_nothing(session: Session, catalogues: Catalogues) -> None:
    union = paid_union(session)
    enqueue_dues_reminders(session, now=NOW, policy=POLICY)
    record_dues_payment(
        session,
        actor=System.COMMAND_LINE,
        member=union.b1,
        month=DECEMBER,
        amount_fen=2500,
        now=NOW,
        current=DECEMBER,
    )
    assert render(session, catalogues, MEMBER_TOPIC, union.b1) is None


def test_the_collector_gets_the_units_rate_and_who_owes(session: Session, catalogues: Catalogues) -> None:
    union = paid_union(session)
    enqueue_dues_reminders(session, now=NOW, policy=POLICY)
    push = render(session, catalogues, UNIT_TOPIC, union.treasurer)
    assert push is not None
    assert push.title == "会费收缴情况"
    assert push.unit == "厂工会/一车间/甲班"
    assert push.body.splitlines() == [
        "厂工会/一车间/甲班 2026-12：收缴率 66.7%（应缴 3，已缴 2）",
        "尚未缴清的会员：",
        "杨帆（1003）：2026-11、2026-12，共 60.00 元",
        "收齐后请在“会费登记”里登记。",
    ]
    leader = render(session, catalogues, UNIT_TOPIC, union.leader)
    assert leader is not None
    assert "赵磊（2001）：2026-12，共 25.00 元" in leader.body


def test_the_chair_gets_each_child_units_rate(session: Session, catalogues: Catalogues) -> None:
    union = paid_union(session)
    enqueue_dues_reminders(session, now=NOW, policy=POLICY)
    push = render(session, catalogues, CHAIR_TOPIC, union.chair)
    assert push is not None
    assert push.body.splitlines() == [
        "厂工会 2026-12 各单位会费收缴率：",
        "一车间：收缴率 50.0%（应缴 4，已缴 2）",
        "二车间：收缴率 0.0%（应缴 1，已缴 0）",
        "合计：收缴率 40.0%（应缴 5，已缴 2）",
    ]
    workshop = render(session, catalogues, CHAIR_TOPIC, union.workshop_chair, "en")
    assert workshop is not None
    assert "甲班" in workshop.body
