""" "三及时": reminders before a suggestion's deadline, escalation after it, to the right cadres, once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.members import Member, MemberStatus
from models.outbox import Outbox, PushKind
from models.roles import Role, grant_role, revoke_role
from models.suggestions import (
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    decide_suggestion,
    first_review,
    merge_suggestion,
    register_suggestion,
    submit_suggestion,
)
from models.suggestions.deadlines import (
    DUE_TOPIC,
    OVERDUE_TOPIC,
    enqueue_deadline_pushes,
    responsible_for,
)
from models.units import find_unit
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, make_member

POLICY = SuggestionPolicy()


def morning(day: date) -> datetime:
    """08:30 in Shanghai, when the job runs."""
    return datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)


@dataclass
class Union:
    proposer: Member
    chair: Member  # 工会主席 of the whole union (厂工会)
    committee: Member  # 委员 of 一车间
    deputy: Member  # another 委员 of 一车间
    leader: Member  # 小组长 of 一车间: no suggestions to review
    gone: Member  # a 委员 of 一车间 who left
    other: Member  # 委员 of 二车间, beside it


@pytest.fixture
def union(session: Session) -> Union:
    made = Union(
        proposer=make_member(session, employee_no="1001", unit="厂工会/一车间/甲班"),
        chair=make_member(session, employee_no="C0", name="王主席", roles=[(Role.CHAIR, "厂工会")]),
        committee=make_member(
            session, employee_no="C1", name="李委员", roles=[(Role.COMMITTEE, "厂工会/一车间")]
        ),
        deputy=make_member(
            session, employee_no="C2", name="赵委员", roles=[(Role.COMMITTEE, "厂工会/一车间")]
        ),
        leader=make_member(
            session, employee_no="C3", name="钱组长", roles=[(Role.GROUP_LEADER, "厂工会/一车间")]
        ),
        gone=make_member(session, employee_no="C4", name="周委员", roles=[(Role.COMMITTEE, "厂工会/一车间")]),
        other=make_member(
            session, employee_no="C5", name="孙委员", roles=[(Role.COMMITTEE, "厂工会/二车间")]
        ),
    )
    made.gone.status = MemberStatus.LEFT
    session.add(made.gone)
    session.flush()
    return made


def submit(session: Session, member: Member, on: date, **changes: Any) -> Suggestion:
    fields: dict[str, Any] = {"category": "节能降耗", "title": HOSTILE_TITLE[:40], "measure": HOSTILE_BODY}
    fields.update(changes)
    return submit_suggestion(
        session, actor=member, draft=SuggestionDraft(**fields), policy=POLICY, now=morning(on)
    )


def deadline_rows(session: Session) -> list[Outbox]:
    return list(
        session.exec(
            select(Outbox).where(col(Outbox.topic).in_([DUE_TOPIC, OVERDUE_TOPIC])).order_by(col(Outbox.id))
        )
    )


def who(session: Session, rows: list[Outbox]) -> list[tuple[str, str]]:
    names = {member.id: member.name for member in session.exec(select(Member))}
    return [(row.topic, names[row.member_id]) for row in rows]


def run_days(session: Session, first: date, last: date) -> dict[date, list[tuple[str, str]]]:
    """Run the job each morning from ``first`` to ``last``; what each day queued."""
    queued: dict[date, list[tuple[str, str]]] = {}
    day = first
    while day <= last:
        before = len(deadline_rows(session))
        added = enqueue_deadline_pushes(session, now=morning(day), policy=POLICY)
        rows = deadline_rows(session)[before:]
        assert added == len(rows)
        if rows:
            queued[day] = who(session, rows)
        day += timedelta(days=1)
    return queued


def test_reminder_the_working_day_before_none_over_the_weekend_escalation_after(
    session: Session, union: Union
) -> None:
    # Wednesday 18 November 2026: three working days to register, so due on Monday 23 November.
    suggestion = submit(session, union.proposer, date(2026, 11, 18))
    assert suggestion.due_on == date(2026, 11, 23)
    queued = run_days(session, date(2026, 11, 18), date(2026, 11, 30))
    assert queued == {
        # Friday, the working day before: the nearest reviewers, 一车间's active committee members.
        date(2026, 11, 20): [(DUE_TOPIC, "李委员"), (DUE_TOPIC, "赵委员")],
        # Tuesday, the first working day after the deadline: the unit above, 厂工会.
        date(2026, 11, 24): [(OVERDUE_TOPIC, "王主席")],
    }
    rows = deadline_rows(session)
    assert [row.key for row in rows] == [
        f"suggestion-due:{suggestion.id}:register:2026-11-23:{union.committee.id}",
        f"suggestion-due:{suggestion.id}:register:2026-11-23:{union.deputy.id}",
        f"suggestion-overdue:{suggestion.id}:register:2026-11-23:{union.chair.id}",
    ]
    assert {row.kind for row in rows} == {PushKind.REMINDER}
    assert all(row.subject_id == suggestion.id for row in rows)
    workshop = find_unit(session, "厂工会/一车间")
    assert rows[-1].params == {"stage": "register", "due_on": "2026-11-23", "unit": workshop.id}
    # Nothing in a push says who proposed it.
    assert all(union.proposer.name not in str(row.params) for row in rows)


def test_the_national_day_holidays_hold_the_reminder_back(session: Session, union: Union) -> None:
    # Tuesday 29 September 2026; 1–7 October are holidays: due Friday 9 October.
    suggestion = submit(session, union.proposer, date(2026, 9, 29))
    assert suggestion.due_on == date(2026, 10, 9)
    queued = run_days(session, date(2026, 9, 29), date(2026, 10, 16))
    assert queued == {
        date(2026, 10, 8): [(DUE_TOPIC, "李委员"), (DUE_TOPIC, "赵委员")],
        # Saturday 10 October is a make-up working day (调休): the deadline has passed by then.
        date(2026, 10, 10): [(OVERDUE_TOPIC, "王主席")],
    }


def test_a_job_that_was_down_still_reminds_until_the_deadline_passes(session: Session, union: Union) -> None:
    submit(session, union.proposer, date(2026, 11, 18))  # due Monday 23 November
    # Down on Friday, and nothing at the weekend: the reminder comes on the due day itself.
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 21)), policy=POLICY) == 0
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 23)), policy=POLICY) == 2
    assert [topic for topic, _ in who(session, deadline_rows(session))] == [DUE_TOPIC, DUE_TOPIC]


def test_after_the_deadline_a_late_first_run_escalates_without_reminding(
    session: Session, union: Union
) -> None:
    submit(session, union.proposer, date(2026, 11, 18))  # due Monday 23 November
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 26)), policy=POLICY) == 1
    assert who(session, deadline_rows(session)) == [(OVERDUE_TOPIC, "王主席")]


def test_running_twice_queues_nothing_new(session: Session, union: Union) -> None:
    submit(session, union.proposer, date(2026, 11, 18))
    friday = morning(date(2026, 11, 20))
    assert enqueue_deadline_pushes(session, now=friday, policy=POLICY) == 2
    assert enqueue_deadline_pushes(session, now=friday + timedelta(hours=3), policy=POLICY) == 0
    tuesday = morning(date(2026, 11, 24))
    assert enqueue_deadline_pushes(session, now=tuesday, policy=POLICY) == 1
    assert enqueue_deadline_pushes(session, now=tuesday, policy=POLICY) == 0
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 25)), policy=POLICY) == 0
    assert len(deadline_rows(session)) == 3


def test_the_next_stage_has_its_own_reminders_for_the_named_reviewer(session: Session, union: Union) -> None:
    suggestion = submit(session, union.proposer, date(2026, 11, 18))
    assert suggestion.id is not None
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 20)), policy=POLICY) == 2
    # Registered on Monday with 赵委员 named to handle it: fifteen working days to decide.
    registered = register_suggestion(
        session,
        actor=union.committee,
        suggestion_id=suggestion.id,
        expected_version=suggestion.version,
        category="节能降耗",
        department="设备科",
        reviewer_id=union.deputy.id,
        policy=POLICY,
        now=morning(date(2026, 11, 23)),
    )
    assert registered.due_on == date(2026, 12, 14)
    first_review(
        session,
        actor=union.deputy,
        suggestion_id=suggestion.id,
        expected_version=registered.version,
        opinion="可行，建议评审",
        now=morning(date(2026, 11, 24)),
    )
    before = len(deadline_rows(session))
    queued = run_days(session, date(2026, 11, 23), date(2026, 12, 16))
    assert queued == {
        # The named reviewer alone; the registration's reminders are not repeated, nothing escalates.
        date(2026, 12, 11): [(DUE_TOPIC, "赵委员")],
        date(2026, 12, 15): [(OVERDUE_TOPIC, "王主席")],
    }
    rows = deadline_rows(session)[before:]
    assert rows[0].key == f"suggestion-due:{suggestion.id}:decide:2026-12-14:{union.deputy.id}"


def _registered(session: Session, union: Union, reviewer: Member) -> Suggestion:
    suggestion = submit(session, union.proposer, date(2026, 11, 18))
    assert suggestion.id is not None
    return register_suggestion(
        session,
        actor=union.chair,
        suggestion_id=suggestion.id,
        expected_version=suggestion.version,
        category="节能降耗",
        department="设备科",
        reviewer_id=reviewer.id,
        policy=POLICY,
        now=morning(date(2026, 11, 23)),
    )


def test_a_named_reviewer_who_left_is_replaced_by_the_nearest_reviewers(
    session: Session, union: Union
) -> None:
    suggestion = _registered(session, union, union.deputy)
    union.deputy.status = MemberStatus.TRANSFERRED
    session.add(union.deputy)
    session.flush()
    duty = responsible_for(session, suggestion)
    assert duty.cadre_ids == {union.committee.id}
    assert duty.above_ids == {union.chair.id}
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 12, 11)), policy=POLICY) == 1
    assert who(session, deadline_rows(session)) == [(DUE_TOPIC, "李委员")]


def test_a_named_reviewer_moved_out_of_scope_is_replaced_too(session: Session, union: Union) -> None:
    suggestion = _registered(session, union, union.deputy)
    revoke_role(session, member=union.deputy, role=Role.COMMITTEE, unit=find_unit(session, "厂工会/一车间"))
    grant_role(session, member=union.deputy, role=Role.COMMITTEE, unit=find_unit(session, "厂工会/二车间"))
    assert responsible_for(session, suggestion).cadre_ids == {union.committee.id}


def test_the_top_of_the_union_has_nobody_above(
    session: Session, union: Union, caplog: pytest.LogCaptureFixture
) -> None:
    # The chair named themselves: when they are late, there is nobody to escalate to; only the log says so.
    suggestion = _registered(session, union, union.chair)
    duty = responsible_for(session, suggestion)
    assert duty.cadre_ids == {union.chair.id}
    assert duty.above_unit_id is None
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 12, 11)), policy=POLICY) == 1
    with caplog.at_level(logging.INFO, logger="models.suggestions.deadlines"):
        assert enqueue_deadline_pushes(session, now=morning(date(2026, 12, 15)), policy=POLICY) == 0
    assert who(session, deadline_rows(session)) == [(DUE_TOPIC, "王主席")]
    [said] = [record.getMessage() for record in caplog.records]
    assert said.startswith("1 overdue suggestions are with the union's top cadres: nobody above")
    assert said.endswith(f"(ids {suggestion.id})")


def test_a_unit_nobody_reviews_gets_no_pushes_and_a_warning(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    member = make_member(session, employee_no="1001", unit="另一个工会/班组")
    make_member(session, employee_no="C9", name="组长", roles=[(Role.GROUP_LEADER, "另一个工会")])
    suggestion = submit(session, member, date(2026, 11, 18))
    with caplog.at_level(logging.WARNING, logger="models.suggestions.deadlines"):
        assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 20)), policy=POLICY) == 0
        assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 24)), policy=POLICY) == 0
    assert deadline_rows(session) == []
    assert f"nobody reviewing their unit, so no reminder (ids {suggestion.id})" in caplog.text


def test_a_unit_without_reviewers_is_skipped_on_the_way_up(session: Session, union: Union) -> None:
    # Nobody reviews 二车间/乙班 or its 三组: 二车间 is the nearest, and 厂工会 above it.
    member = make_member(session, employee_no="2001", unit="厂工会/二车间/乙班/三组")
    suggestion = submit(session, member, date(2026, 11, 18))
    duty = responsible_for(session, suggestion)
    assert duty.cadre_ids == {union.other.id}
    assert duty.above_ids == {union.chair.id}
    assert duty.above_unit_id == find_unit(session, "厂工会").id


def test_a_suggestion_of_the_union_itself_reminds_the_chair_and_escalates_nowhere(
    session: Session, union: Union
) -> None:
    member = make_member(session, employee_no="0001", unit="厂工会")
    suggestion = submit(session, member, date(2026, 11, 18))
    duty = responsible_for(session, suggestion)
    assert duty.cadre_ids == {union.chair.id}
    assert duty.above_ids == frozenset()


def test_closed_merged_and_decided_suggestions_are_left_alone(session: Session, union: Union) -> None:
    kept = submit(session, union.proposer, date(2026, 11, 18))
    merged = submit(session, union.proposer, date(2026, 11, 18), title="重复的建议")
    assert merged.id is not None
    merge_suggestion(
        session,
        actor=union.committee,
        suggestion_id=merged.id,
        expected_version=merged.version,
        into_number=kept.number or "",
        note="与前一条相同，已合并。",
        policy=POLICY,
        now=morning(date(2026, 11, 19)),
    )
    decided = _registered(session, union, union.committee)
    assert decided.id is not None
    reviewed = first_review(
        session,
        actor=union.committee,
        suggestion_id=decided.id,
        expected_version=decided.version,
        opinion="可行",
        now=morning(date(2026, 11, 24)),
    )
    decide_suggestion(
        session,
        actor=union.committee,
        suggestion_id=decided.id,
        expected_version=reviewed.version,
        adopted=False,
        reason="条件暂不具备",
        policy=POLICY,
        now=morning(date(2026, 11, 25)),
    )
    enqueue_deadline_pushes(session, now=morning(date(2026, 11, 20)), policy=POLICY)
    enqueue_deadline_pushes(session, now=morning(date(2027, 3, 1)), policy=POLICY)
    assert {row.subject_id for row in deadline_rows(session)} == {kept.id}


def test_one_query_for_the_suggestions_whatever_their_number(session: Session, union: Union) -> None:
    """The job reads the same few statements for 3 suggestions as for 30: no query per suggestion."""

    def statements(count: int, day: date) -> int:
        for _ in range(count):
            submit(session, union.proposer, day)
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(args[2])

        bind = session.get_bind()
        sa.event.listen(bind, "before_cursor_execute", record)
        try:
            added = enqueue_deadline_pushes(session, now=morning(day + timedelta(days=2)), policy=POLICY)
        finally:
            sa.event.remove(bind, "before_cursor_execute", record)
        assert added >= 2 * count
        return len(seen)

    few = statements(3, date(2026, 11, 16))  # due Thursday 19th, reminded Wednesday 18th
    many = statements(30, date(2026, 11, 30))  # due Thursday 3 December, reminded Wednesday 2nd
    assert few == many
    assert many <= 4


def test_a_backlog_long_overdue_is_not_poured_on_the_chair_above(session: Session, union: Union) -> None:
    """Switching the job on over months of backlog: only the recently overdue are escalated."""
    submit(session, union.proposer, date(2026, 8, 3))  # due 6 August, long ago
    submit(session, union.proposer, date(2026, 11, 16))  # due Thursday 19 November
    # Wednesday 25 November: four working days after the 19th, within the catch-up window.
    assert enqueue_deadline_pushes(session, now=morning(date(2026, 11, 25)), policy=POLICY) == 1
    assert who(session, deadline_rows(session)) == [(OVERDUE_TOPIC, "王主席")]
