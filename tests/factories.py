"""Builders for test data, with hostile defaults: markup, emoji and long CJK in names."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models.accounts import ChatAccount
from models.base import utcnow
from models.db import SessionFactory
from models.members import Member
from models.roles import Role, grant_role
from models.units import UnitTree

HOSTILE_NAME = "张<b>三</b>_*[🌟"


def make_member(
    session: Session,
    *,
    employee_no: str = "1001",
    name: str = HOSTILE_NAME,
    unit: str = "厂工会/一车间/甲班",
    phone: str | None = "13800001234",
    dues_fen: int = 2500,
    roles: Sequence[tuple[Role, str]] = (),
) -> Member:
    tree = UnitTree(session)
    unit_id = tree.ensure(unit).id
    assert unit_id is not None
    member = Member(
        employee_no=employee_no, name=name, unit_id=unit_id, phone=phone, monthly_dues_fen=dues_fen
    )
    session.add(member)
    session.flush()
    for role, path in roles:
        grant_role(session, member=member, role=role, unit=tree.ensure(path))
    return member


# Long CJK and markup, as cadres paste notices from Word documents.
HOSTILE_TITLE = "关于<b>年度</b>_*[疗休养]🌟报名的通知"
HOSTILE_BODY = "各位会员：<i>请</i>于本周五前报名 *疗休养* _[名额有限]_ 🎉\n" + "职工疗休养分三批进行。" * 20


def bind(
    session: Session,
    member: Member,
    *,
    channel: str = "telegram",
    key: str | None = None,
    last_seen_at: datetime | None = None,
    active: bool = True,
) -> ChatAccount:
    """A chat account already bound to ``member``, as if they had bound it themselves."""
    account = ChatAccount(
        channel=channel,
        external_id=key or f"{channel}-{member.employee_no}",
        member_id=member.id,
        active=active,
        bound_at=last_seen_at or utcnow(),
        last_seen_at=last_seen_at or utcnow(),
    )
    session.add(account)
    session.flush()
    return account


def wait_for_a_lock_wait(db: SessionFactory, done: threading.Event) -> None:
    """Return once another connection waits on a row lock (or the thread already finished)."""
    for _ in range(1000):
        if done.is_set():
            return
        with db.engine.connect() as connection:
            waiting = connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting:
            return
        done.wait(0.01)
