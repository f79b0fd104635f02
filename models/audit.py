"""The audit log: who opened which sensitive record, export or figure, when, and from where.

Hardship files (困难职工档案) hold health, income and family facts; the union
owes the member a record of every reading of them. A domain operation that
shows such data, or refuses to, calls :func:`record_audit` in its own
transaction; an admin reads the log with :func:`list_audit` (``python -m bot
audit list`` and in chat).

A refusal is recorded too, and a refusal is an exception: the router rolls the
whole transaction back when a domain rule breaks. So an entry with
``allowed=False`` is also remembered on the session and written again in the
transaction that follows the rollback (the router's, which notes the visit and
commits): the attempt stays on record even though nothing else of it does.

Entries name what was opened by a short subject (``hardship_case:12``,
``campaign_export:3``), never by its content: the log itself must be safe to
show to an admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import UTCDateTime, utcnow
from models.errors import N_, PermissionDenied
from models.members import Member
from models.roles import Permission, grants_of

ACTION_MAX = 60
SUBJECT_MAX = 120
CHANNEL_MAX = 20
LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 1000

# Refused attempts to write again after the rollback that the refusal causes (see the module).
_REFUSED_KEY = "audit_refused"


class AuditEntry(SQLModel, table=True):
    """One opening of a sensitive record (or an attempt refused)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    action: str = Field(max_length=ACTION_MAX)
    subject: str = Field(max_length=SUBJECT_MAX)
    channel: str = Field(max_length=CHANNEL_MAX)
    allowed: bool = Field(default=True)


def record_audit(
    session: Session,
    *,
    actor: Member | None,
    action: str,
    subject: str,
    channel: str,
    allowed: bool = True,
) -> None:
    """Note that ``actor`` opened ``subject`` (or tried to, when ``allowed`` is False).

    ``actor`` None is the system itself (a scheduled job, the command line run
    by the operator). Over-long codes are a programming error, not member input.
    """
    if len(action) > ACTION_MAX or len(subject) > SUBJECT_MAX or len(channel) > CHANNEL_MAX:
        raise ValueError("audit action, subject or channel too long")
    values: dict[str, Any] = {
        "at": utcnow(),
        "actor_member_id": actor.id if actor is not None else None,
        "action": action,
        "subject": subject,
        "channel": channel,
        "allowed": allowed,
    }
    session.add(AuditEntry(**values))
    if not allowed:
        session.info.setdefault(_REFUSED_KEY, []).append(values)


@sa.event.listens_for(orm.Session, "after_soft_rollback")
def _keep_refusals(session: orm.Session, previous_transaction: orm.SessionTransaction) -> None:
    """Write refused attempts again in the transaction after the rollback their refusal caused."""
    if previous_transaction.parent is not None:
        return  # a savepoint or subtransaction: the outer transaction still holds the entry
    refused = session.info.pop(_REFUSED_KEY, None)
    if refused:
        session.add_all([AuditEntry(**values) for values in refused])


@sa.event.listens_for(orm.Session, "after_commit")
def _refusals_written(session: orm.Session) -> None:
    session.info.pop(_REFUSED_KEY, None)


@dataclass(frozen=True)
class AuditRow:
    """An entry as an admin reads it: the actor by 工号 and name."""

    at: datetime
    actor_employee_no: str | None
    actor_name: str | None
    action: str
    subject: str
    channel: str
    allowed: bool


def require_audit_reader(session: Session, actor: Member) -> None:
    """Refuse unless ``actor`` is an admin (the log covers the whole union).

    Raises:
        PermissionDenied: the actor holds no 管理员 role or is not active.
    """
    if not actor.is_active or not grants_of(session, actor).holds(Permission.ADMINISTER):
        raise PermissionDenied("audit.not_admin", N_("只有管理员可以查看查阅记录。"))


def list_audit(
    session: Session,
    *,
    actor: Member | None,
    member_employee_no: str | None = None,
    since: datetime | None = None,
    limit: int = LIST_LIMIT_DEFAULT,
) -> Sequence[AuditRow]:
    """The newest entries first, by the member with that 工号 and from ``since`` on when given.

    ``actor`` None is the operator at the command line, who holds the database anyway.

    Raises:
        PermissionDenied: ``actor`` is not an admin.
    """
    if actor is not None:
        require_audit_reader(session, actor)
    limit = max(1, min(limit, LIST_LIMIT_MAX))
    query = (
        select(AuditEntry, Member.employee_no, Member.name)
        .join(Member, col(Member.id) == col(AuditEntry.actor_member_id), isouter=True)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    if member_employee_no is not None:
        query = query.where(col(Member.employee_no) == member_employee_no)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return [
        AuditRow(
            at=entry.at,
            actor_employee_no=employee_no,
            actor_name=name,
            action=entry.action,
            subject=entry.subject,
            channel=entry.channel,
            allowed=entry.allowed,
        )
        for entry, employee_no, name in session.exec(query).all()
    ]
