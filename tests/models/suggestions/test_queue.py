"""The review queue's own queries: its counts and merge targets, both within the cadre's subtree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from models.errors import InvalidInput, NotFound, PermissionDenied
from models.members import Member
from models.roles import Role
from models.suggestions import (
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    SuggestionStatus,
    decide_suggestion,
    first_review,
    member_view,
    merge_target,
    my_suggestions,
    parse_suggestion_number,
    register_suggestion,
    submit_suggestion,
    support_suggestion,
    visible_by_number,
)
from models.suggestions.queries import queue_counts
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)  # registration was due 2026-11-13
TODAY = date(2026, 11, 23)
POLICY = SuggestionPolicy()


def submit(
    session: Session, member: Member, *, now: datetime = NOW, category: str = "节能降耗"
) -> Suggestion:
    draft = SuggestionDraft(category=category, title="余热回收", measure="把空压机余热接到浴室。")
    return submit_suggestion(session, actor=member, draft=draft, policy=POLICY, now=now)


def test_the_counts_are_of_open_suggestions_of_the_cadres_subtree_and_the_late_ones(session: Session) -> None:
    member = make_member(session, employee_no="1001")
    elsewhere = make_member(session, employee_no="2001", unit="厂工会/二车间")
    cadre = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
    submit(session, member, now=EARLIER)
    submit(session, member, now=EARLIER, category="安全生产")
    submit(session, member)
    submit(session, elsewhere, now=EARLIER)
    counts = queue_counts(session, actor=cadre, today=TODAY)
    assert counts.overdue == 2
    assert counts.waiting([SuggestionStatus.SUBMITTED]) == 3
    assert counts.waiting([SuggestionStatus.REGISTERED]) == 0
    # Due that day is not late yet.
    assert queue_counts(session, actor=cadre, today=date(2026, 11, 13)).overdue == 0
    with pytest.raises(PermissionDenied):
        queue_counts(session, actor=member, today=TODAY)


def test_a_merge_target_is_checked_as_the_merge_checks_it(session: Session) -> None:
    member = make_member(session, employee_no="1001")
    elsewhere = make_member(session, employee_no="2001", unit="厂工会/二车间")
    cadre = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
    duplicate, kept, foreign, rejected = (
        submit(session, member),
        submit(session, member),
        submit(session, elsewhere),
        submit(session, member),
    )
    assert duplicate.id is not None
    assert rejected.id is not None
    version = register_suggestion(
        session,
        actor=cadre,
        suggestion_id=rejected.id,
        expected_version=rejected.version,
        category="节能降耗",
        department="设备科",
        reviewer_id=None,
        policy=POLICY,
        now=NOW,
    ).version
    version = first_review(
        session, actor=cadre, suggestion_id=rejected.id, expected_version=version, opinion="看过", now=NOW
    ).version
    decide_suggestion(
        session,
        actor=cadre,
        suggestion_id=rejected.id,
        expected_version=version,
        adopted=False,
        reason="已有同类改造计划",
        policy=POLICY,
        now=NOW,
    )

    assert kept.number is not None

    def target(number: str) -> Suggestion:
        assert duplicate.id is not None
        return merge_target(session, actor=cadre, suggestion_id=duplicate.id, number=number, year=2026)

    assert kept.number is not None
    assert target(f" {kept.number.lower()} ").id == kept.id
    # Within the year a number may be typed the short way.
    for short in (str(kept.id), f"{kept.id:06d}", f"2026-{kept.id}", f"JY{kept.id}", f"ｊｙ－{kept.id}"):
        assert target(short).id == kept.id, short
    with pytest.raises(NotFound) as missing:
        target("JY-2026-999999")
    assert missing.value.params["number"] == "JY-2026-999999"
    with pytest.raises(NotFound) as other_year:
        target(f"2025-{kept.id}")
    assert other_year.value.params["number"] == f"JY-2025-{kept.id:06d}"
    with pytest.raises(InvalidInput, match="number_unreadable"):
        target("上一条")
    with pytest.raises(PermissionDenied):
        target(str(foreign.number))
    with pytest.raises(InvalidInput, match="merge_self"):
        target(str(duplicate.number))
    with pytest.raises(InvalidInput, match="merge_closed"):
        target(str(rejected.number))


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("5", "JY-2026-000005"),
        ("000005", "JY-2026-000005"),
        ("2026-5", "JY-2026-000005"),
        ("JY5", "JY-2026-000005"),
        ("jy-5", "JY-2026-000005"),
        ("5号", "JY-2026-000005"),
        (" JY-2026-000005 ", "JY-2026-000005"),
        ("jy2026000005", "JY-2026-000005"),
        ("ＪＹ－２０２６－０００００５", "JY-2026-000005"),
        ("JY 2026 5", "JY-2026-000005"),
        ("2025-12", "JY-2025-000012"),
        ("JY-2026-1234567", "JY-2026-1234567"),
        ("0", None),
        ("JY", None),
        ("上一条", None),
        ("5 6", None),
        ("JY-2026-000005; DROP TABLE", None),
    ],
)
def test_a_number_is_read_the_short_way_within_the_current_year(typed: str, number: str | None) -> None:
    assert parse_suggestion_number(typed, year=2026) == number


def test_my_list_holds_my_own_then_what_i_backed_page_by_page(session: Session) -> None:
    me = make_member(session, employee_no="1001")
    others = [make_member(session, employee_no=f"20{n:02d}", unit="厂工会/二车间") for n in range(5)]
    mine = [submit(session, me, now=NOW + timedelta(minutes=n)) for n in range(3)]
    theirs = [submit(session, other) for other in others]
    for n, suggestion in enumerate(theirs[:4]):
        support_suggestion(session, actor=me, suggestion_id=suggestion.id or 0, now=NOW + timedelta(hours=n))
    first = my_suggestions(session, member=me, offset=0, limit=5)
    second = my_suggestions(session, member=me, offset=5, limit=5)
    assert (first.own, first.backed, first.total) == (3, 4, 7)
    assert [(e.suggestion.id, e.own) for e in first.entries] == [
        *((s.id, True) for s in reversed(mine)),
        (theirs[3].id, False),
        (theirs[2].id, False),
    ]
    assert [e.suggestion.id for e in second.entries] == [theirs[1].id, theirs[0].id]
    assert my_suggestions(session, member=me, limit=0).entries == []

    view = member_view(session, member=me, suggestion_id=theirs[0].id or 0)
    assert (view.own, view.supporters, view.backed_at) == (False, 1, NOW)
    assert view.proposer is not None
    assert member_view(session, member=me, suggestion_id=mine[0].id or 0).own
    with pytest.raises(NotFound):
        member_view(session, member=me, suggestion_id=theirs[4].id or 0)  # neither written nor backed
    assert visible_by_number(session, member=me, number=str(theirs[0].number)) == theirs[0].id
    assert visible_by_number(session, member=me, number=str(theirs[4].number)) is None
