"""What a cadre is offered on a suggestion is exactly what the steps then accept, at every stage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from models.errors import DomainError, InvalidInput
from models.members import Member
from models.roles import Role
from models.suggestions import (
    Action,
    Award,
    Feasibility,
    Suggestion,
    SuggestionStatus,
    allowed_actions,
    award_suggestion,
    close_blockers,
    close_suggestion,
    decide_suggestion,
    first_review,
    merge_suggestion,
    panel_review,
    record_effect,
    register_suggestion,
    reply_to_proposer,
    start_implementation,
)
from tests.factories import make_member
from tests.models.suggestions.test_lifecycle import NOW, POLICY, people, submit, walk_to_decision

TODAY = POLICY.today(NOW)
BLOCKED = {"suggestion.no_opinion", "suggestion.no_reply"}


def take(session: Session, actor: Member, suggestion: Suggestion, action: Action, into: str) -> Suggestion:
    """The model's step for ``action``, with answers that fit; ``into`` is the number to merge into."""
    assert suggestion.id is not None
    seen: dict[str, Any] = {
        "actor": actor,
        "suggestion_id": suggestion.id,
        "expected_version": suggestion.version,
        "now": NOW,
    }
    steps: dict[Action, Callable[[], Suggestion]] = {
        Action.REGISTER: lambda: register_suggestion(
            session, **seen, category="其他", department="办公室", reviewer_id=None, policy=POLICY
        ),
        Action.FIRST_REVIEW: lambda: first_review(session, **seen, opinion="可行"),
        Action.PANEL_REVIEW: lambda: panel_review(
            session, **seen, feasibility=Feasibility.FEASIBLE, cost_fen=None, benefit_fen=None, opinion="可行"
        ),
        Action.DECIDE: lambda: decide_suggestion(session, **seen, adopted=True, reason="可行", policy=POLICY),
        Action.START: lambda: start_implementation(
            session, **seen, started_on=TODAY, notes="已开工", policy=POLICY
        ),
        Action.EFFECT: lambda: record_effect(
            session, **seen, value_fen=100, implemented_on=TODAY, notes="已完成", policy=POLICY
        ),
        Action.AWARD: lambda: award_suggestion(
            session, **seen, award=Award.SILVER, prize_fen=100, policy=POLICY
        ),
        Action.MERGE: lambda: merge_suggestion(
            session, **seen, into_number=into, note="同一件事", policy=POLICY
        ),
        Action.REPLY: lambda: reply_to_proposer(session, **seen, text="收到"),
        Action.CLOSE: lambda: close_suggestion(session, **seen),
    }
    return steps[action]()


def accepted(session: Session, actor: Member, suggestion: Suggestion, into: str) -> set[Action]:
    """The steps the model takes now (or refuses only for what "五有" misses), each tried and undone."""
    found: set[Action] = set()
    for action in Action:
        savepoint = session.begin_nested()
        try:
            take(session, actor, suggestion, action, into)
        except DomainError as refused:
            if action is Action.CLOSE and refused.code in BLOCKED:
                found.add(action)
        else:
            found.add(action)
        finally:
            savepoint.rollback()
    session.refresh(suggestion)
    return found


def check(
    session: Session,
    actors: dict[str, Member],
    suggestion: Suggestion,
    into: str,
    expected: dict[str, list[Action]],
) -> None:
    """Each actor is offered ``expected``, and that is exactly what the model's steps accept."""
    for who, actor in actors.items():
        offered = allowed_actions(session, actor, suggestion, POLICY)
        assert offered == expected[who], (who, suggestion.status)
        assert set(offered) == accepted(session, actor, suggestion, into), (who, suggestion.status)


def test_every_stage_offers_exactly_the_steps_the_model_accepts_and_awards_only_to_the_chair(
    session: Session,
) -> None:
    member, chair = people(session)
    committee = make_member(session, employee_no="C3", roles=[(Role.COMMITTEE, "厂工会/一车间")])
    actors = {"chair": chair, "committee": committee}
    into = submit(session, member, title="浴室热水改用余热").number or ""
    suggestion = submit(session, member)

    def step(action: Action) -> Suggestion:
        return take(session, chair, suggestion, action, into)

    both = {"chair": [Action.REGISTER, Action.MERGE, Action.REPLY]}
    check(session, actors, suggestion, into, both | {"committee": both["chair"]})
    suggestion = step(Action.REGISTER)
    both = {"chair": [Action.FIRST_REVIEW, Action.MERGE, Action.REPLY]}
    check(session, actors, suggestion, into, both | {"committee": both["chair"]})
    suggestion = step(Action.FIRST_REVIEW)
    both = {"chair": [Action.PANEL_REVIEW, Action.DECIDE, Action.MERGE, Action.REPLY]}
    check(session, actors, suggestion, into, both | {"committee": both["chair"]})
    suggestion = step(Action.PANEL_REVIEW)
    both = {"chair": [Action.DECIDE, Action.MERGE, Action.REPLY]}
    check(session, actors, suggestion, into, both | {"committee": both["chair"]})
    suggestion = step(Action.DECIDE)
    expected = {
        "chair": [Action.START, Action.AWARD, Action.REPLY],
        "committee": [Action.START, Action.REPLY],
    }
    check(session, actors, suggestion, into, expected)
    suggestion = step(Action.START)
    expected = {
        "chair": [Action.EFFECT, Action.AWARD, Action.REPLY],
        "committee": [Action.EFFECT, Action.REPLY],
    }
    check(session, actors, suggestion, into, expected)
    suggestion = step(Action.EFFECT)
    # 办结 is offered before the reply: choosing it says what is missing.
    expected = {
        "chair": [Action.AWARD, Action.REPLY, Action.CLOSE],
        "committee": [Action.REPLY, Action.CLOSE],
    }
    check(session, actors, suggestion, into, expected)
    suggestion = step(Action.AWARD)
    both = {"chair": [Action.REPLY, Action.CLOSE]}
    check(session, actors, suggestion, into, both | {"committee": both["chair"]})
    suggestion = step(Action.REPLY)
    suggestion = step(Action.CLOSE)
    assert suggestion.status is SuggestionStatus.CLOSED
    both = {"chair": [Action.REPLY]}
    check(session, actors, suggestion, into, both | {"committee": both["chair"]})


def test_a_rejected_suggestion_is_only_answered_and_closed_and_a_merged_one_offers_nothing(
    session: Session,
) -> None:
    member, chair = people(session)
    actors = {"chair": chair}
    into = submit(session, member, title="浴室热水改用余热").number or ""
    rejected = walk_to_decision(session, chair, submit(session, member))
    rejected = decide_suggestion(
        session,
        actor=chair,
        suggestion_id=rejected.id or 0,
        expected_version=rejected.version,
        adopted=False,
        reason="投入太大",
        policy=POLICY,
        now=NOW,
    )
    check(session, actors, rejected, into, {"chair": [Action.REPLY, Action.CLOSE]})
    merged = take(session, chair, submit(session, member), Action.MERGE, into)
    assert merged.status is SuggestionStatus.MERGED
    check(session, actors, merged, into, {"chair": []})


def test_a_suggestion_closes_only_with_an_opinion_and_then_a_reply(session: Session) -> None:
    member, chair = people(session)
    suggestion = submit(session, member)
    assert [missing.code for missing in close_blockers(suggestion)] == [
        "suggestion.no_opinion",
        "suggestion.no_reply",
    ]
    suggestion = walk_to_decision(session, chair, suggestion)
    suggestion = decide_suggestion(
        session,
        actor=chair,
        suggestion_id=suggestion.id or 0,
        expected_version=suggestion.version,
        adopted=False,
        reason="投入太大",
        policy=POLICY,
        now=NOW,
    )
    assert [missing.code for missing in close_blockers(suggestion)] == ["suggestion.no_reply"]
    assert Action.CLOSE in allowed_actions(session, chair, suggestion, POLICY)
    with pytest.raises(InvalidInput) as refused:
        close_suggestion(
            session,
            actor=chair,
            suggestion_id=suggestion.id or 0,
            expected_version=suggestion.version,
            now=NOW,
        )
    assert refused.value.code == "suggestion.no_reply"
    suggestion = reply_to_proposer(
        session,
        actor=chair,
        suggestion_id=suggestion.id or 0,
        expected_version=suggestion.version,
        text="感谢建议，暂不采纳的原因已写明",
        now=NOW,
    )
    assert close_blockers(suggestion) == []
    closed = close_suggestion(
        session, actor=chair, suggestion_id=suggestion.id or 0, expected_version=suggestion.version, now=NOW
    )
    assert closed.status is SuggestionStatus.CLOSED
