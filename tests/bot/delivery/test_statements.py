"""The worker reads what every push of one notice shares once per batch, not once per push."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import time_machine
from sqlmodel import select

from bot.delivery.rates import ChannelLimit, MemoryRates
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from handlers.core.i18n import Catalogues
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import MemoryStore
from models.members import Member
from models.notices import NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.roles import Role
from models.units import UnitTree
from tests.bot.delivery.helpers import FakePusher, FakeTime, member_with
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def send_a_notice(db: SessionFactory, team: str, recipients: int, first_chat: int) -> tuple[int, int]:
    """A notice to ``recipients`` members of a new team, sent with the bot's renderers: (sent, statements)."""
    with db() as session:
        unit = UnitTree(session).ensure(f"厂工会/一车间/{team}")
        assert unit.id is not None
        for n in range(recipients):
            member_with(session, f"{team}{n}", telegram=first_chat + n, seen=NOW).unit_id = unit.id
        chair = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        target = Target(TargetKind.UNITS, (unit.id,))
        draft = NoticeDraft(
            title="停水通知", body="明天上午停水。", category=NoticeCategory.NOTICE, target=target
        )
        create_notice(session, actor=chair, draft=draft, now=NOW)
    worker = DeliveryWorker(
        sessions=db,
        store=MemoryStore(),
        rates=MemoryRates({"telegram": ChannelLimit(10_000)}, clock=(fake := FakeTime()), sleep=fake.sleep),
        pushers={"telegram": FakePusher("telegram")},
        catalogues=Catalogues(),
        config=WorkerConfig(),
        pushes=REGISTRY.pushes,
    )
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        sent = await worker.run_once()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return sent, len(seen)


@time_machine.travel(NOW, tick=False)
async def test_a_notice_to_many_costs_about_what_a_notice_to_few_does(db: SessionFactory) -> None:
    with db() as session:
        make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会")])
    few_sent, few = await send_a_notice(db, "甲班", 5, 7_000_000)
    many_sent, many = await send_a_notice(db, "乙班", 40, 8_000_000)
    # 34 more recipients (the chair is among the first notice's); each run claims its own progress row.
    assert many_sent - few_sent == 34
    # Each push used to read its notice, the notice's unit and the unit's path again: 105 more here.
    assert many - few <= 5, (few, many)
