"""月征集: the monthly call for suggestions, its theme, and the gentle second call.

"月征集、季评比": each month the union asks every member for ideas, often on a
theme (节能降耗, 安全生产). On a working day early in the month (the job's
schedule) every member who has not turned the reminder off gets the call; in
the month's last week the members of units that have filed nothing yet get a
second, shorter one. Both are outbox rows keyed by month and member
(``collect:2026-12:member:1007``), so the job may run again, late or twice,
and nobody hears twice. The rows carry the month only: what the call says —
the theme, the unit's count so far this year, last month's adopted ideas in
the unit — is read when it is sent (:func:`call_facts`), so a theme set after
the job ran still reaches the members whose call had not gone out yet.

The theme is the union's, one per month, set by a cadre who appraises
suggestions at the union's root (or by the server's operator, ``jobs theme``).
Adopted ideas are listed by title, with the proposer's name only where they
filed under it: an anonymous idea shows no name.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.base import UTCDateTime, utcnow, visible_length
from models.errors import N_, InvalidInput, PermissionDenied
from models.facts import Fact
from models.members import Member, MemberStatus
from models.outbox import Outbox, OutboxStatus, PushKind
from models.periods import Period, PeriodKind
from models.preferences import count_reminder_off, members_with_reminder_off
from models.roles import Permission, scope_units
from models.suggestions.tables import Suggestion
from models.units import PATH_SEPARATOR, Unit

CALL_TOPIC = "collect_call"
AGAIN_TOPIC = "collect_again"
# What the member turns off in 我的信息 (models.preferences): both calls.
REMINDER_TOPIC = "collect"
THEME_MAX = 20
# Last month's adopted ideas named in a call; more are counted, not listed.
ADOPTED_SHOWN = 5

_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


class CollectionTheme(SQLModel, table=True):
    """The theme of one month's call for suggestions (月征集主题), for the whole union."""

    __tablename__ = "collection_theme"

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True)  # "2026-12"
    theme: str = Field(max_length=200)
    set_by_id: int | None = Field(default=None, foreign_key="member.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def month_period(month: str) -> Period:
    """ "2026-12" as a period."""
    year, number = month.split("-")
    return Period(int(year), PeriodKind.MONTH, int(number))


def month_of(moment: datetime, zone: tzinfo) -> str:
    """The month ``moment`` falls in, in the union's zone: "2026-12"."""
    return f"{moment.astimezone(zone):%Y-%m}"


def parse_month(text: str) -> str:
    """A month as people type it: "2026-12", "2026/12", "2026年12月"; full-width digits forgiven.

    Raises:
        InvalidInput: ``collect.month``, not a month.
    """
    match = _MONTH.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2099:
        raise InvalidInput("collect.month", N_("“{value}”不是月份，请写成 2026-12 这样。"), value=text)
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def check_theme(theme: str) -> str:
    """The theme as stored: trimmed, one line, at most :data:`THEME_MAX` characters.

    Raises:
        InvalidInput: empty, or too long (the limit named: a theme is never cut).
    """
    cleaned = " ".join(theme.split())
    if not cleaned:
        raise InvalidInput("collect.theme_empty", N_("请写下本月征集的主题，例如“节能降耗”。"))
    if (count := visible_length(cleaned)) > THEME_MAX:
        raise InvalidInput(
            "collect.theme_too_long",
            N_("主题最多 {limit} 个字，现在有 {count} 个字，请精简后再发。"),
            limit=THEME_MAX,
            count=count,
        )
    return cleaned


def may_set_theme(session: Session, actor: Member) -> bool:
    """Whether ``actor`` sets the union's monthly theme: appraising suggestions at a root unit."""
    return actor.is_active and any(
        unit.parent_id is None for unit in scope_units(session, actor, Permission.APPRAISE_SUGGESTIONS)
    )


def set_collection_theme(
    session: Session, *, actor: Member | None, month: str, theme: str | None, now: datetime
) -> str | None:
    """Set (or, with ``theme`` None, clear) a month's theme; ``actor`` None is the server's operator.

    Returns:
        The theme as stored, None when cleared.

    Raises:
        PermissionDenied: ``actor`` does not appraise suggestions for the whole union.
        InvalidInput: the theme is empty or too long.
    """
    if actor is not None and not may_set_theme(session, actor):
        raise PermissionDenied("collect.theme_denied", N_("每月征集的主题由工会主席或管理员设置。"))
    table = CollectionTheme.__table__  # type: ignore[attr-defined]
    if theme is None:
        session.execute(sa.delete(table).where(table.c.month == month))
        return None
    cleaned = check_theme(theme)
    values = {"month": month, "theme": cleaned, "set_by_id": actor.id if actor else None, "set_at": now}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["month"],
            set_={"theme": cleaned, "set_by_id": values["set_by_id"], "set_at": now},
        )
    )
    return cleaned


def collection_theme(session: Session, month: str) -> str | None:
    return session.exec(select(CollectionTheme.theme).where(CollectionTheme.month == month)).first()


def _reachable() -> sa.Select[Any]:
    """Active members who have not turned the reminder off, by id."""
    return sa.select(col(Member.id)).where(
        col(Member.status) == MemberStatus.ACTIVE,
        col(Member.id).not_in(members_with_reminder_off(REMINDER_TOPIC)),
    )


def call_recipients(session: Session) -> list[int]:
    """Who gets the month's call: every active member but those who turned it off."""
    return [member_id for (member_id,) in session.execute(_reachable().order_by(col(Member.id))).all()]


def quiet_units(session: Session, *, month: str, zone: tzinfo) -> list[int]:
    """The units where nobody filed a suggestion this month, below them included.

    A suggestion counts for the unit it was filed in and every unit above it: a 车间 whose
    甲班 filed one is not quiet, while its 乙班 may be. Two reads however large the union:
    the units, and the units filed in this month.
    """
    start, end = month_period(month).bounds(zone)
    filed = session.exec(
        select(Unit.id_path)
        .join(Suggestion, col(Suggestion.unit_id) == Unit.id)
        .where(col(Suggestion.submitted_at) >= start, col(Suggestion.submitted_at) < end)
        .distinct()
    ).all()
    busy = {int(part) for path in filed for part in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part}
    return [
        unit_id
        for unit_id in session.exec(select(Unit.id)).all()
        if unit_id is not None and unit_id not in busy
    ]


def _quiet(session: Session, month: str, zone: tzinfo) -> sa.Select[Any]:
    return _reachable().where(col(Member.unit_id).in_(quiet_units(session, month=month, zone=zone)))


def quiet_unit_recipients(session: Session, *, month: str, zone: tzinfo) -> list[int]:
    """Who gets the second call: members (reminder on) of units where nobody filed this month.

    A member's unit is their own (their 班组), with the units below it (see :func:`quiet_units`).
    """
    query = _quiet(session, month, zone).order_by(col(Member.id))
    return [member_id for (member_id,) in session.execute(query).all()]


def _enqueue_all(
    session: Session, members: sa.Select[Any], *, key_prefix: str, topic: str, month: str, now: datetime
) -> int:
    """Queue one row per member of ``members`` under ``key_prefix`` + member id, in one statement.

    The rows are what :func:`models.outbox.enqueue` writes, but made by the database from the
    member query (``INSERT … SELECT … ON CONFLICT (key) DO NOTHING``) instead of sent to it
    row by row: a union of 100,000 members is one statement, not 100 batches of bound
    parameters for the driver to splice (bench/RESULTS.md, "月征集").
    """
    table: sa.Table = Outbox.__table__  # type: ignore[attr-defined]
    postgres = session.get_bind().dialect.name == "postgresql"
    recipients = members.subquery("recipients")
    params = json.dumps({"month": month})
    stamp = sa.literal(now, UTCDateTime())
    source = sa.select(
        sa.literal(key_prefix) + sa.cast(recipients.c.id, sa.String),
        recipients.c.id,
        sa.literal(PushKind.REMINDER.value),
        sa.literal(topic),
        sa.cast(sa.literal(params), postgresql.JSON) if postgres else sa.literal(params),
        sa.literal(False),
        sa.literal(OutboxStatus.QUEUED.value),
        stamp,
        stamp,
        sa.literal(0),
        stamp,
    ).where(sa.true())  # SQLite reads ON CONFLICT after a SELECT only with a WHERE before it
    columns = [
        "key",
        "member_id",
        "kind",
        "topic",
        "params",
        "urgent",
        "status",
        "due_at",
        "next_attempt_at",
        "attempts",
        "created_at",
    ]
    insert = (postgresql.insert if postgres else sqlite.insert)(table).from_select(columns, source)
    # The ids of the rows actually inserted: rowcount is not reliable for INSERT … SELECT on psycopg.
    inserted = insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    return len(session.execute(inserted).all())


def enqueue_collection_calls(session: Session, *, month: str, now: datetime) -> int:
    """Queue the month's call to every member who gets it; a member already called is skipped.

    Returns:
        How many calls were new.
    """
    return _enqueue_all(
        session, _reachable(), key_prefix=f"collect:{month}:member:", topic=CALL_TOPIC, month=month, now=now
    )


def enqueue_second_calls(session: Session, *, month: str, now: datetime, zone: tzinfo) -> int:
    """Queue the gentle second call to members of units with no suggestion yet this month.

    Returns:
        How many were new.
    """
    return _enqueue_all(
        session,
        _quiet(session, month, zone),
        key_prefix=f"collect-again:{month}:member:",
        topic=AGAIN_TOPIC,
        month=month,
        now=now,
    )


@dataclass(frozen=True)
class Adopted:
    """An idea adopted last month, as the call lists it: the title, and the name unless anonymous."""

    title: str
    proposer: str | None


@dataclass(frozen=True)
class CallFacts:
    """What one member's call says: read when it is sent (or shown), for the member's own unit.

    Attributes:
        theme: the month's theme, if one is set.
        unit_name: the member's unit.
        year_count: suggestions filed in the unit (its subtree) from 1 January to the month's end.
        month_count: those filed in the month itself: the second call is not sent once there is one.
        adopted: last month's adopted ideas in the unit, at most :data:`ADOPTED_SHOWN`.
        adopted_total: how many there were in all.
    """

    month: str
    theme: str | None
    unit_name: str
    year_count: int
    month_count: int
    adopted: tuple[Adopted, ...]
    adopted_total: int


# What a call says is the same for every member of a unit: the delivery worker renders a chunk of
# pushes in one transaction, and a 班组's members share one read of it (models.facts).
_UNIT_CALL = Fact[tuple[int, str, str], CallFacts](
    "collection_call",
    {Suggestion: None, CollectionTheme: None, Unit: ("id_path", "name"), Member: ("name",)},
)


def call_facts(session: Session, *, member: Member, month: str, zone: tzinfo) -> CallFacts:
    """What ``member``'s call for ``month`` says (see :class:`CallFacts`): five small queries a unit."""
    return _UNIT_CALL.recall(
        session, (member.unit_id, month, str(zone)), lambda: _unit_facts(session, member.unit_id, month, zone)
    )


def _unit_facts(session: Session, unit_id: int, month: str, zone: tzinfo) -> CallFacts:
    unit = session.get(Unit, unit_id)
    assert unit is not None
    period = month_period(month)
    # The subtree's units first (one, for a 班组), so the suggestions are read by their indexed unit.
    units = list(session.exec(select(Unit.id).where(col(Unit.id_path).startswith(unit.id_path))))
    year_start, _ = Period(period.year, PeriodKind.YEAR).bounds(zone)
    _, month_end = period.bounds(zone)
    year_count = session.execute(
        sa.select(func.count())
        .select_from(Suggestion)
        .where(
            col(Suggestion.unit_id).in_(units),
            col(Suggestion.submitted_at) >= year_start,
            col(Suggestion.submitted_at) < month_end,
        )
    ).scalar_one()
    month_start, _ = period.bounds(zone)
    month_count = session.execute(
        sa.select(func.count())
        .select_from(Suggestion)
        .where(
            col(Suggestion.unit_id).in_(units),
            col(Suggestion.submitted_at) >= month_start,
            col(Suggestion.submitted_at) < month_end,
        )
    ).scalar_one()
    last_start, last_end = period.previous().bounds(zone)
    adopted = session.execute(
        sa.select(col(Suggestion.title), col(Suggestion.anonymous), col(Member.name))
        .join(Member, col(Member.id) == Suggestion.proposer_id)
        .where(
            col(Suggestion.unit_id).in_(units),
            col(Suggestion.adopted).is_(True),
            col(Suggestion.decided_at) >= last_start,
            col(Suggestion.decided_at) < last_end,
        )
        .order_by(col(Suggestion.decided_at), col(Suggestion.id))
    ).all()
    return CallFacts(
        month=month,
        theme=collection_theme(session, month),
        unit_name=unit.name,
        year_count=int(year_count),
        month_count=int(month_count),
        adopted=tuple(
            Adopted(title, None if anonymous else name) for title, anonymous, name in adopted[:ADOPTED_SHOWN]
        ),
        adopted_total=len(adopted),
    )


def reminder_off_in_scope(session: Session, actor: Member) -> int | None:
    """How many members of ``actor``'s review scope turned the call off; None for who reviews nothing."""
    roots = scope_units(session, actor, Permission.REVIEW_SUGGESTIONS)
    if not roots:
        return None
    members = (
        sa.select(col(Member.id))
        .join(Unit, col(Unit.id) == Member.unit_id)
        .where(sa.or_(*(col(Unit.id_path).startswith(root.id_path, autoescape=True) for root in roots)))
    )
    return count_reminder_off(session, REMINDER_TOPIC, members)  # type: ignore[arg-type]
