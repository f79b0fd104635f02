"""The lottery: a draw anyone can re-run from its seed, the priority group first, offers confirmed,
declined or lapsed passing to the next drawn, exactly once across reruns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.activities import (
    DRAWN_TOPIC,
    OFFERED_TOPIC,
    ActivitySignup,
    Allocation,
    SignupOutcome,
    SignupStatus,
    cancel_signup,
    create_activity,
    sign_up,
)
from models.activities.lottery import (
    confirm_place,
    draw_order,
    run_draws,
    set_priority_list,
    verify_draw,
)
from models.errors import InvalidInput, PermissionDenied
from models.members import Member
from models.outbox import Outbox
from models.roles import Role
from tests.factories import make_member
from tests.models.test_activities import draft, member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=3)
STARTS = NOW + timedelta(days=5)


def _lottery(session: Session, places: int, entrants: int, **changes: object) -> int:
    chair = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
    for number in range(1, entrants + 1):
        make_member(session, employee_no=f"{1000 + number}", phone=None)
    fields: dict[str, object] = {"capacity": places, "allocation": Allocation.LOTTERY}
    fields.update(changes)
    activity = create_activity(session, actor=chair, draft=draft(session, **fields), now=NOW)
    assert activity.id is not None
    return activity.id


def _statuses(session: Session, activity_id: int) -> dict[str, SignupStatus]:
    rows = session.exec(
        select(Member.employee_no, ActivitySignup.status)
        .join(ActivitySignup, col(ActivitySignup.member_id) == col(Member.id))
        .where(ActivitySignup.activity_id == activity_id)
    ).all()
    return {number: SignupStatus(status) for number, status in rows}


def test_the_order_comes_from_the_seed_alone_with_the_priority_group_first() -> None:
    entrants = [(5, False), (3, True), (9, False), (1, True), (7, False)]
    order = draw_order("c0ffee", entrants)
    assert order == draw_order("c0ffee", list(reversed(entrants)))  # entry order does not matter
    assert set(order[:2]) == {1, 3}
    assert sorted(order) == [1, 3, 5, 7, 9]
    assert any(draw_order(seed, entrants) != order for seed in ("a", "b", "c", "d"))


def test_everyone_enters_until_the_deadline_and_the_draw_offers_the_places_once(session: Session) -> None:
    activity_id = _lottery(session, places=2, entrants=5)
    for number in range(1, 6):
        outcome = sign_up(
            session, actor=member(session, f"{1000 + number}"), activity_id=activity_id, now=NOW
        )
        assert outcome is SignupOutcome.ENTERED  # more than the places: nobody is told "full"
    again = sign_up(session, actor=member(session, "1001"), activity_id=activity_id, now=NOW)
    assert again is SignupOutcome.ALREADY_ENTERED
    assert run_draws(session, now=DEADLINE - timedelta(minutes=1)) == 0  # not yet
    assert run_draws(session, now=DEADLINE) == 1
    assert run_draws(session, now=DEADLINE + timedelta(minutes=5)) == 0  # drawn once
    statuses = _statuses(session, activity_id)
    assert sorted(statuses.values()) == sorted([SignupStatus.OFFERED] * 2 + [SignupStatus.NOT_DRAWN] * 3)
    assert len(session.exec(select(Outbox).where(Outbox.topic == DRAWN_TOPIC)).all()) == 5
    check = verify_draw(session, activity_id=activity_id)
    assert check.holds
    assert len(check.recorded) == 5


def test_an_offer_declined_or_lapsed_passes_to_the_next_drawn(session: Session) -> None:
    activity_id = _lottery(session, places=1, entrants=4)
    for number in range(1, 5):
        sign_up(session, actor=member(session, f"{1000 + number}"), activity_id=activity_id, now=NOW)
    run_draws(session, now=DEADLINE)
    by_rank = session.exec(
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id)
        .order_by(col(ActivitySignup.draw_rank))
    ).all()
    first, second, third, fourth = (signup.member_id for signup in by_rank)

    def who(member_id: int) -> Member:
        found = session.get(Member, member_id)
        assert found is not None
        return found

    cancel_signup(session, actor=who(first), activity_id=activity_id, now=DEADLINE + timedelta(hours=1))
    offered = session.exec(select(Outbox).where(Outbox.topic == OFFERED_TOPIC)).all()
    assert [row.member_id for row in offered] == [second]
    # The second lets the offer lapse: 48 hours on, the job passes it to the third.
    assert run_draws(session, now=DEADLINE + timedelta(hours=50)) == 1
    assert run_draws(session, now=DEADLINE + timedelta(hours=51)) == 0
    with pytest.raises(InvalidInput) as late:
        confirm_place(session, actor=who(second), activity_id=activity_id, now=DEADLINE + timedelta(hours=51))
    assert late.value.code == "activity.no_offer"
    confirm_place(session, actor=who(third), activity_id=activity_id, now=DEADLINE + timedelta(hours=52))
    statuses = {s.member_id: s.status for s in session.exec(select(ActivitySignup))}
    assert statuses == {
        first: SignupStatus.CANCELLED,
        second: SignupStatus.LAPSED,
        third: SignupStatus.SIGNED_UP,
        fourth: SignupStatus.NOT_DRAWN,
    }


def test_priority_members_alone_sign_up_first_come_until_the_date_and_are_drawn_first(
    session: Session,
) -> None:
    first_come = _lottery(
        session,
        places=3,
        entrants=4,
        allocation=Allocation.FIRST_COME,
        priority_role=Role.REPRESENTATIVE.value,
        priority_until=NOW + timedelta(days=1),
    )
    make_member(session, employee_no="R1", roles=[(Role.REPRESENTATIVE, "厂工会/一车间")])
    with pytest.raises(PermissionDenied) as early:
        sign_up(session, actor=member(session, "1001"), activity_id=first_come, now=NOW)
    assert early.value.code == "activity.priority_only"
    assert (
        sign_up(session, actor=member(session, "R1"), activity_id=first_come, now=NOW)
        is SignupOutcome.SIGNED_UP
    )
    later = NOW + timedelta(days=1)
    assert sign_up(session, actor=member(session, "1001"), activity_id=first_come, now=later) is (
        SignupOutcome.SIGNED_UP
    )
    chair = member(session, "C1")
    lottery = create_activity(
        session,
        actor=chair,
        draft=draft(
            session, capacity=2, allocation=Allocation.LOTTERY, priority_until=NOW + timedelta(hours=1)
        ),
        now=NOW,
    )
    assert lottery.id is not None
    with pytest.raises(InvalidInput) as unknown:
        set_priority_list(session, activity_id=lottery.id, employee_nos=["1003", "9999"])
    assert unknown.value.code == "activity.priority_unknown"
    assert set_priority_list(session, activity_id=lottery.id, employee_nos=["1003", "1004", "1004"]) == 2
    for number in ("1001", "1002", "1003", "1004"):
        sign_up(session, actor=member(session, number), activity_id=lottery.id, now=NOW + timedelta(hours=2))
    run_draws(session, now=DEADLINE)
    assert _statuses(session, lottery.id) == {
        "1001": SignupStatus.NOT_DRAWN,
        "1002": SignupStatus.NOT_DRAWN,
        "1003": SignupStatus.OFFERED,
        "1004": SignupStatus.OFFERED,
    }
    assert verify_draw(session, activity_id=lottery.id).holds


def test_a_lottery_needs_places(session: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        _lottery(session, places=0, entrants=1, capacity=None)
    assert refused.value.code == "activity.lottery_needs_places"
