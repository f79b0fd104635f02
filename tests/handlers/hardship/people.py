"""The small union the hardship conversations run in, and what reaches a phone.

Kept out of a conftest so the package's other test files keep their own fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, col, select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.pushes import Push
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.hardship import HardshipPolicy
from models.members import Member
from models.outbox import Outbox
from models.roles import Role
from tests.factories import bind, make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
STORY = "父亲脑梗住院三周，每天药费八百元，积蓄已经用完。"


@dataclass(frozen=True)
class Union:
    media_dir: Path


@pytest.fixture
def union(db: SessionFactory, tmp_path: Path) -> Iterator[Union]:
    """一车间's chair handles hardship; the plant's chair above; 二车间's committee member elsewhere."""
    with time_machine.travel(NOW, tick=False):
        with db() as session:
            top = make_member(
                session, employee_no="T1", name="赵主席", unit="厂工会", roles=[(Role.CHAIR, "厂工会")]
            )
            bind(session, top, key="top")
            chair = make_member(
                session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")]
            )
            bind(session, chair, key="chair")
            other = make_member(
                session,
                employee_no="O1",
                name="钱委员",
                unit="厂工会/二车间",
                roles=[(Role.COMMITTEE, "厂工会/二车间")],
            )
            bind(session, other, key="other")
            member = make_member(session, employee_no="1001", name="李娜")
            bind(session, member, key="member")
            neighbour = make_member(session, employee_no="1002", name="孙强")
            bind(session, neighbour, key="neighbour")
        yield Union(media_dir=tmp_path / "media")


@pytest.fixture
def hardship_bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, union: Union) -> Bot:
    policy = HardshipPolicy(media_dir=union.media_dir)
    config = CoreConfig(dialog_timeout=timedelta(minutes=30), policies={HardshipPolicy: policy})
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)


def member_id(session: Session, employee_no: str) -> int:
    found = session.exec(select(Member.id).where(Member.employee_no == employee_no)).one()
    assert found is not None
    return found


def pushes_to(
    db: SessionFactory, catalogues: Catalogues, employee_no: str
) -> list[tuple[Outbox, Push | None]]:
    """Every push queued for the member, rendered as the delivery worker would render it now."""
    with db() as session:
        rows = session.exec(
            select(Outbox).where(Outbox.member_id == member_id(session, employee_no)).order_by(col(Outbox.id))
        ).all()
        return [
            (row, REGISTRY.pushes.render(session, row, catalogues.get("zh_CN"), SHANGHAI)) for row in rows
        ]


def apply(db: SessionFactory, *, employee_no: str = "1001", urgent: bool = False, story: str = STORY) -> int:
    """An application as if the member had filled the form: its id."""
    from models.hardship import CaseDraft, HardshipCategory, HelpKind, submit_case

    with db() as session:
        member = session.exec(select(Member).where(Member.employee_no == employee_no)).one()
        case = submit_case(
            session,
            actor=member,
            draft=CaseDraft(
                consented=True,
                category=HardshipCategory.ILLNESS,
                story=story,
                household_size=4,
                income_fen=320000,
                help_wanted=[HelpKind.RELIEF],
                urgent=urgent,
                contact_way="工作日晚上打电话",
            ),
            policy=HardshipPolicy(),
            now=NOW,
        )
        assert case.id is not None
        return case.id
