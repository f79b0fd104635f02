"""The outbox as the delivery worker uses it: claim, the SENDING fence, outcomes, recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.db import SessionFactory
from models.outbox import (
    FailureCode,
    NewPush,
    Outbox,
    OutboxStatus,
    Outcome,
    PushKind,
    claim,
    claimants,
    defer_until,
    enqueue,
    kind_counts,
    kind_outcomes,
    mark_sending,
    outcome_counts,
    outcome_of,
    record_retry,
    record_sent,
    record_uncertain,
    recover,
    release,
    retry_failed,
    uncertain_rows,
)
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _queue(session: Session, count: int, *, kind: PushKind = PushKind.NOTICE, **extra: object) -> list[int]:
    member = make_member(session)
    assert member.id is not None
    enqueue(
        session,
        [
            NewPush(key=f"n:1:{index}", member_id=member.id, kind=kind, topic="notice", subject_id=1, **extra)  # type: ignore[arg-type]
            for index in range(count)
        ],
        now=NOW,
    )
    return [row.id for row in session.exec(select(Outbox).order_by(col(Outbox.id))) if row.id is not None]


def _status(session: Session, row_id: int) -> OutboxStatus:
    session.expire_all()
    row = session.get(Outbox, row_id)
    assert row is not None
    return row.status


def test_enqueuing_the_same_key_twice_queues_one_push(session: Session) -> None:
    _queue(session, 3)
    member_id = session.exec(select(Outbox.member_id)).first()
    assert member_id is not None
    pushes = [
        NewPush(key=f"n:1:{index}", member_id=member_id, kind=PushKind.NOTICE, topic="notice")
        for index in range(2500)  # across several batches, the first three queued already
    ]
    assert enqueue(session, pushes) == 2497  # what is new, on every database
    assert enqueue(session, pushes[:1]) == 0
    assert len(session.exec(select(Outbox)).all()) == 2500


def test_claim_takes_due_rows_once(db: SessionFactory) -> None:
    with db() as session:
        ids = _queue(session, 5)
    with db() as session:
        first = claim(session, worker_id="a", now=NOW, limit=3)
    with db() as session:
        second = claim(session, worker_id="b", now=NOW, limit=3)
    with db() as session:
        third = claim(session, worker_id="c", now=NOW, limit=3)
    assert [row.id for row in first] == ids[:3]
    assert [row.id for row in second] == ids[3:]
    assert third == []
    assert all(row.status is OutboxStatus.CLAIMED and row.claimed_by == "a" for row in first)


def test_a_row_not_yet_due_is_not_claimed(db: SessionFactory) -> None:
    with db() as session:
        _queue(session, 1, due_at=NOW + timedelta(hours=1))
    with db() as session:
        assert claim(session, worker_id="a", now=NOW, limit=10) == []
        assert len(claim(session, worker_id="a", now=NOW + timedelta(hours=1), limit=10)) == 1


def test_only_the_claiming_worker_may_send_and_record(db: SessionFactory) -> None:
    with db() as session:
        [row_id] = _queue(session, 1)
        claim(session, worker_id="a", now=NOW, limit=1)
    with db() as session:
        assert mark_sending(session, [row_id], worker_id="b") == set()
        assert mark_sending(session, [row_id], worker_id="a") == {row_id}
        assert not record_sent(session, row_id, worker_id="b", channel="telegram", external_ref="9", now=NOW)
        assert record_sent(session, row_id, worker_id="a", channel="telegram", external_ref="9", now=NOW)
        assert _status(session, row_id) is OutboxStatus.SENT


def test_a_dead_workers_rows_come_back_and_what_was_on_its_way_is_uncertain(db: SessionFactory) -> None:
    with db() as session:
        ids = _queue(session, 4)
        claim(session, worker_id="dead", now=NOW, limit=4)
    with db() as session:
        mark_sending(session, ids[:2], worker_id="dead")
        record_sent(session, ids[0], worker_id="dead", channel="telegram", external_ref="1", now=NOW)
    with db() as session:
        assert claimants(session) == {"dead"}
        recovered = recover(session, workers={"dead"}, resend_uncertain=False, now=NOW)
    assert (recovered.requeued, recovered.uncertain) == (2, 1)
    with db() as session:
        assert [_status(session, row_id) for row_id in ids] == [
            OutboxStatus.SENT,
            OutboxStatus.UNCERTAIN,
            OutboxStatus.QUEUED,
            OutboxStatus.QUEUED,
        ]
        assert [row.id for row in uncertain_rows(session)] == [ids[1]]
        # The worker was only slow, not dead: its true outcome still counts.
        assert record_uncertain(session, ids[1], worker_id="dead", channel="telegram", error="x") is True


def test_resend_uncertain_queues_them_again(db: SessionFactory) -> None:
    with db() as session:
        ids = _queue(session, 1)
        claim(session, worker_id="dead", now=NOW, limit=1)
        mark_sending(session, ids, worker_id="dead")
    with db() as session:
        recovered = recover(session, workers={"dead"}, resend_uncertain=True, now=NOW)
    assert recovered.requeued == 1
    with db() as session:
        assert _status(session, ids[0]) is OutboxStatus.QUEUED


def test_retry_waits_then_counts_the_attempt(db: SessionFactory) -> None:
    with db() as session:
        [row_id] = _queue(session, 1)
        claim(session, worker_id="a", now=NOW, limit=1)
        mark_sending(session, [row_id], worker_id="a")
        later = NOW + timedelta(minutes=5)
        record_retry(session, row_id, worker_id="a", channel="telegram", error="429", at=later)
    with db() as session:
        assert claim(session, worker_id="a", now=NOW, limit=1) == []
        [row] = claim(session, worker_id="a", now=later, limit=1)
        assert row.attempts == 1
        assert row.error == "429"


def test_release_gives_back_claimed_rows_only(db: SessionFactory) -> None:
    with db() as session:
        ids = _queue(session, 2)
        claim(session, worker_id="a", now=NOW, limit=2)
        mark_sending(session, ids[:1], worker_id="a")
        assert release(session, ids, worker_id="a") == 1
        assert _status(session, ids[1]) is OutboxStatus.QUEUED
        assert _status(session, ids[0]) is OutboxStatus.SENDING


def test_quiet_hours_hold_back_what_is_not_urgent(db: SessionFactory) -> None:
    morning = NOW + timedelta(hours=8)
    with db() as session:
        ids = _queue(session, 2)
        session.execute(sa.update(Outbox).where(Outbox.id == ids[1]).values(urgent=True))  # type: ignore[arg-type]
    with db() as session:
        assert defer_until(session, now=NOW, until=morning) == 1
        assert [row.id for row in claim(session, worker_id="a", now=NOW, limit=5)] == [ids[1]]
        assert [row.id for row in claim(session, worker_id="a", now=morning, limit=5)] == [ids[0]]


def test_status_counts_per_kind_and_retry_failed(db: SessionFactory) -> None:
    from models.outbox import record_failed

    with db() as session:
        ids = _queue(session, 3, kind=PushKind.REMINDER)
        claim(session, worker_id="a", now=NOW, limit=3)
        record_failed(session, ids[0], worker_id="a", channel="telegram", error="blocked")
        mark_sending(session, ids[1:2], worker_id="a")
        record_uncertain(session, ids[1], worker_id="a", channel="telegram", error="timeout")
    with db() as session:
        counts = kind_counts(session)
        assert counts == {
            PushKind.REMINDER: {OutboxStatus.FAILED: 1, OutboxStatus.UNCERTAIN: 1, OutboxStatus.CLAIMED: 1}
        }
        assert retry_failed(session, kind=PushKind.NOTICE, now=NOW) == 0
        assert retry_failed(session, kind=PushKind.REMINDER, now=NOW) == 1
        assert retry_failed(session, kind=PushKind.REMINDER, now=NOW, include_uncertain=True) == 1
        assert _status(session, ids[0]) is OutboxStatus.QUEUED


def test_one_vocabulary_tells_no_account_and_blocked_apart_from_failed(db: SessionFactory) -> None:
    """What ``outbox status`` and a cadre's report both count, whatever the row's error says."""
    rows = [
        (OutboxStatus.SENT, None, Outcome.SENT),
        (OutboxStatus.FAILED, f"{FailureCode.NO_ACCOUNT}: no active account", Outcome.NO_ACCOUNT),
        (OutboxStatus.FAILED, "no_account", Outcome.NO_ACCOUNT),
        (OutboxStatus.FAILED, "no_template: wechat: no_template", Outcome.NO_ACCOUNT),
        (OutboxStatus.FAILED, "blocked", Outcome.BLOCKED),
        (OutboxStatus.FAILED, "blocked: telegram: blocked", Outcome.BLOCKED),
        (OutboxStatus.FAILED, "chat not found", Outcome.FAILED),
        (OutboxStatus.FAILED, "no_accountant: a code that only begins alike", Outcome.FAILED),
        (OutboxStatus.FAILED, None, Outcome.FAILED),
        (OutboxStatus.UNCERTAIN, "timeout", Outcome.UNCERTAIN),
        (OutboxStatus.QUEUED, "retry: 502", Outcome.WAITING),
        (OutboxStatus.CLAIMED, None, Outcome.WAITING),
        (OutboxStatus.SENDING, None, Outcome.WAITING),
        (OutboxStatus.WITHDRAWN, None, Outcome.WITHDRAWN),
    ]
    with db() as session:
        ids = _queue(session, len(rows), kind=PushKind.REMINDER)
        for row_id, (status, error, _outcome) in zip(ids, rows, strict=True):
            session.execute(
                sa.update(Outbox).where(col(Outbox.id) == row_id).values(status=status, error=error)
            )
    expected: dict[Outcome, int] = {}
    for status, error, outcome in rows:
        assert outcome_of(status, error) is outcome, (status, error)
        expected[outcome] = expected.get(outcome, 0) + 1
    with db() as session:
        assert outcome_counts(session, col(Outbox.topic) == "notice") == expected
        assert outcome_counts(session, col(Outbox.topic) == "elsewhere") == {}
        assert kind_outcomes(session) == {PushKind.REMINDER: expected}
