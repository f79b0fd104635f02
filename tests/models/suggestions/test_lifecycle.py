"""Suggestions: from idea to answer, "五有", anonymity, scope, and two cadres acting at once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select

from models.db import SessionFactory
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.members import Member
from models.outbox import Outbox, PushKind
from models.roles import Role
from models.suggestions import (
    MEASURE_MAX,
    TITLE_MAX,
    Award,
    Conflict,
    EventKind,
    Feasibility,
    PhotoRef,
    Stage,
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    SuggestionStatus,
    SupportOutcome,
    award_suggestion,
    cadre_view,
    close_suggestion,
    decide_suggestion,
    expected_dates,
    first_review,
    history,
    merge_suggestion,
    panel_review,
    record_effect,
    register_suggestion,
    reply_to_proposer,
    reveal_name,
    review_queue,
    start_implementation,
    submit_suggestion,
    suggestions_of,
    support_suggestion,
    supporter_count,
)
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, make_member, wait_for_a_lock_wait

# Monday 23 November 2026, 09:00 in Shanghai.
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
POLICY = SuggestionPolicy()


def draft(**changes: object) -> SuggestionDraft:
    fields: dict[str, object] = {
        "category": "节能降耗",
        "title": "空压机余热回收<b>用于</b>浴室🌟",
        "measure": HOSTILE_BODY,
        "benefit": "每年节约蒸汽费用",
        "benefit_fen": 12_000_000,
        "photos": (PhotoRef("data/media/telegram/a.jpg", "image/jpeg"),),
    }
    fields.update(changes)
    return SuggestionDraft(**fields)  # type: ignore[arg-type]


def people(session: Session) -> tuple[Member, Member]:
    member = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班")
    cadre = make_member(session, employee_no="C1", name="李主席", roles=[(Role.CHAIR, "厂工会/一车间")])
    return member, cadre


def submit(session: Session, member: Member, **changes: object) -> Suggestion:
    return submit_suggestion(session, actor=member, draft=draft(**changes), policy=POLICY, now=NOW)


def pushes(session: Session, member: Member) -> list[Outbox]:
    return list(session.exec(select(Outbox).where(Outbox.member_id == member.id).order_by(col(Outbox.id))))


def test_a_submitted_suggestion_gets_a_number_and_a_deadline_in_working_days(session: Session) -> None:
    member, _ = people(session)
    suggestion = submit(session, member)
    assert suggestion.number == f"JY-2026-{suggestion.id:06d}"
    assert suggestion.status is SuggestionStatus.SUBMITTED
    # Three working days after Monday 23 November.
    assert suggestion.due_on == date(2026, 11, 26)
    dates = expected_dates(suggestion, POLICY)
    assert dates[Stage.REGISTER] == date(2026, 11, 26)
    assert dates[Stage.DECIDE] == date(2026, 12, 17)
    assert [event.kind for event in history(session, suggestion.id or 0)] == [EventKind.SUBMITTED]
    # The member is not pushed about what they just did themselves.
    assert pushes(session, member) == []


def test_the_register_deadline_skips_the_national_day_holidays(session: Session) -> None:
    member, _ = people(session)
    # Wednesday 30 September 2026 (Beijing): 1–7 October are holidays, Saturday 10 October is worked.
    suggestion = submit_suggestion(
        session, actor=member, draft=draft(), policy=POLICY, now=datetime(2026, 9, 30, 2, tzinfo=UTC)
    )
    assert suggestion.due_on == date(2026, 10, 10)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": "字" * (TITLE_MAX + 1)}, "suggestion.title_too_long"),
        ({"title": "  "}, "suggestion.title_empty"),
        ({"measure": "措" * (MEASURE_MAX + 1)}, "suggestion.measure_too_long"),
        ({"category": "不存在的类别"}, "suggestion.category"),
        ({"benefit_fen": -1}, "suggestion.amount"),
        ({"photos": tuple(PhotoRef(f"p{i}.jpg") for i in range(4))}, "suggestion.photos"),
    ],
)
def test_bad_drafts_are_refused_and_nothing_is_written(
    session: Session, changes: dict[str, object], code: str
) -> None:
    member, _ = people(session)
    with pytest.raises(InvalidInput) as refused:
        submit(session, member, **changes)
    assert refused.value.code == code
    assert session.exec(select(Suggestion)).all() == []


def test_over_long_title_names_the_limit(session: Session) -> None:
    member, _ = people(session)
    with pytest.raises(InvalidInput) as refused:
        submit(session, member, title="字" * 45)
    assert refused.value.params == {"limit": TITLE_MAX, "count": 45}


def walk_to_decision(session: Session, cadre: Member, suggestion: Suggestion) -> Suggestion:
    assert suggestion.id is not None
    suggestion = register_suggestion(
        session,
        actor=cadre,
        suggestion_id=suggestion.id,
        expected_version=suggestion.version,
        category="节能降耗",
        department="动力车间",
        reviewer_id=None,
        policy=POLICY,
        now=NOW,
    )
    suggestion = first_review(
        session,
        actor=cadre,
        suggestion_id=suggestion.id or 0,
        expected_version=suggestion.version,
        opinion="思路可行，建议提交评审",
        now=NOW,
    )
    return panel_review(
        session,
        actor=cadre,
        suggestion_id=suggestion.id or 0,
        expected_version=suggestion.version,
        feasibility=Feasibility.FEASIBLE,
        cost_fen=5_000_000,
        benefit_fen=12_000_000,
        opinion="投入少、见效快",
        now=NOW,
    )


def test_the_whole_path_tells_the_proposer_at_every_step(session: Session) -> None:
    member, cadre = people(session)
    suggestion = walk_to_decision(session, cadre, submit(session, member))
    sid = suggestion.id or 0
    assert suggestion.status is SuggestionStatus.PANEL_REVIEWED
    assert suggestion.reviewer_id == cadre.id
    suggestion = decide_suggestion(
        session,
        actor=cadre,
        suggestion_id=sid,
        expected_version=suggestion.version,
        adopted=True,
        reason="节能效果明显",
        policy=POLICY,
        now=NOW,
    )
    assert suggestion.status is SuggestionStatus.ADOPTED
    assert suggestion.due_on is not None  # the implementation clock
    suggestion = start_implementation(
        session,
        actor=cadre,
        suggestion_id=sid,
        expected_version=suggestion.version,
        started_on=date(2026, 11, 23),
        notes="已安排检修班改造管路",
        policy=POLICY,
        now=NOW,
    )
    assert suggestion.due_on is None
    suggestion = record_effect(
        session,
        actor=cadre,
        suggestion_id=sid,
        expected_version=suggestion.version,
        value_fen=8_600_000,
        implemented_on=date(2026, 11, 23),
        notes="浴室热水全部改由余热供应",
        policy=POLICY,
        now=NOW,
    )
    suggestion = award_suggestion(
        session,
        actor=cadre,
        suggestion_id=sid,
        expected_version=suggestion.version,
        award=Award.GOLD,
        prize_fen=50_000,
        policy=POLICY,
        now=NOW,
    )
    suggestion = reply_to_proposer(
        session,
        actor=cadre,
        suggestion_id=sid,
        expected_version=suggestion.version,
        text="感谢您的金点子！",
        now=NOW,
    )
    suggestion = close_suggestion(
        session, actor=cadre, suggestion_id=sid, expected_version=suggestion.version, now=NOW
    )
    assert suggestion.status is SuggestionStatus.CLOSED
    assert suggestion.value_fen == 8_600_000
    assert suggestion.award is Award.GOLD
    told = pushes(session, member)
    assert [row.kind for row in told] == [PushKind.STATUS] * 9
    kinds = [event.kind for event in history(session, sid)]
    assert kinds == [
        EventKind.SUBMITTED,
        EventKind.REGISTERED,
        EventKind.FIRST_REVIEW,
        EventKind.PANEL_REVIEW,
        EventKind.ADOPTED,
        EventKind.IMPLEMENTATION_STARTED,
        EventKind.EFFECT_RECORDED,
        EventKind.AWARDED,
        EventKind.REPLIED,
        EventKind.CLOSED,
    ]


def test_a_decision_needs_a_reason_and_nothing_closes_without_a_reply(session: Session) -> None:
    member, cadre = people(session)
    suggestion = walk_to_decision(session, cadre, submit(session, member))
    sid = suggestion.id or 0
    with pytest.raises(InvalidInput) as refused:
        decide_suggestion(
            session,
            actor=cadre,
            suggestion_id=sid,
            expected_version=suggestion.version,
            adopted=False,
            reason="   ",
            policy=POLICY,
            now=NOW,
        )
    assert refused.value.code == "suggestion.reason_empty"
    session.refresh(suggestion)
    suggestion = decide_suggestion(
        session,
        actor=cadre,
        suggestion_id=sid,
        expected_version=suggestion.version,
        adopted=False,
        reason="现有设备不具备改造条件",
        policy=POLICY,
        now=NOW,
    )
    with pytest.raises(InvalidInput) as refused:
        close_suggestion(
            session, actor=cadre, suggestion_id=sid, expected_version=suggestion.version, now=NOW
        )
    assert refused.value.code == "suggestion.no_reply"
    session.refresh(suggestion)
    suggestion = reply_to_proposer(
        session,
        actor=cadre,
        suggestion_id=sid,
        expected_version=suggestion.version,
        text="谢谢，明年再议",
        now=NOW,
    )
    assert suggestion.answered_at == NOW
    closed = close_suggestion(
        session, actor=cadre, suggestion_id=sid, expected_version=suggestion.version, now=NOW
    )
    assert closed.status is SuggestionStatus.CLOSED
    with pytest.raises(InvalidInput) as refused:
        award_suggestion(
            session,
            actor=cadre,
            suggestion_id=sid,
            expected_version=closed.version,
            award=Award.ENCOURAGEMENT,
            prize_fen=0,
            policy=POLICY,
            now=NOW,
        )
    assert refused.value.code == "suggestion.award_not_adopted"


def test_a_decision_before_the_first_review_is_refused(session: Session) -> None:
    member, cadre = people(session)
    suggestion = submit(session, member)
    with pytest.raises(InvalidInput) as refused:
        decide_suggestion(
            session,
            actor=cadre,
            suggestion_id=suggestion.id or 0,
            expected_version=suggestion.version,
            adopted=True,
            reason="好",
            policy=POLICY,
            now=NOW,
        )
    assert refused.value.code == "suggestion.wrong_stage"


def test_an_anonymous_proposer_stays_hidden_from_cadres_but_hears_the_answer(session: Session) -> None:
    member, cadre = people(session)
    suggestion = submit(session, member, anonymous=True)
    view = cadre_view(session, actor=cadre, suggestion_id=suggestion.id or 0, policy=POLICY)
    assert view.proposer is None
    assert all(event.actor_id is None for event in view.events)
    replied = reply_to_proposer(
        session,
        actor=cadre,
        suggestion_id=suggestion.id or 0,
        expected_version=suggestion.version,
        text="已收到，正在登记",
        now=NOW,
    )
    assert [row.member_id for row in pushes(session, member)] == [member.id]
    reveal_name(session, actor=member, suggestion_id=replied.id or 0, now=NOW)
    assert (
        cadre_view(session, actor=cadre, suggestion_id=suggestion.id or 0, policy=POLICY).proposer == member
    )


def test_cadres_act_only_within_their_subtree_and_members_not_at_all(session: Session) -> None:
    member, _ = people(session)
    other_cadre = make_member(session, employee_no="C2", roles=[(Role.CHAIR, "厂工会/二车间")])
    suggestion = submit(session, member)
    with pytest.raises(PermissionDenied):
        cadre_view(session, actor=other_cadre, suggestion_id=suggestion.id or 0, policy=POLICY)
    with pytest.raises(PermissionDenied):
        reply_to_proposer(
            session,
            actor=other_cadre,
            suggestion_id=suggestion.id or 0,
            expected_version=suggestion.version,
            text="越权",
            now=NOW,
        )
    colleague = make_member(session, employee_no="1002", unit="厂工会/一车间/甲班")
    with pytest.raises(PermissionDenied):
        review_queue(session, actor=colleague, today=NOW.date())
    with pytest.raises(NotFound):
        reveal_name(session, actor=colleague, suggestion_id=suggestion.id or 0, now=NOW)


def test_the_second_of_two_cadres_acting_on_what_they_saw_is_refused(session: Session) -> None:
    member, cadre = people(session)
    deputy = make_member(session, employee_no="C3", roles=[(Role.COMMITTEE, "厂工会/一车间")])
    suggestion = submit(session, member)
    seen = suggestion.version
    reply_to_proposer(
        session, actor=cadre, suggestion_id=suggestion.id or 0, expected_version=seen, text="收到", now=NOW
    )
    with pytest.raises(Conflict) as refused:
        register_suggestion(
            session,
            actor=deputy,
            suggestion_id=suggestion.id or 0,
            expected_version=seen,
            category="其他",
            department="办公室",
            reviewer_id=None,
            policy=POLICY,
            now=NOW,
        )
    assert refused.value.code == "suggestion.conflict"


def test_two_cadres_deciding_at_the_same_moment_cannot_both_win(db: SessionFactory) -> None:
    """On PostgreSQL the second waits on the row, then finds the version moved and is refused."""
    with db() as session:
        member, cadre = people(session)
        make_member(session, employee_no="C3", roles=[(Role.COMMITTEE, "厂工会/一车间")])
        suggestion = walk_to_decision(session, cadre, submit(session, member))
        sid, seen = suggestion.id or 0, suggestion.version
    outcomes: list[str] = []
    done = threading.Event()

    def deputy_rejects() -> None:
        try:
            with db() as session:
                deputy = session.exec(select(Member).where(Member.employee_no == "C3")).one()
                decide_suggestion(
                    session,
                    actor=deputy,
                    suggestion_id=sid,
                    expected_version=seen,
                    adopted=False,
                    reason="不可行",
                    policy=POLICY,
                    now=NOW,
                )
                outcomes.append("deputy")
        except Conflict as error:
            outcomes.append(error.code)
        finally:
            done.set()

    thread = threading.Thread(target=deputy_rejects)
    with db() as session:
        chair = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        decide_suggestion(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=seen,
            adopted=True,
            reason="可行",
            policy=POLICY,
            now=NOW,
        )
        if db.engine.dialect.name == "postgresql":
            thread.start()
            wait_for_a_lock_wait(db, done)
    if not thread.is_alive() and not done.is_set():
        thread.start()
    thread.join(timeout=30)
    assert outcomes == ["suggestion.conflict"]
    with db() as session:
        decided = session.get(Suggestion, sid)
        assert decided is not None
        assert decided.status is SuggestionStatus.ADOPTED
        events = [event.kind for event in history(session, sid)]
        assert events.count(EventKind.ADOPTED) + events.count(EventKind.NOT_ADOPTED) == 1


def test_merging_carries_the_proposer_and_supporters_over(session: Session) -> None:
    member, cadre = people(session)
    first = submit(session, member, title="浴室热水改用余热")
    second_author = make_member(session, employee_no="1002", unit="厂工会/一车间/乙班")
    backer = make_member(session, employee_no="1003", unit="厂工会/二车间")
    duplicate = submit(session, second_author, title="空压机余热烧热水")
    assert support_suggestion(session, actor=backer, suggestion_id=duplicate.id or 0, now=NOW) is (
        SupportOutcome.SUPPORTED
    )
    assert support_suggestion(session, actor=backer, suggestion_id=duplicate.id or 0, now=NOW) is (
        SupportOutcome.ALREADY
    )
    merged = merge_suggestion(
        session,
        actor=cadre,
        suggestion_id=duplicate.id or 0,
        expected_version=duplicate.version,
        into_number=(first.number or "").lower(),
        note="与先提交的建议内容相同，已合并办理",
        policy=POLICY,
        now=NOW,
    )
    assert merged.status is SuggestionStatus.MERGED
    assert merged.reply
    assert merged.opinion
    assert supporter_count(session, first.id or 0) == 2
    told = pushes(session, second_author)
    assert len(told) == 1
    with pytest.raises(InvalidInput) as refused:
        support_suggestion(session, actor=backer, suggestion_id=merged.id or 0, now=NOW)
    assert refused.value.code == "suggestion.support_closed"
    with pytest.raises(InvalidInput) as refused:
        support_suggestion(session, actor=member, suggestion_id=first.id or 0, now=NOW)
    assert refused.value.code == "suggestion.support_own"


def test_the_queue_puts_overdue_suggestions_first(session: Session) -> None:
    member, cadre = people(session)
    early = submit_suggestion(
        session,
        actor=member,
        draft=draft(title="早"),
        policy=POLICY,
        now=datetime(2026, 11, 2, 1, tzinfo=UTC),
    )
    late = submit(session, member, title="新")
    total, rows = review_queue(session, actor=cadre, today=date(2026, 11, 23))
    assert total == 2
    assert [row.id for row in rows] == [early.id, late.id]
    total, rows = review_queue(session, actor=cadre, today=date(2026, 11, 23), category="安全生产")
    assert total == 0
    assert suggestions_of(session, member=member)[0] == 2


def test_hostile_text_is_kept_as_written(session: Session) -> None:
    member, _ = people(session)
    suggestion = submit(session, member, title=HOSTILE_TITLE[:TITLE_MAX])
    session.expire_all()
    stored = session.get(Suggestion, suggestion.id)
    assert stored is not None
    assert stored.title == HOSTILE_TITLE[:TITLE_MAX]


def test_prize_money_is_the_chairs_call_not_every_reviewers(session: Session) -> None:
    member, chair = people(session)
    committee = make_member(session, employee_no="C3", roles=[(Role.COMMITTEE, "厂工会/一车间")])
    suggestion = walk_to_decision(session, chair, submit(session, member))
    suggestion = decide_suggestion(
        session,
        actor=chair,
        suggestion_id=suggestion.id or 0,
        expected_version=suggestion.version,
        adopted=True,
        reason="可行",
        policy=POLICY,
        now=NOW,
    )
    with pytest.raises(PermissionDenied) as refused:
        award_suggestion(
            session,
            actor=committee,
            suggestion_id=suggestion.id or 0,
            expected_version=suggestion.version,
            award=Award.SILVER,
            prize_fen=10_000,
            policy=POLICY,
            now=NOW,
        )
    assert refused.value.code == "suggestion.award_not_allowed"


def test_a_refused_action_leaves_the_version_the_cadre_saw(session: Session) -> None:
    member, cadre = people(session)
    suggestion = submit(session, member)
    seen = suggestion.version
    with pytest.raises(InvalidInput):
        reply_to_proposer(
            session, actor=cadre, suggestion_id=suggestion.id or 0, expected_version=seen, text=" ", now=NOW
        )
    # The router rolls back, but even a caller that went on would find the version untouched.
    session.flush()
    session.expire_all()
    stored = session.get(Suggestion, suggestion.id)
    assert stored is not None
    assert stored.version == seen
