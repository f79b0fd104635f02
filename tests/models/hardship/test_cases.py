"""The rules of a hardship case: consent, who may read and act, the stages, versions, and disbursements."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from models.audit import AuditEntry
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.hardship import (
    CaseStatus,
    Conflict,
    Deadline,
    DecisionRecord,
    HardshipCase,
    HardshipPolicy,
    HelpKind,
    VisitRecord,
    allowed_actions,
    close_case,
    decide_case,
    keep_under_review,
    open_case,
    record_contact,
    record_disbursement,
    record_visit,
    submit_case,
)
from models.hardship.actions import Action
from models.outbox import Outbox
from tests.models.hardship.cast import NOW, STORY, Cast, apply, cast, draft

__all__ = ["cast"]

POLICY = HardshipPolicy()
VISIT = VisitRecord(
    visited_on=date(2026, 11, 24),
    visitors="王主席",
    family="三口之家，丈夫卧床。",
    mind="情绪稳定。",
    cause="丈夫车祸失去劳动能力。",
    needs="孩子学费和康复费用。",
)
DECISION = DecisionRecord(
    kinds=[HelpKind.RELIEF], amount_fen=200000, goods=None, fund="困难职工帮扶资金", reason="符合条件。"
)


def _audit(session: Session) -> list[tuple[str, bool]]:
    return [(e.action, e.allowed) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]


def test_without_consent_nothing_is_written(session: Session, cast: Cast) -> None:
    with pytest.raises(InvalidInput) as refused:
        submit_case(session, actor=cast.member, draft=draft(consented=False), policy=POLICY, now=NOW)
    assert refused.value.code == "hardship.no_consent"
    assert session.exec(select(HardshipCase)).first() is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"story": " "}, "hardship.story_empty"),
        ({"story": "难" * 2001}, "hardship.story_too_long"),
        ({"household_size": 0}, "hardship.household"),
        ({"income_fen": -1}, "hardship.amount"),
        ({"help_wanted": []}, "hardship.no_help"),
    ],
)
def test_an_application_that_does_not_hold_together_is_refused(
    session: Session, cast: Cast, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        apply(session, cast.member, **changes)
    assert refused.value.code == code


def test_an_application_starts_the_clocks_of_contact_and_visit(session: Session, cast: Cast) -> None:
    ordinary = apply(session, cast.member)
    urgent = apply(session, cast.member, urgent=True)
    assert (ordinary.contact_due_on, ordinary.visit_due_on) == (date(2026, 11, 26), date(2026, 11, 30))
    assert urgent.contact_due_on == date(2026, 11, 24)
    assert (urgent.deadline, urgent.due_on) == (Deadline.CONTACT, date(2026, 11, 24))


def test_only_cadres_over_the_unit_open_a_case_and_every_attempt_is_audited(
    session: Session, cast: Cast
) -> None:
    case = apply(session, cast.member)
    assert case.id is not None
    assert open_case(session, actor=cast.chair, case_id=case.id, channel="wechat").case.story == STORY
    seen_by_top = open_case(session, actor=cast.top, case_id=case.id, channel="telegram").member
    assert seen_by_top is not None
    assert seen_by_top.name == "李娜"
    for outsider in (cast.other, cast.member):
        with pytest.raises(PermissionDenied):
            open_case(session, actor=outsider, case_id=case.id, channel="telegram")
    with pytest.raises(NotFound):
        open_case(session, actor=cast.chair, case_id=case.id + 100, channel="telegram")
    assert _audit(session) == [
        ("hardship.case.open", True),
        ("hardship.case.open", True),
        ("hardship.case.open", False),
        ("hardship.case.open", False),
    ]


def test_the_stages_in_order_and_the_steps_each_allows(session: Session, cast: Cast) -> None:
    case = apply(session, cast.member)
    assert case.id is not None
    case_id = case.id
    assert allowed_actions(case) == (Action.CONTACT, Action.VISIT, Action.CLOSE)
    case = record_contact(
        session,
        actor=cast.chair,
        case_id=case_id,
        expected_version=1,
        note="电话联系。",
        policy=POLICY,
        now=NOW,
    )
    assert Action.CONTACT not in allowed_actions(case)
    assert (case.deadline, case.due_on) == (Deadline.VISIT, case.visit_due_on)
    later = NOW + timedelta(days=1)
    case = record_visit(
        session, actor=cast.chair, case_id=case_id, expected_version=2, visit=VISIT, policy=POLICY, now=later
    )
    assert case.status is CaseStatus.VISITED
    assert case.visited_on == date(2026, 11, 24)
    with pytest.raises(InvalidInput, match="wrong_stage"):
        keep_under_review(
            session,
            actor=cast.chair,
            case_id=case_id,
            expected_version=3,
            next_review_on=date(2027, 1, 1),
            policy=POLICY,
            now=later,
        )
    case = decide_case(
        session,
        actor=cast.chair,
        case_id=case_id,
        expected_version=3,
        decision=DECISION,
        policy=POLICY,
        now=later,
    )
    assert (case.status, case.deadline) == (CaseStatus.DECIDED, Deadline.HELP)
    assert case.member_id is not None
    for amount in (120000, 80000):
        record_disbursement(
            session,
            actor=cast.chair,
            member_id=case.member_id,
            case_id=case_id,
            campaign_id=None,
            given_on=date(2026, 11, 24),
            amount_fen=amount,
            goods=None,
            fund="困难职工帮扶资金",
            now=later,
        )
    session.refresh(case)
    assert (case.status, case.deadline, case.version) == (CaseStatus.HELPED, None, 6)
    case = keep_under_review(
        session,
        actor=cast.chair,
        case_id=case_id,
        expected_version=6,
        next_review_on=date(2027, 5, 24),
        policy=POLICY,
        now=later,
    )
    assert (case.status, case.deadline, case.due_on) == (
        CaseStatus.REVIEW,
        Deadline.REVIEW,
        date(2027, 5, 24),
    )
    case = close_case(
        session, actor=cast.chair, case_id=case_id, expected_version=7, note="困难已缓解。", now=later
    )
    assert case.status is CaseStatus.CLOSED
    assert allowed_actions(case) == ()
    updates = session.exec(select(Outbox.key).where(Outbox.topic == "hardship_update")).all()
    assert len(updates) == 6  # visited, decided, two disbursements, review, closed


def test_the_second_of_two_cadres_is_refused_and_nothing_of_theirs_is_written(
    session: Session, cast: Cast
) -> None:
    case = apply(session, cast.member)
    assert case.id is not None
    record_contact(
        session,
        actor=cast.chair,
        case_id=case.id,
        expected_version=1,
        note="先到的。",
        policy=POLICY,
        now=NOW,
    )
    with pytest.raises(Conflict):
        record_contact(
            session,
            actor=cast.top,
            case_id=case.id,
            expected_version=1,
            note="后到的。",
            policy=POLICY,
            now=NOW,
        )
    session.refresh(case)
    assert case.contact_note == "先到的。"


def test_a_decision_of_money_names_the_amount_or_the_goods(session: Session, cast: Cast) -> None:
    case = apply(session, cast.member)
    assert case.id is not None
    later = NOW + timedelta(days=1)
    record_visit(
        session, actor=cast.chair, case_id=case.id, expected_version=1, visit=VISIT, policy=POLICY, now=later
    )
    bare = DecisionRecord(
        kinds=[HelpKind.RELIEF], amount_fen=None, goods=None, fund="帮扶资金", reason="符合。"
    )
    with pytest.raises(InvalidInput, match="no_amount"):
        decide_case(
            session,
            actor=cast.chair,
            case_id=case.id,
            expected_version=2,
            decision=bare,
            policy=POLICY,
            now=NOW,
        )
    legal = DecisionRecord(
        kinds=[HelpKind.LEGAL], amount_fen=None, goods=None, fund="法律援助", reason="工伤纠纷。"
    )
    decided = decide_case(
        session, actor=cast.chair, case_id=case.id, expected_version=2, decision=legal, policy=POLICY, now=NOW
    )
    assert decided.status is CaseStatus.DECIDED


def test_a_visit_needs_the_four_clear_and_no_future_date(session: Session, cast: Cast) -> None:
    case = apply(session, cast.member)
    assert case.id is not None
    with pytest.raises(InvalidInput, match="mind_empty"):
        record_visit(
            session,
            actor=cast.chair,
            case_id=case.id,
            expected_version=1,
            visit=replace(VISIT, mind=""),
            policy=POLICY,
            now=NOW + timedelta(days=1),
        )
    with pytest.raises(InvalidInput, match="visit_future"):
        record_visit(
            session,
            actor=cast.chair,
            case_id=case.id,
            expected_version=1,
            visit=replace(VISIT, visited_on=date(2026, 12, 1)),
            policy=POLICY,
            now=NOW,
        )


def test_a_campaign_gift_without_a_case_checks_the_cadres_scope(session: Session, cast: Cast) -> None:
    assert cast.member.id is not None
    given = record_disbursement(
        session,
        actor=cast.chair,
        member_id=cast.member.id,
        case_id=None,
        campaign_id=7,
        given_on=date(2026, 11, 23),
        amount_fen=None,
        goods="米一袋、油一桶",
        fund="送温暖专项",
        now=NOW,
    )
    assert (given.campaign_id, given.case_id, given.handled_by_id) == (7, None, cast.chair.id)
    with pytest.raises(PermissionDenied):
        record_disbursement(
            session,
            actor=cast.other,
            member_id=cast.member.id,
            case_id=None,
            campaign_id=7,
            given_on=date(2026, 11, 23),
            amount_fen=50000,
            goods=None,
            fund="送温暖专项",
            now=NOW,
        )
    with pytest.raises(InvalidInput, match="no_amount"):
        record_disbursement(
            session,
            actor=cast.chair,
            member_id=cast.member.id,
            case_id=None,
            campaign_id=7,
            given_on=date(2026, 11, 23),
            amount_fen=None,
            goods=" ",
            fund="送温暖专项",
            now=NOW,
        )
    assert _audit(session) == [("hardship.disburse", False)]


def test_help_before_a_decision_is_refused(session: Session, cast: Cast) -> None:
    case = apply(session, cast.member)
    assert case.id is not None
    assert cast.member.id is not None
    with pytest.raises(InvalidInput, match="wrong_stage"):
        record_disbursement(
            session,
            actor=cast.chair,
            member_id=cast.member.id,
            case_id=case.id,
            campaign_id=None,
            given_on=date(2026, 11, 23),
            amount_fen=100,
            goods=None,
            fund="帮扶资金",
            now=NOW,
        )


def test_filing_for_a_member_outside_the_cadres_units_is_refused_and_audited(
    session: Session, cast: Cast
) -> None:
    with pytest.raises(PermissionDenied):
        submit_case(
            session, actor=cast.other, draft=draft(), policy=POLICY, now=NOW, on_behalf_of=cast.member
        )
    assert _audit(session) == [("hardship.case.file", False)]
    case = submit_case(
        session, actor=cast.chair, draft=draft(), policy=POLICY, now=NOW, on_behalf_of=cast.member
    )
    assert (case.member_id, case.filed_by_id) == (cast.member.id, cast.chair.id)
    told = session.exec(select(Outbox).where(Outbox.member_id == cast.member.id)).all()
    assert [row.params for row in told] == [{"event": "filed"}]
    assert session.exec(select(Outbox).where(Outbox.member_id == cast.chair.id)).all() == [], (
        "the filer knows"
    )
