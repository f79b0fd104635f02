"""The waitlist: a full activity lines members up in the order their requests were committed,
and a place freed goes to the first in line, to exactly one member, even under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.activities import (
    PROMOTED_TOPIC,
    ActivitySignup,
    SignupOutcome,
    SignupStatus,
    cancel_signup,
    create_activity,
    sign_up,
    signups_for,
    signups_of,
    waitlist_counts,
    waitlist_position,
    waitlist_positions,
)
from models.db import SessionFactory
from models.errors import InvalidInput
from models.members import Member, MemberStatus
from models.outbox import Outbox
from models.roles import Role
from tests.factories import make_member
from tests.models.test_activities import draft, member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _union(session: Session, members: int) -> Member:
    cadre = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
    for number in range(1, members + 1):
        make_member(session, employee_no=f"{1000 + number}", name=f"会员{number}", phone=None)
    return cadre


def _statuses(session: Session, activity_id: int) -> dict[str, SignupStatus]:
    rows = session.exec(
        select(Member.employee_no, ActivitySignup.status)
        .join(ActivitySignup, col(ActivitySignup.member_id) == col(Member.id))
        .where(ActivitySignup.activity_id == activity_id)
    ).all()
    return {employee_no: SignupStatus(status) for employee_no, status in rows}


def test_a_full_activity_refuses_unless_asked_to_wait_and_tells_the_place_in_line(session: Session) -> None:
    cadre = _union(session, 4)
    activity = create_activity(session, actor=cadre, draft=draft(session, capacity=1), now=NOW)
    assert activity.id is not None
    first, second, third, fourth = (member(session, f"{1000 + n}") for n in range(1, 5))
    assert sign_up(session, actor=first, activity_id=activity.id, now=NOW) is SignupOutcome.SIGNED_UP
    with pytest.raises(InvalidInput) as full:
        sign_up(session, actor=second, activity_id=activity.id, now=NOW)
    assert full.value.code == "activity.full"
    assert "可以排队候补" in full.value.msgid
    for waiting in (second, third, fourth):
        outcome = sign_up(session, actor=waiting, activity_id=activity.id, now=NOW, waitlist=True)
        assert outcome is SignupOutcome.WAITLISTED
    again = sign_up(session, actor=third, activity_id=activity.id, now=NOW, waitlist=True)
    assert again is SignupOutcome.ALREADY_WAITLISTED
    assert [
        waitlist_position(session, member=m, activity_id=activity.id) for m in (first, second, third)
    ] == [
        None,
        1,
        2,
    ]
    assert waitlist_positions(session, member=fourth, activity_ids=[activity.id]) == {activity.id: 3}
    assert waitlist_counts(session, [activity.id]) == {activity.id: 3}
    assert signups_for(session, member=fourth, now=NOW)[1] == 1  # 我的报名 lists what they wait for
    # Leaving the line moves those behind up, and coming back joins the end.
    cancel_signup(session, actor=second, activity_id=activity.id, now=NOW)
    assert waitlist_position(session, member=third, activity_id=activity.id) == 1
    sign_up(session, actor=second, activity_id=activity.id, now=NOW, waitlist=True)
    assert waitlist_position(session, member=second, activity_id=activity.id) == 3
    names = [
        a.member.employee_no
        for a in signups_of(session, actor=cadre, activity_id=activity.id, status=SignupStatus.WAITLISTED)
    ]
    assert names == ["1003", "1004", "1002"]
    # Leaving the line frees no place: nobody is moved in, nobody told.
    assert session.exec(select(Outbox)).all() == []


def test_a_freed_place_goes_to_the_first_active_member_in_line_who_is_told_once(session: Session) -> None:
    cadre = _union(session, 4)
    activity = create_activity(session, actor=cadre, draft=draft(session, capacity=1), now=NOW)
    assert activity.id is not None
    first, second, third, fourth = (member(session, f"{1000 + n}") for n in range(1, 5))
    sign_up(session, actor=first, activity_id=activity.id, now=NOW)
    for waiting in (second, third, fourth):
        sign_up(session, actor=waiting, activity_id=activity.id, now=NOW, waitlist=True)
    second.status = MemberStatus.LEFT
    session.add(second)
    session.flush()
    cancel_signup(session, actor=first, activity_id=activity.id, now=NOW + timedelta(hours=1))
    assert _statuses(session, activity.id) == {
        "1001": SignupStatus.CANCELLED,
        "1002": SignupStatus.WAITLISTED,  # left the union: passed over
        "1003": SignupStatus.SIGNED_UP,
        "1004": SignupStatus.WAITLISTED,
    }
    rows = session.exec(select(Outbox)).all()
    assert [(row.member_id, row.topic) for row in rows] == [(third.id, PROMOTED_TOPIC)]
    # Declining passes it on to the next, who is told in turn.
    cancel_signup(session, actor=third, activity_id=activity.id, now=NOW + timedelta(hours=2))
    assert _statuses(session, activity.id)["1004"] is SignupStatus.SIGNED_UP
    assert len(session.exec(select(Outbox)).all()) == 2
    with pytest.raises(InvalidInput) as late:
        cancel_signup(session, actor=fourth, activity_id=activity.id, now=NOW + timedelta(days=4))
    assert late.value.code == "activity.cancel_too_late"


def test_200_members_at_once_for_50_places_give_50_in_and_150_in_line_in_commit_order(
    db: SessionFactory,
) -> None:
    """Several connections at once (8 threads): places and the line are decided under the activity's lock."""
    with db() as session:
        cadre = _union(session, 200)
        activity = create_activity(session, actor=cadre, draft=draft(session, capacity=50), now=NOW)
        activity_id = activity.id
        ids = list(session.exec(select(Member.id).where(col(Member.employee_no) != "C1")))
    assert activity_id is not None

    def ask(member_id: int) -> SignupOutcome:
        with db() as session:
            actor = session.get(Member, member_id)
            assert actor is not None
            return sign_up(session, actor=actor, activity_id=activity_id, now=NOW, waitlist=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(ask, ids))
    assert outcomes.count(SignupOutcome.SIGNED_UP) == 50
    assert outcomes.count(SignupOutcome.WAITLISTED) == 150
    with db() as session:
        rows = session.exec(select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)).all()
        # Each request got its own number in the order it was committed: the first 50 are in.
        by_number = sorted(rows, key=lambda row: row.queue_no)
        assert [row.queue_no for row in by_number] == list(range(1, 201))
        assert {row.status for row in by_number[:50]} == {SignupStatus.SIGNED_UP}
        assert {row.status for row in by_number[50:]} == {SignupStatus.WAITLISTED}
        leavers = [row.member_id for row in by_number[:10]]
        next_in_line = {row.member_id for row in by_number[50:60]}

    def leave(member_id: int) -> None:
        with db() as session:
            actor = session.get(Member, member_id)
            assert actor is not None
            cancel_signup(session, actor=actor, activity_id=activity_id, now=NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(leave, leavers))
    with db() as session:
        signed = set(
            session.exec(
                select(ActivitySignup.member_id).where(
                    ActivitySignup.activity_id == activity_id, ActivitySignup.status == SignupStatus.SIGNED_UP
                )
            )
        )
        assert len(signed) == 50
        assert next_in_line <= signed  # each freed place went to the next in line, each to one member
        told = session.exec(select(Outbox.member_id).where(Outbox.topic == PROMOTED_TOPIC)).all()
        assert sorted(told) == sorted(next_in_line)
