"""The cadre's steps on a suggestion, from 登记 to 办结, and which of them the rules allow now.

Every step is versioned (:mod:`models.versioned`): it names the version the
cadre saw, checks the cadre's scope and every rule of its own, and only then
moves the version on and writes its history line, with the push to the
proposer, in the same transaction. A colleague's step in the meantime makes
it a :class:`Conflict` and leaves the suggestion as the colleague left it.

What a cadre is offered is asked here too (:func:`allowed_actions`,
:func:`close_blockers`), from the same rules the steps apply, so a handler
never offers a step that would be refused nor keeps rules of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, select

from models.errors import N_, DomainError, InvalidInput, Label, NotFound, PermissionDenied
from models.members import Member
from models.roles import Permission, has_permission
from models.suggestions.queries import get_suggestion, require_reviewer
from models.suggestions.tables import (
    AWARD_LABELS,
    DEPARTMENT_MAX,
    OPINION_MAX,
    REPLY_MAX,
    STATUS_LABELS,
    TRANSITIONS,
    Award,
    EventKind,
    Feasibility,
    Suggestion,
    SuggestionEvent,
    SuggestionPolicy,
    SuggestionStatus,
    SuggestionSupport,
    check_amount,
    check_text,
    check_transition,
    parse_suggestion_number,
    record_event,
    set_due,
    suggestion_number,
    transition,
    wrong_stage,
)
from models.units import Unit
from models.versioned import VersionLock


class Conflict(DomainError):
    """Someone else changed the suggestion since the actor opened it."""


class Action(StrEnum):
    """A step a cadre may take on a suggestion, in the order a suggestion goes through them."""

    REGISTER = "register"  # 登记分类
    FIRST_REVIEW = "first_review"  # 初评
    PANEL_REVIEW = "panel_review"  # 评审
    DECIDE = "decide"  # 采纳 or 不采纳
    START = "start"  # 开始实施
    EFFECT = "effect"  # 实施效果
    AWARD = "award"  # 评奖
    MERGE = "merge"  # 合并
    REPLY = "reply"  # 答复提出人
    CLOSE = "close"  # 办结


# The steps that move a suggestion on, and the status each leads to. 不采纳 is allowed exactly
# when 采纳 is, so the decision is named by one of its outcomes.
_MOVES: dict[Action, SuggestionStatus] = {
    Action.REGISTER: SuggestionStatus.REGISTERED,
    Action.FIRST_REVIEW: SuggestionStatus.FIRST_REVIEWED,
    Action.PANEL_REVIEW: SuggestionStatus.PANEL_REVIEWED,
    Action.DECIDE: SuggestionStatus.ADOPTED,
    Action.START: SuggestionStatus.IMPLEMENTING,
    Action.EFFECT: SuggestionStatus.IMPLEMENTED,
    Action.MERGE: SuggestionStatus.MERGED,
    Action.CLOSE: SuggestionStatus.CLOSED,
}


def _conflict(suggestion: Suggestion) -> Conflict:
    return Conflict(
        "suggestion.conflict",
        N_("这条建议刚刚被其他干部处理过（现在是“{status}”），请重新打开查看最新情况。"),
        status=Label(STATUS_LABELS[suggestion.status]),
    )


_LOCK: VersionLock[Suggestion] = VersionLock(Suggestion, _conflict)


# ----------------------------------------------------------------------------- what is allowed


def may_award(session: Session, actor: Member, suggestion: Suggestion) -> bool:
    """Whether ``actor`` may give this suggestion an award: prize money is the chair's call (季评比)."""
    unit = session.get(Unit, suggestion.unit_id)
    assert unit is not None
    return has_permission(session, actor, Permission.APPRAISE_SUGGESTIONS, unit)


def implemented(suggestion: Suggestion) -> bool:
    """Whether the suggestion is in place with its effect recorded: what an award should reward.

    One adopted but not yet implemented may still be awarded, after a warning, unless the union
    requires implementation first (:attr:`SuggestionPolicy.award_requires_implementation`).
    """
    return suggestion.implemented_on is not None


def award_refusal(
    session: Session, actor: Member, suggestion: Suggestion, policy: SuggestionPolicy
) -> DomainError | None:
    """Why ``actor`` may not give this suggestion an award now, or None: adopted, once, by the chair.

    And implemented, where the union requires it. What :func:`award_suggestion` refuses with, asked
    beforehand so a form (季度评比) can refuse the choice instead of the whole appraisal.
    """
    if not may_award(session, actor, suggestion):
        return PermissionDenied("suggestion.award_not_allowed", N_("抱歉，评奖和奖金由工会主席决定。"))
    if not suggestion.adopted or suggestion.status is SuggestionStatus.MERGED:
        return InvalidInput("suggestion.award_not_adopted", N_("只有被采纳的建议才能评奖。"))
    if suggestion.award is not None:
        return InvalidInput(
            "suggestion.already_awarded",
            N_("这条建议已经评为“{award}”了。"),
            award=Label(AWARD_LABELS[suggestion.award]),
        )
    if policy.award_requires_implementation and not implemented(suggestion):
        return InvalidInput(
            "suggestion.award_not_implemented",
            N_("这条建议还没有实施完成。按本会规定，实施完成、效果核定后才能评奖。"),
        )
    return None


def _reply_refusal(suggestion: Suggestion) -> InvalidInput | None:
    """Why the proposer may not be answered now, or None: a merged suggestion was answered by its note."""
    return wrong_stage(suggestion) if suggestion.status is SuggestionStatus.MERGED else None


def allowed_actions(
    session: Session, actor: Member, suggestion: Suggestion, policy: SuggestionPolicy
) -> list[Action]:
    """The steps the rules allow ``actor`` on the suggestion now, in order: never one that would be refused.

    办结 is allowed as soon as the stage allows it, even while "五有" still misses
    something: choosing it should say what is missing (:func:`close_blockers`).
    The actor's scope is not asked again: they opened the suggestion (:func:`cadre_view`).
    """
    following = TRANSITIONS[suggestion.status]
    allowed = []
    for action in Action:
        if action in _MOVES:
            refused = _MOVES[action] not in following
        elif action is Action.AWARD:
            refused = award_refusal(session, actor, suggestion, policy) is not None
        else:
            refused = _reply_refusal(suggestion) is not None
        if not refused:
            allowed.append(action)
    return allowed


def close_blockers(suggestion: Suggestion) -> list[InvalidInput]:
    """What "五有" still misses before the suggestion may close, most pressing first; empty when nothing.

    A handling opinion comes before the reply that passes it on, so a missing opinion is named first.
    """
    missing = []
    if not suggestion.opinion:
        missing.append(InvalidInput("suggestion.no_opinion", N_("还没有处理意见，不能办结。")))
    if not suggestion.reply:
        missing.append(
            InvalidInput("suggestion.no_reply", N_("还没有答复提出人，不能办结。请先选择“答复提出人”。"))
        )
    return missing


# ----------------------------------------------------------------------------- the versioned step


def _claim(session: Session, *, actor: Member, suggestion_id: int, expected_version: int) -> Suggestion:
    """The suggestion as it stands, checked against the actor's scope and the version they saw.

    Nothing is written here: the version is moved on by :func:`_record_step`, once
    every rule of the step has passed.

    Raises:
        NotFound: no such suggestion.
        PermissionDenied: it lies outside the actor's subtree.
        Conflict: someone changed it since the actor opened it.
    """
    return _LOCK.claim(
        session,
        get_suggestion(session, suggestion_id),
        expected_version,
        check=lambda current: require_reviewer(session, actor, current),
    )


def _record_step(
    session: Session,
    suggestion: Suggestion,
    *,
    expected_version: int,
    kind: EventKind,
    actor: Member,
    now: datetime,
    text: str | None = None,
    **params: Any,
) -> SuggestionEvent:
    """Every rule of the step passed: move the version on, last, then write the history line and push.

    Raises:
        Conflict: a colleague's step got in first; nothing of this one is written.
    """
    _LOCK.bump(session, suggestion, expected_version)
    return record_event(session, suggestion, kind=kind, actor=actor, now=now, text=text, **params)


# ----------------------------------------------------------------------------- the steps


def register_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    category: str,
    department: str,
    reviewer_id: int | None,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """登记、分类: confirm the category, name who handles it (department, cadre); the decision clock starts.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, an unknown category, a missing or over-long department, a reviewer
            who cannot review this unit.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if category not in policy.categories:
        raise InvalidInput("suggestion.category", N_("请从列出的类别中选择一个。"))
    check_text(
        department,
        code="department",
        limit=DEPARTMENT_MAX,
        empty=N_("承办部门不能为空，请重新输入。"),
        too_long=N_("承办部门太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    if reviewer_id is not None:
        reviewer = session.get(Member, reviewer_id)
        unit = session.get(Unit, suggestion.unit_id)
        assert unit is not None
        if reviewer is None or not has_permission(session, reviewer, Permission.REVIEW_SUGGESTIONS, unit):
            raise InvalidInput("suggestion.reviewer", N_("这位干部不负责这个单位的合理化建议，请另选一位。"))
    transition(suggestion, SuggestionStatus.REGISTERED)
    suggestion.category = category
    suggestion.department = department.strip()
    suggestion.reviewer_id = reviewer_id if reviewer_id is not None else actor.id
    suggestion.registered_at = now
    set_due(suggestion, policy, now)
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.REGISTERED,
        actor=actor,
        now=now,
        category=category,
        department=suggestion.department,
    )
    return suggestion


def _check_opinion(text: str, *, empty: str) -> None:
    check_text(
        text,
        code="opinion",
        limit=OPINION_MAX,
        empty=empty,
        too_long=N_("意见太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )


def first_review(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    opinion: str,
    now: datetime,
) -> Suggestion:
    """初评: the handling cadre's first opinion; a panel review or the decision comes next.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, an empty or over-long opinion.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    _check_opinion(opinion, empty=N_("请写下初评意见。"))
    transition(suggestion, SuggestionStatus.FIRST_REVIEWED)
    suggestion.opinion = opinion.strip()
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.FIRST_REVIEW,
        actor=actor,
        now=now,
        text=suggestion.opinion,
    )
    return suggestion


def panel_review(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    feasibility: Feasibility,
    cost_fen: int | None,
    benefit_fen: int | None,
    opinion: str,
    now: datetime,
) -> Suggestion:
    """评审: the panel's view of feasibility, cost and benefit, before the decision.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, a bad amount, an empty or over-long opinion.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    check_amount(cost_fen)
    check_amount(benefit_fen)
    _check_opinion(opinion, empty=N_("请写下评审意见。"))
    transition(suggestion, SuggestionStatus.PANEL_REVIEWED)
    suggestion.opinion = opinion.strip()
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.PANEL_REVIEW,
        actor=actor,
        now=now,
        text=suggestion.opinion,
        feasibility=feasibility.value,
        cost_fen=cost_fen,
        benefit_fen=benefit_fen,
    )
    return suggestion


def decide_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    adopted: bool,
    reason: str,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """采纳 or 不采纳, always with a reason: a rejected idea gets its reason ("五有").

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage (a first review must come first), a missing or over-long reason.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    check_text(
        reason,
        code="reason",
        limit=OPINION_MAX,
        empty=N_("请写明采纳或不采纳的理由：提出人有权知道。"),
        too_long=N_("理由太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    transition(suggestion, SuggestionStatus.ADOPTED if adopted else SuggestionStatus.NOT_ADOPTED)
    suggestion.opinion = reason.strip()
    suggestion.adopted = adopted
    suggestion.decided_at = now
    set_due(suggestion, policy, now)
    kind = EventKind.ADOPTED if adopted else EventKind.NOT_ADOPTED
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=kind,
        actor=actor,
        now=now,
        text=suggestion.opinion,
    )
    return suggestion


def start_implementation(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    started_on: date,
    notes: str,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """实施: the adopted idea is being put into practice.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, a start in the future, empty or over-long notes.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if started_on > policy.today(now):
        raise InvalidInput("suggestion.future_date", N_("日期不能晚于今天。"))
    check_text(
        notes,
        code="notes",
        limit=OPINION_MAX,
        empty=N_("请简单写下实施情况。"),
        too_long=N_("说明太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    transition(suggestion, SuggestionStatus.IMPLEMENTING)
    suggestion.implementation_started_on = started_on
    set_due(suggestion, policy, now)
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.IMPLEMENTATION_STARTED,
        actor=actor,
        now=now,
        text=notes.strip(),
        on=started_on.isoformat(),
    )
    return suggestion


def record_effect(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    value_fen: int,
    implemented_on: date,
    notes: str,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """实施效果: what the idea created (in yuan) once in place — the figure units are compared on.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, a bad amount, a date before the start or in the future, bad notes.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    check_amount(value_fen)
    if implemented_on > policy.today(now):
        raise InvalidInput("suggestion.future_date", N_("日期不能晚于今天。"))
    started = suggestion.implementation_started_on
    if started is not None and implemented_on < started:
        raise InvalidInput(
            "suggestion.before_start", N_("完成日期不能早于开始实施的日期 {date}。"), date=started.isoformat()
        )
    check_text(
        notes,
        code="notes",
        limit=OPINION_MAX,
        empty=N_("请简单写下实施效果。"),
        too_long=N_("说明太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    transition(suggestion, SuggestionStatus.IMPLEMENTED)
    suggestion.value_fen = value_fen
    suggestion.implemented_on = implemented_on
    set_due(suggestion, policy, now)
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.EFFECT_RECORDED,
        actor=actor,
        now=now,
        text=notes.strip(),
        value_fen=value_fen,
        on=implemented_on.isoformat(),
    )
    return suggestion


def award_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    award: Award,
    prize_fen: int,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """金点子, 银点子 or 鼓励奖 with the prize money, for an adopted suggestion; given once.

    One not yet implemented (:func:`implemented`) is awarded only where the union allows it; the
    cadre is warned first (the handler's business), since its effect is not known yet.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        PermissionDenied: the actor reviews the suggestion but may not give awards (a committee member).
        InvalidInput: not adopted, already awarded, not implemented where that is required, or a bad amount.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if (refused := award_refusal(session, actor, suggestion, policy)) is not None:
        raise refused
    check_amount(prize_fen)
    suggestion.award = award
    suggestion.prize_fen = prize_fen
    suggestion.awarded_at = now
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.AWARDED,
        actor=actor,
        now=now,
        award=award.value,
        prize_fen=prize_fen,
    )
    return suggestion


def reply_to_proposer(
    session: Session, *, actor: Member, suggestion_id: int, expected_version: int, text: str, now: datetime
) -> Suggestion:
    """答复: a message to the proposer, which reaches them even when nobody knows who they are.

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: empty or over-long, or the suggestion was merged into another.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if (refused := _reply_refusal(suggestion)) is not None:
        raise refused
    check_text(
        text,
        code="reply",
        limit=REPLY_MAX,
        empty=N_("答复内容不能为空，请重新输入。"),
        too_long=N_("答复太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    suggestion.reply = text.strip()
    if suggestion.answered_at is None:
        suggestion.answered_at = now
    _record_step(
        session,
        suggestion,
        expected_version=expected_version,
        kind=EventKind.REPLIED,
        actor=actor,
        now=now,
        text=suggestion.reply,
    )
    return suggestion


def close_suggestion(
    session: Session, *, actor: Member, suggestion_id: int, expected_version: int, now: datetime
) -> Suggestion:
    """办结: only with a handling opinion and a reply to the proposer ("五有").

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`.
        InvalidInput: a wrong stage, or no opinion or no reply yet.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    if SuggestionStatus.CLOSED in TRANSITIONS[suggestion.status] and (missing := close_blockers(suggestion)):
        raise missing[0]
    transition(suggestion, SuggestionStatus.CLOSED)
    suggestion.closed_at = now
    _record_step(
        session, suggestion, expected_version=expected_version, kind=EventKind.CLOSED, actor=actor, now=now
    )
    return suggestion


# Where a duplicate may not go: its supporters would land on a suggestion nobody handles any more.
_CLOSED_TARGETS = frozenset({SuggestionStatus.MERGED, SuggestionStatus.CLOSED, SuggestionStatus.NOT_ADOPTED})


def merge_target(
    session: Session, *, actor: Member, suggestion_id: int, number: str, year: int
) -> Suggestion:
    """The suggestion numbered ``number``, if ``suggestion_id`` may be merged into it.

    The number may be typed the short way (``5``, ``000005``, ``JY5``, ``2026-5``:
    :func:`parse_suggestion_number`), ``year`` being the union's current one. The
    merge form asks this as soon as the number is typed, so a typo is asked
    again instead of ending the form; :func:`merge_suggestion` asks it again.

    Raises:
        InvalidInput: the text is no number; the same suggestion; merged, closed or not adopted.
        NotFound: no suggestion has that number.
        PermissionDenied: it lies outside the actor's subtree.
    """
    wanted = parse_suggestion_number(number, year=year)
    if wanted is None:
        raise InvalidInput(
            "suggestion.number_unreadable",
            N_(
                "没看懂这个编号。请输入建议编号，例如“{example}”；今年的建议也可以只输入序号，例如“{short}”。"
            ),
            example=suggestion_number(year, 12),
            short=12,
        )
    target = session.exec(select(Suggestion).where(Suggestion.number == wanted)).first()
    if target is None:
        raise NotFound("suggestion.merge_target", N_("找不到编号为 {number} 的建议。"), number=wanted)
    require_reviewer(session, actor, target)
    if target.id == suggestion_id:
        raise InvalidInput("suggestion.merge_self", N_("不能把建议合并到它自己。"))
    if target.status in _CLOSED_TARGETS:
        raise InvalidInput(
            "suggestion.merge_closed",
            N_("{number} 已经“{status}”，请合并到一条仍在办理的建议。"),
            number=target.number,
            status=Label(STATUS_LABELS[target.status]),
        )
    return target


def merge_suggestion(
    session: Session,
    *,
    actor: Member,
    suggestion_id: int,
    expected_version: int,
    into_number: str,
    note: str,
    policy: SuggestionPolicy,
    now: datetime,
) -> Suggestion:
    """合并: fold a duplicate into another; its proposer and supporters become the other's supporters.

    The note is both the handling opinion and the reply the proposer receives,
    so a merged suggestion closes with both ("五有"). ``into_number`` may be
    typed the short way within the current year (:func:`merge_target`).

    Raises:
        NotFound, PermissionDenied, Conflict: see :func:`_claim`; the target is unknown or out of scope.
        InvalidInput: a wrong stage, the same suggestion, a target that is merged or closed, an empty note.
    """
    suggestion = _claim(session, actor=actor, suggestion_id=suggestion_id, expected_version=expected_version)
    assert suggestion.id is not None
    target = merge_target(
        session, actor=actor, suggestion_id=suggestion.id, number=into_number, year=policy.today(now).year
    )
    check_text(
        note,
        code="note",
        limit=REPLY_MAX,
        empty=N_("请写一句合并说明，提出人会收到。"),
        too_long=N_("说明太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    check_transition(suggestion, SuggestionStatus.MERGED)
    # Every rule has passed: claim the version now, before the supporters are written, so a
    # colleague's change in the meantime leaves nothing of this merge behind.
    _LOCK.bump(session, suggestion, expected_version)
    transition(suggestion, SuggestionStatus.MERGED)
    assert target.id is not None
    assert suggestion.id is not None
    supporters = set(
        session.exec(
            select(SuggestionSupport.member_id).where(SuggestionSupport.suggestion_id == suggestion.id)
        ).all()
    )
    supporters.add(suggestion.proposer_id)
    supporters.discard(target.proposer_id)
    already = set(
        session.exec(
            select(SuggestionSupport.member_id).where(SuggestionSupport.suggestion_id == target.id)
        ).all()
    )
    for member_id in sorted(supporters - already):
        session.add(SuggestionSupport(suggestion_id=target.id, member_id=member_id, created_at=now))
    suggestion.merged_into_id = target.id
    suggestion.opinion = note.strip()
    suggestion.reply = note.strip()
    suggestion.answered_at = suggestion.answered_at or now
    suggestion.closed_at = now
    suggestion.due_on = None
    record_event(
        session,
        suggestion,
        kind=EventKind.MERGED,
        actor=actor,
        now=now,
        text=note.strip(),
        into=target.number,
    )
    return suggestion
