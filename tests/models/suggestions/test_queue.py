"""The review queue's own queries: its counts and merge targets, both within the cadre's subtree."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
    merge_target,
    register_suggestion,
    submit_suggestion,
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
    found = merge_target(session, actor=cadre, suggestion_id=duplicate.id, number=f" {kept.number.lower()} ")
    assert found.id == kept.id
    with pytest.raises(NotFound):
        merge_target(session, actor=cadre, suggestion_id=duplicate.id, number="JY-2026-999999")
    with pytest.raises(PermissionDenied):
        merge_target(session, actor=cadre, suggestion_id=duplicate.id, number=str(foreign.number))
    with pytest.raises(InvalidInput, match="merge_self"):
        merge_target(session, actor=cadre, suggestion_id=duplicate.id, number=str(duplicate.number))
    with pytest.raises(InvalidInput, match="merge_closed"):
        merge_target(session, actor=cadre, suggestion_id=duplicate.id, number=str(rejected.number))
