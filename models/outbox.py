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
      └── retry later ◀──┴── (worker died: back) ◀──────┘ └──▶ uncertain (no answer: see below)
    queued ──▶ withdrawn (the cadre withdrew a scheduled notice)

A request that went out and got no answer is the one case nobody can settle:
the channel may have accepted the message although it answered too late (a
read timeout), or an instant before the worker died (rows a dead worker left
``sending``). Such rows become ``uncertain`` and are not resent unless the
settings say so.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.base import UTCDateTime, string_enum, utcnow
from models.errors import N_

KEY_MAX = 160


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"  # taken by a worker, not yet handed to a channel: safe to take back
    SENDING = "sending"  # a request is (or was) on its way: never sent again blindly
    SENT = "sent"
    FAILED = "failed"  # permanently: blocked, unsubscribed, no active account
    UNCERTAIN = "uncertain"  # sent, no answer (a timeout, or the worker died); see the module docstring
    WITHDRAWN = "withdrawn"


class FailureCode(StrEnum):
    """How a failed push's ``error`` begins ("blocked: telegram: blocked"), for reports to count."""

    NO_ACCOUNT = "no_account"  # no active account on a channel that takes pushes
    NO_TEMPLATE = "no_template"  # only WeChat, out of the 48 h window, and no template for the kind
    BLOCKED = "blocked"  # blocked the bot or unfollowed the account


def failure_code(error: str | None) -> str:
    """The code an ``error`` begins with (see :class:`FailureCode`); other errors give their first word."""
    return (error or "").split(":", 1)[0].strip()


class Outcome(StrEnum):
    """What became of a push, as people are told: one vocabulary for ``outbox status`` and a cadre's report.

    A row's status says where the worker is with it; the outcome says what that means to
    whoever sent it. A push that failed because the member has no account that could take
    it is not a failure to look into but a member to reach another way, so it is counted
    apart, and so is one the member blocked. Claimed and sending are waiting too, only closer.
    """

    SENT = "sent"
    FAILED = "failed"  # failed for good, for a reason other than the two below
    NO_ACCOUNT = "no_account"  # failed: no active account on a channel that takes it (or no template)
    BLOCKED = "blocked"  # failed: the member blocked the bot or unfollowed the account
    UNCERTAIN = "uncertain"  # handed to a channel that gave no answer
    WAITING = "waiting"  # queued, claimed or on its way
    WITHDRAWN = "withdrawn"  # withdrawn before it went


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.SENT: N_("已发送"),
    Outcome.FAILED: N_("发送失败"),
    Outcome.NO_ACCOUNT: N_("没有可用账号"),
    Outcome.BLOCKED: N_("已屏蔽或取消关注"),
    Outcome.UNCERTAIN: N_("不确定是否送达"),
    Outcome.WAITING: N_("等待发送"),
    Outcome.WITHDRAWN: N_("已撤回"),
}

# The failure codes each failed outcome counts (FailureCode); any other error is a plain failure.
_FAILED_OUTCOMES: tuple[tuple[Outcome, tuple[FailureCode, ...]], ...] = (
    (Outcome.NO_ACCOUNT, (FailureCode.NO_ACCOUNT, FailureCode.NO_TEMPLATE)),
    (Outcome.BLOCKED, (FailureCode.BLOCKED,)),
)
_WAITING = (OutboxStatus.QUEUED, OutboxStatus.CLAIMED, OutboxStatus.SENDING)


def outcome_of(status: OutboxStatus, error: str | None) -> Outcome:
    """The outcome of one row: :data:`OUTCOME_COLUMN` for a row in hand."""
    if status in _WAITING:
        return Outcome.WAITING
    if status is not OutboxStatus.FAILED:
        return Outcome(status.value)
    code = failure_code(error)
    for outcome, codes in _FAILED_OUTCOMES:
        if code in codes:
            return outcome
    return Outcome.FAILED


def _outcome_column() -> sa.ColumnElement[str]:
    error = col(Outbox.error)

    def begins_with(code: FailureCode) -> sa.ColumnElement[bool]:
        return sa.or_(error == code.value, error.startswith(f"{code.value}:", autoescape=True))

    return sa.case(
        (col(Outbox.status).in_(_WAITING), Outcome.WAITING.value),
        *(
            (
                sa.and_(col(Outbox.status) == OutboxStatus.FAILED, sa.or_(*map(begins_with, codes))),
                outcome.value,
            )
            for outcome, codes in _FAILED_OUTCOMES
        ),
        else_=col(Outbox.status),
    )


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
        topic: which renderer turns the row into text (handlers.core.pushes), e.g. "notice".
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
    # The ids of the rows actually inserted: a batched insert's rowcount is -1 on PostgreSQL.
    inserted = insert.returning(table.c.id)
    added = 0
    # Batches keep each statement under SQLite's bound-parameter limit (32,766 since 3.32).
    for start in range(0, len(rows), 1000):
        added += len(session.execute(inserted, rows[start : start + 1000]).all())
    return added


def status_counts(session: Session, *, topic: str, subject_id: int) -> dict[OutboxStatus, int]:
    """How the pushes about one subject (a notice) stand: the cadre's progress and report."""
    rows = session.exec(
        select(Outbox.status, func.count())
        .where(Outbox.topic == topic, Outbox.subject_id == subject_id)
        .group_by(col(Outbox.status))
    ).all()
    return {OutboxStatus(status): count for status, count in rows}


def outcome_counts(session: Session, *conditions: sa.ColumnElement[bool]) -> dict[Outcome, int]:
    """How many pushes meeting ``conditions`` came to each outcome (outcomes with none are left out)."""
    outcome = _outcome_column()
    rows = session.execute(sa.select(outcome, func.count()).where(*conditions).group_by(outcome)).all()
    return {Outcome(value): count for value, count in rows}


def kind_outcomes(session: Session) -> dict[PushKind, dict[Outcome, int]]:
    """How many pushes of each kind came to each outcome: ``outbox status``."""
    outcome = _outcome_column()
    counts: dict[PushKind, dict[Outcome, int]] = {}
    for kind, value, count in session.execute(
        sa.select(col(Outbox.kind), outcome, func.count()).group_by(col(Outbox.kind), outcome)
    ).all():
        counts.setdefault(PushKind(kind), {})[Outcome(value)] = count
    return counts


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


def rearm(session: Session, *, key: str, now: datetime, params: Mapping[str, Any] | None = None) -> bool:
    """Queue a row that already went out once more, due now: a progress message to refresh.

    The worker then sends it again, or edits the message it sent before where the renderer asks
    for ``edit_in_place`` and the channel can edit. A row still waiting or on its way is left as
    it is: it will show the newest figures anyway, being rendered when it is sent. ``params``
    replace the row's own (what the producer wants to remember of this round, e.g. the count
    shown); a progress row is urgent, so the worker takes it ahead of the rows it reports on.

    Returns:
        Whether the row was re-queued.
    """
    values: dict[str, Any] = {
        "status": OutboxStatus.QUEUED,
        "next_attempt_at": now,
        "attempts": 0,
        "error": None,
    }
    if params is not None:
        values["params"] = dict(params)
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.key) == key,
            col(Outbox.status).in_([OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNCERTAIN]),
        )
        .values(**values)
    )
    return int(result.rowcount) > 0  # type: ignore[attr-defined]


# -- the delivery worker's side ---------------------------------------------------------------------

# The statuses a row holds while a worker owns it; ``claimed_by`` names that worker.
OWNED = (OutboxStatus.CLAIMED, OutboxStatus.SENDING)
_ERROR_MAX = 200


def _rowcount(result: Any) -> int:
    return max(int(result.rowcount), 0)


def claim(session: Session, *, worker_id: str, now: datetime, limit: int) -> list[Outbox]:
    """:func:`claim_ids`, and the rows claimed."""
    ids = claim_ids(session, worker_id=worker_id, now=now, limit=limit)
    if not ids:
        return []
    rows = session.exec(
        select(Outbox).where(col(Outbox.id).in_(ids)).order_by(col(Outbox.next_attempt_at), col(Outbox.id))
    ).all()
    return list(rows)


class PushRow(Protocol):
    """What a renderer reads of an outbox row: an :class:`Outbox`, or the worker's :class:`ClaimedRow`."""

    @property
    def key(self) -> str: ...
    @property
    def member_id(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def subject_id(self) -> int | None: ...
    @property
    def params(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """A claimed row as the worker reads it: plain columns, not an ORM object.

    A worker at a thousand pushes a second loads a thousand rows a second; as
    ORM objects (identity map, instance state, change tracking it never uses)
    they cost about a tenth of its CPU (bench/RESULTS.md, "Delivery").
    """

    id: int
    key: str
    member_id: int
    kind: PushKind
    topic: str
    subject_id: int | None
    params: Mapping[str, Any]
    due_at: datetime
    attempts: int
    channel: str | None
    external_ref: str | None


_TABLE: sa.Table = Outbox.__table__  # type: ignore[attr-defined]
_CLAIMED = (
    sa.select(*(_TABLE.c[name] for name in ClaimedRow.__dataclass_fields__))
    .where(_TABLE.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_TABLE.c.id)
)


def claimed_rows(session: Session, ids: Sequence[int]) -> list[ClaimedRow]:
    """The rows ``ids`` (claimed by the caller), oldest first."""
    return [ClaimedRow(*row) for row in session.connection().execute(_CLAIMED, {"ids": list(ids)})]


def claim_ids(
    session: Session, *, worker_id: str, now: datetime, limit: int, urgent_only: bool = False
) -> list[int]:
    """Take up to ``limit`` due rows for ``worker_id``: urgent ones first, then oldest due first; their ids.

    Urgent rows are few and someone watches for them: a sender's progress message
    queued behind the thousands of rows it reports on would arrive when they are
    all sent (it shares their due time and comes after them by id). Looking for them
    reads the due rows' index entries, well under a millisecond for 20,000 of them.
    ``urgent_only``: only those (the worker looks for them between batches).

    On PostgreSQL the rows are chosen with ``FOR UPDATE SKIP LOCKED``, so workers
    claiming at the same moment each get different rows without waiting on one
    another. SQLite drops that clause (docs/LIBRARIES.md); there the single UPDATE is
    atomic on its own, and only one worker runs (bot/delivery enforces it).
    The caller commits before sending anything: a claim that is not committed
    protects nothing.
    """
    ids = _claim(session, worker_id=worker_id, now=now, limit=limit, urgent=True)
    if len(ids) < limit and not urgent_only:
        ids += _claim(session, worker_id=worker_id, now=now, limit=limit - len(ids), urgent=False)
    return ids


def _claim(session: Session, *, worker_id: str, now: datetime, limit: int, urgent: bool) -> list[int]:
    conditions = [col(Outbox.status) == OutboxStatus.QUEUED, col(Outbox.next_attempt_at) <= now]
    if urgent:
        conditions.append(col(Outbox.urgent).is_(True))
    due = (
        select(Outbox.id)
        .where(*conditions)
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = session.execute(
        sa.update(Outbox)
        .where(col(Outbox.id).in_(due))
        .values(status=OutboxStatus.CLAIMED, claimed_by=worker_id, claimed_at=now)
        .returning(col(Outbox.id))
    )
    return [row_id for (row_id,) in result]


def mark_sending(
    session: Session, ids: Collection[int], *, worker_id: str, channel: str | None = None
) -> set[int]:
    """Move claimed rows to SENDING as their requests are about to leave on ``channel``; commit, then send.

    Only rows this worker still holds are moved (a worker presumed dead may have
    had them taken back), and only those may be sent. The channel is written with
    the mark, so a row a killed worker leaves uncertain says where it may have
    arrived (``outbox status``). A Core statement built once: the worker runs it
    hundreds of times a second, and an ORM update rebuilt on every call cost more
    than the row it changes. Rows loaded into ``session`` are not refreshed; read
    the status again to see the mark.

    Returns:
        The ids that may be sent now.
    """
    if not ids:
        return set()
    params = {"ids": list(ids), "worker_id": worker_id}
    if channel is None:
        result = session.connection().execute(_MARK_SENDING, params)
    else:
        result = session.connection().execute(_MARK_SENDING_ON, {**params, "sending_channel": channel})
    return {row_id for (row_id,) in result}


def _mark_sending_statement(*, with_channel: bool = False) -> Any:
    table = Outbox.__table__  # type: ignore[attr-defined]
    values: dict[str, Any] = {"status": OutboxStatus.SENDING.value}
    if with_channel:
        values["channel"] = sa.bindparam("sending_channel")
    return (
        sa.update(table)
        .where(
            table.c.id.in_(sa.bindparam("ids", expanding=True)),
            table.c.status == OutboxStatus.CLAIMED.value,
            table.c.claimed_by == sa.bindparam("worker_id"),
        )
        .values(**values)
        .returning(table.c.id)
    )


_MARK_SENDING = _mark_sending_statement()
_MARK_SENDING_ON = _mark_sending_statement(with_channel=True)


def _settle(
    session: Session,
    row_id: int,
    *,
    worker_id: str,
    from_statuses: Collection[OutboxStatus],
    values: Mapping[str, Any],
) -> bool:
    """Move one row this worker holds to its outcome; False when it no longer holds it."""
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.id) == row_id,
            col(Outbox.claimed_by) == worker_id,
            col(Outbox.status).in_(list(from_statuses)),
        )
        .values(**values)
    )
    return _rowcount(result) > 0


# A row the worker had handed to a channel may have been declared uncertain by a
# worker that thought this one dead; the true outcome still wins when it arrives.
_AFTER_SENDING = (OutboxStatus.SENDING, OutboxStatus.UNCERTAIN)


def _error(text: str | None) -> str | None:
    return None if text is None else text[:_ERROR_MAX]


def record_sent(
    session: Session,
    row_id: int,
    *,
    worker_id: str,
    channel: str,
    external_ref: str | None,
    now: datetime,
    note: str | None = None,
) -> bool:
    """The channel accepted the push. ``note``: something worth knowing although it went out."""
    return _settle(
        session,
        row_id,
        worker_id=worker_id,
        from_statuses=_AFTER_SENDING,
        values={
            "status": OutboxStatus.SENT,
            "channel": channel,
            "external_ref": external_ref,
            "sent_at": now,
            "error": _error(note),
            "attempts": Outbox.attempts + 1,
        },
    )


@dataclass(frozen=True)
class Sent:
    """One push a channel accepted: see :func:`record_sent`."""

    row_id: int
    channel: str
    external_ref: str | None = None
    note: str | None = None


def _record_sent_statement() -> Any:
    table = Outbox.__table__  # type: ignore[attr-defined]
    return (
        sa.update(table)
        .where(
            table.c.id == sa.bindparam("row_id"),
            table.c.claimed_by == sa.bindparam("worker_id"),
            # Not IN (…): an expanding IN cannot be executed many times over.
            sa.or_(*(table.c.status == status.value for status in _AFTER_SENDING)),
        )
        .values(
            status=OutboxStatus.SENT.value,
            channel=sa.bindparam("sent_channel"),
            external_ref=sa.bindparam("sent_ref"),
            error=sa.bindparam("sent_note"),
            sent_at=sa.bindparam("sent_at", type_=UTCDateTime),
            attempts=table.c.attempts + 1,
        )
    )


# Built once, as _MARK_SENDING: a statement with the worker id and the time written into it was
# keyed for SQLAlchemy's compiled cache again on every group commit.
_RECORD_SENT = _record_sent_statement()


def record_sent_many(session: Session, sent: Sequence[Sent], *, worker_id: str, now: datetime) -> int:
    """:func:`record_sent` for many rows in one statement, executed once per row (executemany).

    A worker at a thousand pushes a second records most of them this way: one
    statement prepared once costs a fraction of a thousand built one by one.

    Returns:
        How many rows this worker still held and recorded.
    """
    if not sent:
        return 0
    result = session.connection().execute(
        _RECORD_SENT,
        [
            {
                "row_id": item.row_id,
                "worker_id": worker_id,
                "sent_channel": item.channel,
                "sent_ref": item.external_ref,
                "sent_note": _error(item.note),
                "sent_at": now,
            }
            for item in sent
        ],
    )
    return _rowcount(result)


def record_retry(
    session: Session,
    row_id: int,
    *,
    worker_id: str,
    channel: str | None,
    error: str,
    at: datetime,
    count: bool = True,
) -> bool:
    """The push may go through later (network, 5xx, 429): queued again for ``at``.

    ``count`` False: nothing was tried (the worker stopped first), so it is no attempt.
    """
    return _settle(
        session,
        row_id,
        worker_id=worker_id,
        from_statuses=(OutboxStatus.CLAIMED, *_AFTER_SENDING),
        values={
            "status": OutboxStatus.QUEUED,
            "claimed_by": None,
            "next_attempt_at": at,
            "attempts": Outbox.attempts + (1 if count else 0),
            "channel": channel,
            "error": _error(error),
        },
    )


def record_failed(session: Session, row_id: int, *, worker_id: str, channel: str | None, error: str) -> bool:
    """The push can never go through (blocked, unsubscribed, no active account)."""
    return _settle(
        session,
        row_id,
        worker_id=worker_id,
        from_statuses=(OutboxStatus.CLAIMED, *_AFTER_SENDING),
        values={
            "status": OutboxStatus.FAILED,
            "channel": channel,
            "error": _error(error),
            "attempts": Outbox.attempts + 1,
        },
    )


def record_uncertain(session: Session, row_id: int, *, worker_id: str, channel: str, error: str) -> bool:
    """The request went out and no answer came back: the member may have it (docs/LIBRARIES.md, TimedOut)."""
    return _settle(
        session,
        row_id,
        worker_id=worker_id,
        from_statuses=_AFTER_SENDING,
        values={
            "status": OutboxStatus.UNCERTAIN,
            "channel": channel,
            "error": _error(error),
            "attempts": Outbox.attempts + 1,
        },
    )


def record_withdrawn(session: Session, row_id: int, *, worker_id: str) -> bool:
    """Nothing to send any more: the subject (a notice) was withdrawn or deleted after queuing."""
    return _settle(
        session,
        row_id,
        worker_id=worker_id,
        from_statuses=(OutboxStatus.CLAIMED,),
        values={"status": OutboxStatus.WITHDRAWN},
    )


def release(session: Session, ids: Collection[int], *, worker_id: str) -> int:
    """Give back rows claimed but not yet handed to a channel (a worker stopping)."""
    if not ids:
        return 0
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.id).in_(list(ids)),
            col(Outbox.claimed_by) == worker_id,
            col(Outbox.status) == OutboxStatus.CLAIMED,
        )
        .values(status=OutboxStatus.QUEUED, claimed_by=None)
    )
    return _rowcount(result)


def defer_until(session: Session, *, now: datetime, until: datetime) -> int:
    """Quiet hours: pushes that are not urgent and due now wait until ``until`` (the morning).

    One statement however many rows wait, and ``next_attempt_at`` then says when
    they go, for ``outbox status`` and a cadre's report.
    """
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.status) == OutboxStatus.QUEUED,
            col(Outbox.urgent).is_(False),
            col(Outbox.next_attempt_at) < until,
            col(Outbox.due_at) <= now,
        )
        .values(next_attempt_at=until)
    )
    return _rowcount(result)


def claimants(session: Session) -> set[str]:
    """The workers that hold rows now: the ones to check for a heartbeat."""
    rows = session.exec(
        select(Outbox.claimed_by)
        .where(col(Outbox.status).in_(OWNED), col(Outbox.claimed_by).is_not(None))
        .distinct()
    ).all()
    return {worker for worker in rows if worker is not None}


@dataclass(frozen=True)
class Recovered:
    """What was taken back from dead workers: re-queued rows, and rows now uncertain."""

    requeued: int = 0
    uncertain: int = 0


def recover(
    session: Session, *, workers: Collection[str], resend_uncertain: bool, now: datetime
) -> Recovered:
    """Take back the rows of workers that died.

    A claimed row had not reached a channel: it is queued again. A row in
    SENDING may have: it becomes UNCERTAIN (nobody can know whether the member
    has it), or is queued again when the settings accept the risk of a
    duplicate. Their number is at most the dead worker's requests in flight.
    """
    if not workers:
        return Recovered()
    owned = [*workers]
    requeued = _rowcount(
        session.execute(
            sa.update(Outbox)
            .where(col(Outbox.claimed_by).in_(owned), col(Outbox.status) == OutboxStatus.CLAIMED)
            .values(status=OutboxStatus.QUEUED, claimed_by=None)
        )
    )
    sending = sa.update(Outbox).where(
        col(Outbox.claimed_by).in_(owned), col(Outbox.status) == OutboxStatus.SENDING
    )
    if resend_uncertain:
        resent = _rowcount(
            session.execute(
                sending.values(
                    status=OutboxStatus.QUEUED,
                    claimed_by=None,
                    next_attempt_at=now,
                    error="resent: the worker died while sending",
                )
            )
        )
        return Recovered(requeued=requeued + resent)
    uncertain = _rowcount(
        session.execute(sending.values(status=OutboxStatus.UNCERTAIN, error="the worker died while sending"))
    )
    return Recovered(requeued=requeued, uncertain=uncertain)


def retry_failed(session: Session, *, kind: PushKind, now: datetime, include_uncertain: bool = False) -> int:
    """Queue the failed pushes of ``kind`` again (an admin fixed the cause), due now.

    With ``include_uncertain`` the uncertain ones too: the admin accepts that some
    members may get those twice.
    """
    statuses = [OutboxStatus.FAILED, *([OutboxStatus.UNCERTAIN] if include_uncertain else [])]
    result = session.execute(
        sa.update(Outbox)
        .where(col(Outbox.kind) == kind, col(Outbox.status).in_(statuses))
        .values(status=OutboxStatus.QUEUED, claimed_by=None, next_attempt_at=now, attempts=0, error=None)
    )
    return _rowcount(result)


def kind_counts(session: Session) -> dict[PushKind, dict[OutboxStatus, int]]:
    """How many pushes of each kind stand in each status: ``outbox status``."""
    counts: dict[PushKind, dict[OutboxStatus, int]] = {}
    for kind, status, count in session.exec(
        select(Outbox.kind, Outbox.status, func.count()).group_by(col(Outbox.kind), col(Outbox.status))
    ).all():
        counts.setdefault(PushKind(kind), {})[OutboxStatus(status)] = count
    return counts


def uncertain_rows(session: Session, *, limit: int = 100) -> Sequence[Outbox]:
    """The pushes nobody knows the fate of, oldest first, for an admin to look into."""
    return session.exec(
        select(Outbox)
        .where(col(Outbox.status) == OutboxStatus.UNCERTAIN)
        .order_by(col(Outbox.claimed_at), col(Outbox.id))
        .limit(limit)
    ).all()


def uncertain_channels(session: Session) -> dict[str, int]:
    """How many uncertain pushes each channel may or may not have delivered ("" when none was recorded)."""
    rows = session.exec(
        select(Outbox.channel, func.count())
        .where(col(Outbox.status) == OutboxStatus.UNCERTAIN)
        .group_by(col(Outbox.channel))
    ).all()
    return {channel or "": count for channel, count in rows}


def next_due(session: Session) -> datetime | None:
    """When the earliest queued row is due: how long an idle worker may sleep."""
    return session.exec(
        select(func.min(Outbox.next_attempt_at)).where(col(Outbox.status) == OutboxStatus.QUEUED)
    ).one()
