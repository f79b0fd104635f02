"""The union the authorization matrix and the personal-data day run in: one person per role.

厂工会 with two workshops, 一车间 (unit A) and 二车间 (unit B). Each role of the matrix has its
chat account under the role's own name, so a test reads ``Chat(bot, key="cadre_a")``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.roles import Role
from tests.factories import bind, make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai

UNIT_A = "厂工会/一车间"
UNIT_B = "厂工会/二车间"

ROLES = ("unbound", "member", "cadre_a", "cadre_b", "treasurer", "chair", "admin")
"""Who asks, in the matrix's column order; each is also the chat account's key."""

BOUND_ROLES = frozenset(ROLES) - {"unbound"}
CADRES = frozenset({"cadre_a", "cadre_b", "chair", "admin"})
"""Those holding a role that reviews suggestions, sends notices and sets out activities."""

MEMBER_PHONE = "13912345678"
"""The member's phone, whose last four digits bind the account: never to be seen in a log."""


def seed_union(db: SessionFactory) -> None:
    """The people of the matrix; the member also on WeChat (so 推送渠道 is theirs to set)."""
    with db() as session:
        member = make_member(
            session, employee_no="1001", name="李娜", unit=f"{UNIT_A}/甲班", phone=MEMBER_PHONE
        )
        bind(session, member, key="member")
        bind(session, member, channel="wechat", key="wx-member")
        make_member(session, employee_no="2001", name="赵强", unit=f"{UNIT_B}/甲班", phone="13700002001")
        people = {
            "cadre_a": ("C1", "陈委员", UNIT_A, Role.COMMITTEE),
            "cadre_b": ("C2", "周委员", UNIT_B, Role.COMMITTEE),
            "treasurer": ("T1", "孙收缴员", UNIT_A, Role.TREASURER),
            "chair": ("H1", "王主席", "厂工会", Role.CHAIR),
            "admin": ("A1", "吴管理员", "厂工会", Role.ADMIN),
        }
        for number, (key, (employee_no, name, unit, role)) in enumerate(people.items(), start=1):
            cadre = make_member(
                session,
                employee_no=employee_no,
                name=name,
                unit=unit,
                phone=f"1360000{number:04d}",
                roles=[(role, unit)],
            )
            bind(session, cadre, key=key)


def make_bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Bot:
    config = CoreConfig(dialog_timeout=timedelta(minutes=30))
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)


BOOKKEEPING_TABLES = frozenset({"chat_account", "dialog_state"})
"""What every message may write (who was seen when, the open form): not a change of the union's data."""


def domain_rows(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the bookkeeping ones, to compare before and after a message."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in BOOKKEEPING_TABLES:
            continue
        found = session.execute(sa.select(table)).all()
        rows[table.name] = sorted((tuple(row) for row in found), key=repr)
    return rows


HALF_WRITTEN: dict[str, str] = {
    "a suggestion without the event of its submission": (
        "SELECT s.id FROM suggestion s WHERE NOT EXISTS"
        " (SELECT 1 FROM suggestion_event e WHERE e.suggestion_id = s.id)"
    ),
    "an activity open to no unit": (
        "SELECT a.id FROM activity a WHERE NOT EXISTS"
        " (SELECT 1 FROM activity_unit u WHERE u.activity_id = a.id)"
    ),
    "a notice sent to nobody and queued to nobody": (
        "SELECT n.id FROM notice n WHERE NOT EXISTS"
        " (SELECT 1 FROM notice_recipient r WHERE r.notice_id = n.id)"
    ),
}
"""A record whose other half is missing, by what it is: the query finds the ids. A feature whose
records come in parts (a hardship case and its visits, a dues period and its payments) adds its own."""


def half_written(session: Session) -> list[str]:
    """Every record of :data:`HALF_WRITTEN` found, as "what: ids"."""
    found = []
    for what, query in HALF_WRITTEN.items():
        ids = session.execute(sa.text(query)).scalars().all()
        if ids:
            found.append(f"{what}: {sorted(ids)}")
    return found
