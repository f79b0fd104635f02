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
    parse_suggestion_number,
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
