"""What members and cadres do with a hardship case, each step checking who may do it.

A member applies for themselves, after an explicit consent; a cadre with
``HANDLE_HARDSHIP`` over the member's unit may apply on their behalf (the member
is told, and sees it under 我的申请). Every cadre's step on a case checks the
cadre's scope, audits a refusal (:func:`models.audit.record_audit`), and moves
the case's version with a guarded ``UPDATE`` (:mod:`models.versioned`): the second
of two cadres acting at once is refused and sees what the first did.

Each change the member should know of queues a push that says only that the
application moved on: the details are read in 我的申请, never in a notification.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from models.audit import record_audit
from models.base import utcnow
from models.errors import N_, DomainError, InvalidInput, Label, NotFound, PermissionDenied
from models.hardship.cases import (
    CONTACT_WAY_MAX,
    FOUR_CLEAR_MAX,
    FUND_MAX,
    GOODS_MAX,
    HOUSEHOLD_MAX,
    INCOME_MAX_FEN,
    NEW_TOPIC,
    NOTE_MAX,
    PHOTOS_MAX,
    REASON_MAX,
    STATUS_LABELS,
    STORY_MAX,
    UPDATE_TOPIC,
    VISITORS_MAX,
    CaseStatus,
    Deadline,
    HardshipCase,
    HardshipCategory,
    HardshipDecision,
    HardshipDisbursement,
    HardshipPhoto,
    HardshipVisit,
    HelpKind,
    check_amount,
    check_text,
    transition,
    wrong_stage,
)
from models.hardship.deadlines import responsible_for
from models.hardship.photos import seal_photo
from models.hardship.policy import HardshipPolicy
from models.members import Member
from models.outbox import NewPush, PushKind, enqueue
from models.roles import Permission, has_permission, scope_units
from models.units import Unit
from models.versioned import VersionLock
from models.workdays import add_workdays

log = logging.getLogger(__name__)

SYSTEM_CHANNEL = "system"
# Help that is no money and no goods: a lawyer's time, a counsellor's, a job found.
NON_MATERIAL = frozenset({HelpKind.LEGAL, HelpKind.COUNSELLING, HelpKind.EMPLOYMENT})


class Action(StrEnum):
    """A cadre's step on a case; :func:`allowed_actions` says which the stage allows."""

    CONTACT = "contact"  # 记录联系
    VISIT = "visit"  # 记录走访
    DECIDE = "decide"  # 帮扶决定
    DISBURSE = "disburse"  # 登记发放
    REVIEW = "review"  # 动态管理
    CLOSE = "close"  # 办结


ALLOWED: dict[CaseStatus, tuple[Action, ...]] = {
    CaseStatus.RECEIVED: (Action.CONTACT, Action.VISIT, Action.CLOSE),
    CaseStatus.VISITED: (Action.DECIDE, Action.VISIT, Action.CLOSE),
    CaseStatus.DECIDED: (Action.DISBURSE, Action.CLOSE),
    CaseStatus.HELPED: (Action.DISBURSE, Action.REVIEW, Action.CLOSE),
    CaseStatus.REVIEW: (Action.VISIT, Action.REVIEW, Action.DISBURSE, Action.CLOSE),
    CaseStatus.CLOSED: (),
}


class Conflict(DomainError):
    """Another cadre acted on the case since this one opened it."""


def _conflict(case: HardshipCase) -> DomainError:
    return Conflict(
        "hardship.conflict",
        N_("这件帮扶申请刚刚被其他干部处理过，现在是“{status}”。请看最新情况后再操作。"),
        status=Label(STATUS_LABELS[case.status]),
    )


LOCK = VersionLock(HardshipCase, _conflict)


def allowed_actions(case: HardshipCase) -> tuple[Action, ...]:
    """The steps the case's stage allows; a case contacted already offers no second first contact."""
    return tuple(
        action
        for action in ALLOWED[case.status]
        if not (action is Action.CONTACT and case.contacted_at is not None)
    )


# ----------------------------------------------------------------------------- scope


def handles_hardship(session: Session, member: Member) -> bool:
    """Whether ``member`` handles hardship anywhere: who is offered 帮扶办理."""
    return member.is_active and bool(scope_units(session, member, Permission.HANDLE_HARDSHIP))


def hardship_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose subtrees ``actor`` handles hardship for, highest first, nested ones left out.

    Raises:
        PermissionDenied: the actor handles hardship nowhere.
    """
    units = scope_units(session, actor, Permission.HANDLE_HARDSHIP) if actor.is_active else []
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied("hardship.not_handler", N_("抱歉，只有负责困难帮扶的工会干部才能办理。"))
    unique = {unit.id: unit for unit in tops}
    return sorted(unique.values(), key=lambda unit: unit.id_path)


def _refuse(session: Session, actor: Member, subject: str, channel: str, action: str) -> PermissionDenied:
    record_audit(session, actor=actor, action=action, subject=subject, channel=channel, allowed=False)
    return PermissionDenied(
        "hardship.not_in_scope", N_("抱歉，这件帮扶申请不在您负责的单位，不能查看或办理。")
    )


def _case_in_scope(session: Session, actor: Member, case_id: int, channel: str, action: str) -> HardshipCase:
    """The case, if the actor handles hardship over its unit; otherwise refused, and the attempt audited.

    Raises:
        NotFound: no such case (said the same way to everyone: nobody learns which numbers exist).
        PermissionDenied: the case is outside the actor's units.
    """
    case = session.get(HardshipCase, case_id)
    if case is None:
        raise NotFound("hardship.no_case", N_("找不到这件帮扶申请。"))
    unit = session.get(Unit, case.unit_id)
    if unit is None or not has_permission(session, actor, Permission.HANDLE_HARDSHIP, unit):
        raise _refuse(session, actor, f"case:{case_id}", channel, action)
    return case


def _member_in_scope(session: Session, actor: Member, member: Member, channel: str, action: str) -> None:
    unit = session.get(Unit, member.unit_id)
    if unit is None or not has_permission(session, actor, Permission.HANDLE_HARDSHIP, unit):
        raise _refuse(session, actor, f"member:{member.id}", channel, action)


# ----------------------------------------------------------------------------- pushes


def _tell_member(session: Session, case: HardshipCase, now: datetime, event: str) -> None:
    """The member hears that their application moved on; the key names the version, so once per change."""
    assert case.id is not None
    if case.member_id is None:
        return
    enqueue(
        session,
        [
            NewPush(
                key=f"hardship-update:{case.id}:{case.version}:{event}",
                member_id=case.member_id,
                kind=PushKind.STATUS,
                topic=UPDATE_TOPIC,
                subject_id=case.id,
                params={"event": event},
            )
        ],
        now=now,
    )


def _tell_handlers(session: Session, case: HardshipCase, now: datetime, filer: int | None = None) -> int:
    """The responsible cadres hear of a new case; an urgent one goes out at once, quiet hours or not.

    ``filer``: the cadre who filed it for the member knows already and is not told.
    """
    assert case.id is not None
    duty = responsible_for(session, case)
    if not duty.cadre_ids:
        # Nobody in the whole union handles hardship over this unit: the roster lacks a role.
        log.warning(
            "hardship case %d: nobody handles hardship for its unit (%d), so nobody was told",
            case.id,
            case.unit_id,
        )
    return enqueue(
        session,
        [
            NewPush(
                key=f"hardship-new:{case.id}:{member_id}",
                member_id=member_id,
                kind=PushKind.REMINDER,
                topic=NEW_TOPIC,
                subject_id=case.id,
                params={"unit": duty.unit_id},
                urgent=case.urgent,
            )
            for member_id in sorted(duty.cadre_ids - {filer})
        ],
        now=now,
    )


# ----------------------------------------------------------------------------- applying


@dataclass(frozen=True)
class CaseDraft:
    """An application as the form collected it.

    Attributes:
        consented: the member (or, filing for them, the cadre on their word) agreed to what is
            collected, who sees it and how long it is kept. Nothing is stored without it.
        photos: the channels' stored files of document photos, with their types.
    """

    consented: bool
    category: HardshipCategory
    story: str
    household_size: int
    income_fen: int
    help_wanted: Sequence[HelpKind]
    urgent: bool
    contact_way: str
    photos: Sequence[tuple[str, str | None]] = field(default_factory=tuple)


def check_draft(draft: CaseDraft) -> None:
    """Refuse an application that does not hold together.

    Raises:
        InvalidInput: no consent, empty or over-long text, an impossible household or income, no help
            asked for, too many photos.
    """
    if not draft.consented:
        raise InvalidInput("hardship.no_consent", N_("没有您的同意，我们不会保存任何信息。"))
    check_text(draft.story, code="story", limit=STORY_MAX)
    check_text(draft.contact_way, code="contact_way", limit=CONTACT_WAY_MAX)
    if not 1 <= draft.household_size <= HOUSEHOLD_MAX:
        raise InvalidInput(
            "hardship.household", N_("家庭人口请填 1 到 {maximum} 之间的整数。"), maximum=HOUSEHOLD_MAX
        )
    check_amount(draft.income_fen, maximum=INCOME_MAX_FEN)
    if not draft.help_wanted:
        raise InvalidInput("hardship.no_help", N_("请至少选择一种希望得到的帮助。"))
    if len(draft.photos) > PHOTOS_MAX:
        raise InvalidInput("hardship.photos", N_("最多可以附 {limit} 张照片。"), limit=PHOTOS_MAX)


def submit_case(
    session: Session,
    *,
    actor: Member,
    draft: CaseDraft,
    policy: HardshipPolicy,
    now: datetime,
    on_behalf_of: Member | None = None,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipCase:
    """Write an application, start its clock, and tell the cadres who will handle it.

    ``on_behalf_of``: a cadre files for that member, who is told and sees it as their own.

    Raises:
        InvalidInput: see :func:`check_draft`; a member who is not active.
        PermissionDenied: filing for a member outside the cadre's units (audited).
    """
    check_draft(draft)
    member = on_behalf_of or actor
    if not actor.is_active or not member.is_active:
        raise InvalidInput("hardship.inactive", N_("只有在册会员可以申请困难帮扶。"))
    if on_behalf_of is not None:
        _member_in_scope(session, actor, on_behalf_of, channel, "hardship.case.file")
    assert member.id is not None
    today = policy.today(now)
    contact_due = add_workdays(today, policy.contact_limit(draft.urgent))
    case = HardshipCase(
        member_id=member.id,
        unit_id=member.unit_id,
        filed_by_id=actor.id if on_behalf_of is not None else None,
        category=draft.category,
        help_wanted=[kind.value for kind in dict.fromkeys(draft.help_wanted)],
        urgent=draft.urgent,
        story=draft.story.strip(),
        household=str(draft.household_size),
        income=str(draft.income_fen),
        contact_way=draft.contact_way.strip(),
        deadline=Deadline.CONTACT,
        due_on=contact_due,
        contact_due_on=contact_due,
        visit_due_on=add_workdays(today, policy.visit_days),
        consent_at=now,
        submitted_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    for position, (ref, mime_type) in enumerate(draft.photos, start=1):
        stored = seal_photo(ref, policy.media_dir)
        if stored is not None:
            session.add(HardshipPhoto(case_id=case.id, position=position, path=stored, mime_type=mime_type))
    _tell_handlers(session, case, now, filer=actor.id if on_behalf_of is not None else None)
    if on_behalf_of is not None:
        _tell_member(session, case, now, "filed")
    session.flush()
    return case


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CaseView:
    """A case as its cadre reads it: everything, notes included."""

    case: HardshipCase
    member: Member | None  # None once the retention job unlinked an old closed case
    unit: Unit
    filed_by: Member | None
    visits: Sequence[HardshipVisit]
    decisions: Sequence[HardshipDecision]
    disbursements: Sequence[HardshipDisbursement]
    photos: Sequence[HardshipPhoto]


def open_case(session: Session, *, actor: Member, case_id: int, channel: str) -> CaseView:
    """The case in full for a cadre who handles its unit; every opening is audited.

    Raises:
        NotFound: no such case.
        PermissionDenied: the case is outside the actor's units (audited as refused).
    """
    case = _case_in_scope(session, actor, case_id, channel, "hardship.case.open")
    record_audit(
        session, actor=actor, action="hardship.case.open", subject=f"case:{case_id}", channel=channel
    )
    return _view(session, case)


def _view(session: Session, case: HardshipCase) -> CaseView:
    member = session.get(Member, case.member_id) if case.member_id is not None else None
    unit = session.get(Unit, case.unit_id)
    assert unit is not None
    filed_by = session.get(Member, case.filed_by_id) if case.filed_by_id is not None else None
    return CaseView(
        case=case,
        member=member,
        unit=unit,
        filed_by=filed_by,
        visits=session.exec(
            select(HardshipVisit).where(HardshipVisit.case_id == case.id).order_by(col(HardshipVisit.id))
        ).all(),
        decisions=session.exec(
            select(HardshipDecision)
            .where(HardshipDecision.case_id == case.id)
            .order_by(col(HardshipDecision.id))
        ).all(),
        disbursements=disbursements_of(session, case),
        photos=session.exec(
            select(HardshipPhoto)
            .where(HardshipPhoto.case_id == case.id)
            .order_by(col(HardshipPhoto.position))
        ).all(),
    )


def disbursements_of(session: Session, case: HardshipCase) -> Sequence[HardshipDisbursement]:
    return session.exec(
        select(HardshipDisbursement)
        .where(HardshipDisbursement.case_id == case.id)
        .order_by(col(HardshipDisbursement.given_on), col(HardshipDisbursement.id))
    ).all()


# ----------------------------------------------------------------------------- the cadre's steps


def _claim(
    session: Session, actor: Member, case_id: int, expected_version: int, channel: str, action: str
) -> HardshipCase:
    case = _case_in_scope(session, actor, case_id, channel, action)
    return LOCK.claim(session, case, expected_version)


def _require(case: HardshipCase, action: Action) -> None:
    if action not in allowed_actions(case):
        raise wrong_stage(case)


def _not_future(day: date, today: date, code: str) -> None:
    if day > today:
        raise InvalidInput(
            f"hardship.{code}_future", N_("日期不能晚于今天（{date}）。"), date=today.isoformat()
        )


def record_contact(
    session: Session,
    *,
    actor: Member,
    case_id: int,
    expected_version: int,
    note: str,
    policy: HardshipPolicy,
    now: datetime,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipCase:
    """The first contact with the family (a call, a word at work), with a note; the visit's clock runs on.

    Raises:
        NotFound, PermissionDenied, Conflict; InvalidInput: the stage, an empty or over-long note.
    """
    case = _claim(session, actor, case_id, expected_version, channel, "hardship.case.contact")
    _require(case, Action.CONTACT)
    check_text(note, code="contact_note", limit=NOTE_MAX)
    LOCK.bump(session, case, expected_version)
    case.contacted_at = now
    case.contact_note = note.strip()
    case.deadline, case.due_on = Deadline.VISIT, case.visit_due_on
    case.updated_at = now
    session.add(case)
    session.flush()
    return case


@dataclass(frozen=True)
class VisitRecord:
    """A visit as the cadre writes it down: "四清" each required, since help is decided on them."""

    visited_on: date
    visitors: str
    family: str
    mind: str
    cause: str
    needs: str
    notes: str | None = None


def record_visit(
    session: Session,
    *,
    actor: Member,
    case_id: int,
    expected_version: int,
    visit: VisitRecord,
    policy: HardshipPolicy,
    now: datetime,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipCase:
    """Record a visit (走访); the case is verified and the decision's clock starts.

    A visit is a contact too: a case visited before anyone wrote down a first contact counts as
    contacted on the visit.

    Raises:
        NotFound, PermissionDenied, Conflict; InvalidInput: the stage, a date in the future, a "四清"
        field empty or too long.
    """
    case = _claim(session, actor, case_id, expected_version, channel, "hardship.case.visit")
    _require(case, Action.VISIT)
    today = policy.today(now)
    _not_future(visit.visited_on, today, "visit")
    check_text(visit.visitors, code="visitors", limit=VISITORS_MAX)
    for code, text in (
        ("family", visit.family),
        ("mind", visit.mind),
        ("cause", visit.cause),
        ("needs", visit.needs),
    ):
        check_text(text, code=code, limit=FOUR_CLEAR_MAX)
    check_text(visit.notes, code="visit_notes", limit=NOTE_MAX, optional=True)
    LOCK.bump(session, case, expected_version)
    assert case.id is not None
    assert actor.id is not None
    session.add(
        HardshipVisit(
            case_id=case.id,
            visited_on=visit.visited_on,
            visitors=visit.visitors.strip(),
            family=visit.family.strip(),
            mind=visit.mind.strip(),
            cause=visit.cause.strip(),
            needs=visit.needs.strip(),
            notes=visit.notes.strip() if visit.notes and visit.notes.strip() else None,
            recorded_by_id=actor.id,
            recorded_at=now,
        )
    )
    transition(case, CaseStatus.VISITED, now)
    if case.contacted_at is None:
        case.contacted_at = now
    if case.visited_on is None:
        case.visited_on = visit.visited_on
    case.next_review_on = None
    case.deadline, case.due_on = Deadline.DECIDE, add_workdays(today, policy.decide_days)
    session.add(case)
    session.flush()
    _tell_member(session, case, now, "visited")
    return case


@dataclass(frozen=True)
class DecisionRecord:
    kinds: Sequence[HelpKind]
    amount_fen: int | None
    goods: str | None
    fund: str
    reason: str


def decide_case(
    session: Session,
    *,
    actor: Member,
    case_id: int,
    expected_version: int,
    decision: DecisionRecord,
    policy: HardshipPolicy,
    now: datetime,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipCase:
    """Decide the help (kinds, amount or goods, fund, reason); the clock of giving it starts.

    Raises:
        NotFound, PermissionDenied, Conflict; InvalidInput: the stage, no kind of help, money or goods
        missing for material help, a bad amount, an empty fund or reason.
    """
    case = _claim(session, actor, case_id, expected_version, channel, "hardship.case.decide")
    _require(case, Action.DECIDE)
    if not decision.kinds:
        raise InvalidInput("hardship.no_help", N_("请至少选择一种帮扶方式。"))
    material = any(kind not in NON_MATERIAL for kind in decision.kinds)
    if material and decision.amount_fen is None and not (decision.goods and decision.goods.strip()):
        raise InvalidInput("hardship.no_amount", N_("慰问金、救助金和助学需要写明金额或物品。"))
    check_amount(decision.amount_fen)
    check_text(decision.goods, code="goods", limit=GOODS_MAX, optional=True)
    check_text(decision.fund, code="fund", limit=FUND_MAX)
    check_text(decision.reason, code="reason", limit=REASON_MAX)
    LOCK.bump(session, case, expected_version)
    assert case.id is not None
    assert actor.id is not None
    session.add(
        HardshipDecision(
            case_id=case.id,
            kinds=[kind.value for kind in dict.fromkeys(decision.kinds)],
            amount_fen=decision.amount_fen,
            goods=decision.goods.strip() if decision.goods and decision.goods.strip() else None,
            fund=decision.fund.strip(),
            reason=decision.reason.strip(),
            decided_by_id=actor.id,
            decided_at=now,
        )
    )
    transition(case, CaseStatus.DECIDED, now)
    case.decided_at = now
    case.deadline, case.due_on = Deadline.HELP, add_workdays(policy.today(now), policy.help_days)
    session.add(case)
    session.flush()
    _tell_member(session, case, now, "decided")
    return case


def record_disbursement(
    session: Session,
    *,
    actor: Member,
    member_id: int,
    case_id: int | None,
    campaign_id: int | None,
    given_on: date,
    amount_fen: int | None,
    goods: str | None,
    fund: str,
    now: datetime | None = None,
    expected_version: int | None = None,
    channel: str = SYSTEM_CHANNEL,
    policy: HardshipPolicy | None = None,
) -> HardshipDisbursement:
    """Record help given to a member: for a case, for a campaign (送温暖), or both.

    For a case, its stage must allow it (decided, helped or under review); the first
    disbursement moves a decided case to "help given". ``expected_version`` (from a case's
    form) makes the step refuse when another cadre acted since; a campaign's list leaves it out.

    Raises:
        NotFound: no such member or case.
        PermissionDenied: the member or case is outside the actor's units (audited).
        InvalidInput: neither amount nor goods, a bad amount, an empty fund, a date in the future,
            a case of another member, or a case whose stage allows no help.
    """
    moment = now or utcnow()
    rules = policy or HardshipPolicy()
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("hardship.no_member", N_("找不到这位会员。"))
    case: HardshipCase | None = None
    if case_id is not None:
        if expected_version is not None:
            case = _claim(session, actor, case_id, expected_version, channel, "hardship.case.disburse")
        else:
            case = _case_in_scope(session, actor, case_id, channel, "hardship.case.disburse")
        if case.member_id != member_id:
            raise InvalidInput("hardship.other_member", N_("这件帮扶申请不是这位会员的。"))
        _require(case, Action.DISBURSE)
    else:
        _member_in_scope(session, actor, member, channel, "hardship.disburse")
    if amount_fen is None and not (goods and goods.strip()):
        raise InvalidInput("hardship.no_amount", N_("请写明发放的金额或物品。"))
    check_amount(amount_fen)
    check_text(goods, code="goods", limit=GOODS_MAX, optional=True)
    check_text(fund, code="fund", limit=FUND_MAX)
    _not_future(given_on, rules.today(moment), "given")
    if case is not None:
        seen = expected_version if expected_version is not None else case.version
        LOCK.bump(session, case, seen)
    assert actor.id is not None
    given = HardshipDisbursement(
        member_id=member_id,
        case_id=case_id,
        campaign_id=campaign_id,
        given_on=given_on,
        amount_fen=amount_fen,
        goods=goods.strip() if goods and goods.strip() else None,
        fund=fund.strip(),
        handled_by_id=actor.id,
        recorded_at=moment,
    )
    session.add(given)
    if case is not None:
        if case.status is CaseStatus.DECIDED:
            transition(case, CaseStatus.HELPED, moment)
        if case.helped_at is None:
            case.helped_at = moment
        if case.status is CaseStatus.HELPED:
            case.deadline, case.due_on = None, None
        case.updated_at = moment
        session.add(case)
    session.flush()
    if case is not None:
        _tell_member(session, case, moment, "helped")
    return given


def keep_under_review(
    session: Session,
    *,
    actor: Member,
    case_id: int,
    expected_version: int,
    next_review_on: date,
    policy: HardshipPolicy,
    now: datetime,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipCase:
    """Keep the case on file (动态管理) and look at it again on ``next_review_on``.

    Raises:
        NotFound, PermissionDenied, Conflict; InvalidInput: the stage, a date not after today.
    """
    case = _claim(session, actor, case_id, expected_version, channel, "hardship.case.review")
    _require(case, Action.REVIEW)
    today = policy.today(now)
    if next_review_on <= today:
        raise InvalidInput(
            "hardship.review_date", N_("下次回访日期要晚于今天（{date}）。"), date=today.isoformat()
        )
    LOCK.bump(session, case, expected_version)
    transition(case, CaseStatus.REVIEW, now)
    case.next_review_on = next_review_on
    case.deadline, case.due_on = Deadline.REVIEW, next_review_on
    session.add(case)
    session.flush()
    _tell_member(session, case, now, "review")
    return case


def close_case(
    session: Session,
    *,
    actor: Member,
    case_id: int,
    expected_version: int,
    note: str,
    now: datetime,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipCase:
    """办结: the case leaves the queue, with a note saying why (helped, no longer needed, not eligible).

    Raises:
        NotFound, PermissionDenied, Conflict; InvalidInput: already closed, an empty or over-long note.
    """
    case = _claim(session, actor, case_id, expected_version, channel, "hardship.case.close")
    _require(case, Action.CLOSE)
    check_text(note, code="close_note", limit=NOTE_MAX)
    LOCK.bump(session, case, expected_version)
    transition(case, CaseStatus.CLOSED, now)
    case.close_note = note.strip()
    case.closed_at = now
    case.deadline, case.due_on, case.next_review_on = None, None, None
    session.add(case)
    session.flush()
    _tell_member(session, case, now, "closed")
    return case
