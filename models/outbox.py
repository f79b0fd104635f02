"""The outbox: every message the bot sends on its own initiative, one row per recipient.

A producer (a cadre's notice, a status change, a reminder) enqueues rows in the
same transaction as the change that causes them, each with an idempotency key
it chooses (``notice:42:member:1007``). The key is unique, so enqueuing twice is
a no-op and "exactly once" is a database constraint, not a hope. The delivery
worker (bot/delivery) claims due rows, renders each in the recipient's language
at send time and records what became of it.

A row's life::

    queued ──claim──▶ claimed ──before the request──▶ sending ──▶ sent
      ▲                  │                              │ ├──▶ failed (permanently)
      └── retry later ◀──┴── (worker died: back) ◀──────┘ └──▶ uncertain (worker died mid-request)
    queued ──▶ withdrawn (the cadre withdrew a scheduled notice)

Rows left ``sending`` by a dead worker are the one case nobody can settle: the
channel may have accepted the message an instant before the worker died. They
become ``uncertain`` and are not resent unless the settings say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.base import UTCDateTime, string_enum, utcnow

KEY_MAX = 160


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"  # taken by a worker, not yet handed to a channel: safe to take back
    SENDING = "sending"  # a request is (or was) on its way: never sent again blindly
    SENT = "sent"
    FAILED = "failed"  # permanently: blocked, unsubscribed, no active account
    UNCERTAIN = "uncertain"  # the worker died mid-request; see the module docstring
    WITHDRAWN = "withdrawn"


class PushKind(StrEnum):
    """What kind of push a row is: picks the WeChat template outside the 48-hour window."""

    NOTICE = "notice"
    REMINDER = "reminder"
    STATUS = "status"
    DIGEST = "digest"


class Outbox(SQLModel, table=True):
    """One push to one member.

    Attributes:
        key: the producer's idempotency key, unique.
        topic: which renderer turns the row into text (handlers.pushes), e.g. "notice".
        subject_id: the row the push is about (the notice's id), for the renderer and reports.
        params: whatever else the renderer needs; ids and codes, never text in a language.
        urgent: goes out during quiet hours too.
        due_at: not before this time (a scheduled notice).
        next_attempt_at: when a worker may take it: ``due_at``, later after a failure.
        channel: the channel it went out on (or was last tried on).
        external_ref: the channel's id for what was sent (Telegram message id), for read reports.
        error: why it failed or waits, for ``outbox status`` and the cadre's report.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=KEY_MAX, unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: PushKind = Field(sa_type=string_enum(PushKind, 16))
    topic: str = Field(max_length=32)
    subject_id: int | None = Field(default=None)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=MutableDict.as_mutable(sa.JSON()))
    urgent: bool = Field(default=False)
    status: OutboxStatus = Field(default=OutboxStatus.QUEUED, sa_type=string_enum(OutboxStatus, 16))
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel: str | None = Field(default=None, max_length=16)
    external_ref: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class NewPush:
    """What a producer asks to send; see :class:`Outbox` for the fields."""

    key: str
    member_id: int
    kind: PushKind
    topic: str
    subject_id: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    urgent: bool = False
    due_at: datetime | None = None


def enqueue(session: Session, pushes: Iterable[NewPush], *, now: datetime | None = None) -> int:
    """Queue pushes in the caller's transaction; a key already queued is skipped, not an error.

    The caller commits: the pushes exist exactly when the change that caused them does.

    Returns:
        How many rows were new.
    """
    now = now or utcnow()
    rows = []
    for push in pushes:
        if len(push.key) > KEY_MAX:
            raise ValueError(f"outbox key longer than {KEY_MAX}: {push.key[:40]}…")
        due = push.due_at or now
        rows.append(
            {
                "key": push.key,
                "member_id": push.member_id,
                "kind": push.kind.value,
                "topic": push.topic,
                "subject_id": push.subject_id,
                "params": dict(push.params),
                "urgent": push.urgent,
                "status": OutboxStatus.QUEUED.value,
                "due_at": due,
                "next_attempt_at": due,
                "attempts": 0,
                "created_at": now,
            }
        )
    if not rows:
        return 0
    table = Outbox.__table__  # type: ignore[attr-defined]
    insert = (
        postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table)
    ).on_conflict_do_nothing(index_elements=["key"])
    added = 0
    # Batches keep each statement under SQLite's bound-parameter limit (32,766 since 3.32).
    for start in range(0, len(rows), 1000):
        result = session.execute(insert, rows[start : start + 1000])
        added += max(int(result.rowcount), 0)  # type: ignore[attr-defined]
    return added


def status_counts(session: Session, *, topic: str, subject_id: int) -> dict[OutboxStatus, int]:
    """How the pushes about one subject (a notice) stand: the cadre's progress and report."""
    rows = session.exec(
        select(Outbox.status, func.count())
        .where(Outbox.topic == topic, Outbox.subject_id == subject_id)
        .group_by(col(Outbox.status))
    ).all()
    return {OutboxStatus(status): count for status, count in rows}


def withdraw(session: Session, *, topic: str, subject_id: int) -> int:
    """Withdraw the pushes about a subject that have not been taken by a worker yet.

    Returns:
        How many were withdrawn; rows already claimed or sent are left as they are.
    """
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.topic) == topic,
            col(Outbox.subject_id) == subject_id,
            col(Outbox.status) == OutboxStatus.QUEUED,
        )
        .values(status=OutboxStatus.WITHDRAWN)
    )
    return max(int(result.rowcount), 0)  # type: ignore[attr-defined]


def pushes_about(session: Session, *, topic: str, subject_id: int) -> Sequence[Outbox]:
    return session.exec(
        select(Outbox).where(Outbox.topic == topic, Outbox.subject_id == subject_id).order_by(col(Outbox.id))
    ).all()


def rearm(session: Session, *, key: str, now: datetime) -> bool:
    """Queue a row that already went out once more, due now: a progress message to refresh.

    The worker then sends it again, or edits the message it sent before where the renderer asks
    for ``edit_in_place`` and the channel can edit. A row still waiting or on its way is left as
    it is: it will show the newest figures anyway, being rendered when it is sent.

    Returns:
        Whether the row was re-queued.
    """
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.key) == key,
            col(Outbox.status).in_([OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNCERTAIN]),
        )
        .values(status=OutboxStatus.QUEUED, next_attempt_at=now, attempts=0, error=None)
    )
    return int(result.rowcount) > 0  # type: ignore[attr-defined]
