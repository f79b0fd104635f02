"""The organiser's side: setting out an activity, the cadre's view of it, calling it off."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.activities.signups import promote_waiting
from models.activities.tables import (
    BATCHES_MAX,
    CANCEL_REASON_MAX,
    CANCELLED_TOPIC,
    CAPACITY_MAX,
    CHOICE_MAX,
    CHOICES_MAX,
    DESCRIPTION_MAX,
    PLACE_MAX,
    QUESTION_MAX,
    REMOVED_TOPIC,
    TITLE_MAX,
    Activity,
    ActivityBatch,
    ActivityDraft,
    ActivitySignup,
    ActivityStatus,
    ActivityUnit,
    Allocation,
    Attendee,
    SignupStatus,
    batches_of,
    locked_activity,
    transition,
    transition_signup,
)
from models.base import visible_length
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.facts import Fact
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.roles import Permission, Role, has_permission, scope_units
from models.units import PATH_SEPARATOR, Unit, ordered_units, unit_path

# ----------------------------------------------------------------------------- checks


def _check_text(draft: ActivityDraft) -> None:
    """Refuse empty or over-long text, naming the limit: cutting it would lose what the cadre wrote."""
    fields = (
        (
            "title",
            draft.title,
            TITLE_MAX,
            N_("活动名称不能为空，请重新输入。"),
            N_("活动名称太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        ),
        (
            "description",
            draft.description,
            DESCRIPTION_MAX,
            N_("活动介绍不能为空，请重新输入。"),
            N_("活动介绍太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        ),
        (
            "place",
            draft.place,
            PLACE_MAX,
            N_("活动地点不能为空，请重新输入。"),
            N_("活动地点太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        ),
    )
    for name, text, limit, empty, too_long in fields:
        if not text.strip():
            raise InvalidInput(f"activity.{name}_empty", empty)
        if (count := visible_length(text)) > limit:
            raise InvalidInput(f"activity.{name}_too_long", too_long, limit=limit, count=count)


def check_start(starts_at: datetime, now: datetime) -> None:
    """Refuse a start that has passed: nobody can sign up for yesterday.

    Raises:
        InvalidInput: ``activity.start_past``.
    """
    if starts_at <= now:
        raise InvalidInput("activity.start_past", N_("这个活动时间已经过去了，请输入一个以后的时间。"))


def check_deadline(deadline: datetime, starts_at: datetime, now: datetime) -> None:
    """Refuse a sign-up deadline that has passed or comes after the activity starts.

    Raises:
        InvalidInput: ``activity.deadline_past`` or ``activity.deadline_after_start``.
    """
    if deadline <= now:
        raise InvalidInput("activity.deadline_past", N_("这个报名截止时间已经过去了，请输入一个以后的时间。"))
    if deadline > starts_at:
        raise InvalidInput(
            "activity.deadline_after_start", N_("报名截止时间不能晚于活动开始时间，请重新输入。")
        )


def check_capacity(capacity: int | None) -> None:
    """Refuse a number of places that is not a positive whole number, or absurdly large.

    Raises:
        InvalidInput: ``activity.capacity``.
    """
    if capacity is not None and not 1 <= capacity <= CAPACITY_MAX:
        raise InvalidInput(
            "activity.capacity", N_("名额请填 1 到 {maximum} 之间的整数。"), maximum=CAPACITY_MAX
        )


def activity_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose subtrees ``actor`` may organise activities for, highest first, nested ones left out.

    Raises:
        PermissionDenied: the actor may not organise activities anywhere.
    """
    units = scope_units(session, actor, Permission.MANAGE_ACTIVITIES) if actor.is_active else []
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied(
            "activity.not_allowed", N_("抱歉，只有负责组织活动的工会干部才能发起和管理活动。")
        )
    unique = {unit.id: unit for unit in tops}
    return sorted(unique.values(), key=lambda unit: unit.id_path)


def units_in_scope(session: Session, actor: Member) -> Sequence[Unit]:
    """Every unit the actor may open an activity to, in tree order: what a cadre picks from."""
    tops = activity_scope(session, actor)
    condition = sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in tops))
    return ordered_units(session, session.exec(select(Unit).where(condition)).all())


def check_units(session: Session, *, actor: Member, unit_ids: Collection[int]) -> list[Unit]:
    """The eligible units, each checked against the actor's scope, those inside another left out.

    Raises:
        PermissionDenied: the actor may not organise activities, or a unit lies outside their subtree.
        NotFound: no such unit.
        InvalidInput: ``activity.no_units``.
    """
    activity_scope(session, actor)
    if not unit_ids:
        raise InvalidInput("activity.no_units", N_("请至少选择一个单位。"))
    units = []
    for unit_id in dict.fromkeys(unit_ids):
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("unit.not_found", N_("找不到这个单位。"))
        if not has_permission(session, actor, Permission.MANAGE_ACTIVITIES, unit):
            raise PermissionDenied(
                "activity.out_of_scope",
                N_("“{unit}”不在您负责的范围内，活动只能面向您负责的单位。"),
                unit=unit_path(session, unit),
            )
        units.append(unit)
    # A unit inside another one chosen adds nobody: keep the list as short as what it means.
    return [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]


def check_activity(session: Session, *, actor: Member, draft: ActivityDraft, now: datetime) -> list[Unit]:
    """Check everything about a draft before anything is written; return its eligible units.

    Raises:
        PermissionDenied: not allowed to organise activities, or a unit outside the actor's subtree.
        InvalidInput: empty or over-long text, a start or deadline that has passed, a deadline
            after the start, a capacity that is not a positive number.
    """
    units = check_units(session, actor=actor, unit_ids=draft.unit_ids)
    _check_text(draft)
    check_start(draft.starts_at, now)
    check_deadline(draft.signup_deadline, draft.starts_at, now)
    check_end(draft.ends_at, draft.starts_at)
    check_capacity(draft.capacity)
    check_question(draft.question, draft.choices)
    check_allocation(draft)
    check_batches(draft, now)
    return units


def check_batches(draft: ActivityDraft, now: datetime) -> None:
    """Batches, when given: two to ten, each still to come, after the deadline, with its places."""
    if not draft.batches:
        return
    if not 2 <= len(draft.batches) <= BATCHES_MAX:
        raise InvalidInput(
            "activity.batches_count",
            N_("分批要有 2 到 {limit} 批；只有一批请选“一次举行”。"),
            limit=BATCHES_MAX,
        )
    if draft.allocation is Allocation.LOTTERY:
        raise InvalidInput("activity.batches_lottery", N_("分批的活动按先到先得分配，不能抽签。"))
    starts = [start for start, _places in draft.batches]
    if len(set(starts)) != len(starts):
        raise InvalidInput("activity.batches_same_time", N_("有两批的开始时间相同，请改一下。"))
    for start, places in draft.batches:
        check_start(start, now)
        check_deadline(draft.signup_deadline, start, now)
        check_capacity(places)


def check_allocation(draft: ActivityDraft) -> None:
    """A lottery needs a number of places; a priority period ends by the deadline, for a known role."""
    if draft.allocation is Allocation.LOTTERY and draft.capacity is None:
        raise InvalidInput(
            "activity.lottery_needs_places", N_("抽签要先定名额：不限名额的活动人人都能参加。")
        )
    if draft.priority_until is not None and draft.priority_until > draft.signup_deadline:
        raise InvalidInput(
            "activity.priority_after_deadline", N_("优先报名时间不能晚于报名截止时间，请重新输入。")
        )
    if draft.priority_role is not None and draft.priority_role not in {role.value for role in Role}:
        raise InvalidInput("activity.priority_role", N_("没有这个角色。"))


def check_end(ends_at: datetime | None, starts_at: datetime) -> None:
    """An end, when given, comes after the start."""
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput("activity.end_before_start", N_("结束时间要晚于开始时间，请重新输入。"))


def split_choices(text: str) -> tuple[str, ...]:
    """Choices as a cadre types them: "S、M、L", "S M L", "单打,双打"."""
    return tuple(dict.fromkeys(part.strip() for part in re.split(r"[、,，;；/\s]+", text) if part.strip()))


def check_question(question: str | None, choices: Sequence[str]) -> None:
    """A sign-up question, when there is one, and its choices: short, and two to ten of them."""
    if question is None:
        if choices:
            raise InvalidInput("activity.choices_without_question", N_("有选项就要有问题，请先写问题。"))
        return
    count = visible_length(question.strip())
    if not count:
        raise InvalidInput("activity.question_empty", N_("问题不能为空，请重新输入。"))
    if count > QUESTION_MAX:
        raise InvalidInput(
            "activity.question_too_long",
            N_("问题太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
            limit=QUESTION_MAX,
            count=count,
        )
    if not choices:
        return
    if not 2 <= len(choices) <= CHOICES_MAX:
        raise InvalidInput(
            "activity.choices_count",
            N_("选项要有 2 到 {limit} 个，用“、”隔开，例如“S、M、L、XL”。"),
            limit=CHOICES_MAX,
        )
    for choice in choices:
        if visible_length(choice) > CHOICE_MAX:
            raise InvalidInput(
                "activity.choice_too_long",
                N_("选项“{choice}”太长了：每个最多 {limit} 个字。"),
                choice=choice,
                limit=CHOICE_MAX,
            )


# ------------------------------------------------------------------------- organising


def create_activity(session: Session, *, actor: Member, draft: ActivityDraft, now: datetime) -> Activity:
    """Record an activity, open for sign-up by the members of its units until the deadline.

    Raises:
        The errors of :func:`check_activity`; nothing is written then.
    """
    units = check_activity(session, actor=actor, draft=draft, now=now)
    assert actor.id is not None
    activity = Activity(
        organiser_id=actor.id,
        title=draft.title.strip(),
        description=draft.description.strip(),
        place=draft.place.strip(),
        starts_at=min((start for start, _places in draft.batches), default=draft.starts_at),
        signup_deadline=draft.signup_deadline,
        capacity=None if draft.batches else draft.capacity,
        created_at=now,
        kind=draft.kind,
        ends_at=draft.ends_at,
        question=draft.question.strip() if draft.question else None,
        choices="、".join(draft.choices) or None,
        allocation=draft.allocation,
        confirm_hours=draft.confirm_hours,
        priority_role=draft.priority_role,
        priority_until=draft.priority_until,
    )
    session.add(activity)
    session.flush()
    assert activity.id is not None
    for unit in units:
        assert unit.id is not None
        session.add(ActivityUnit(activity_id=activity.id, unit_id=unit.id))
    for number, (start, places) in enumerate(sorted(draft.batches), start=1):
        session.add(ActivityBatch(activity_id=activity.id, number=number, starts_at=start, capacity=places))
    session.flush()
    return activity


# Read for every push telling a signed-up member the activity is off: once per transaction.
_UNITS = Fact[int, tuple[Unit, ...]]("activity units", {ActivityUnit: None, Unit: ("id_path",)})


def activity_units(session: Session, activity_id: int) -> list[Unit]:
    """The units whose members may sign up, in tree order; read once per transaction (models.facts)."""

    def read() -> tuple[Unit, ...]:
        return tuple(
            session.exec(
                select(Unit)
                .join(ActivityUnit, col(ActivityUnit.unit_id) == col(Unit.id))
                .where(ActivityUnit.activity_id == activity_id)
                .order_by(col(Unit.id_path))
            ).all()
        )

    return list(_UNITS.recall(session, activity_id, read))


def _managed_condition(session: Session, actor: Member) -> sa.ColumnElement[bool]:
    """The activities the actor organised, or whose every unit lies in their subtree."""
    prefixes = [unit.id_path for unit in scope_units(session, actor, Permission.MANAGE_ACTIVITIES)]
    if not actor.is_active:
        return sa.false()
    mine = col(Activity.organiser_id) == actor.id
    if not prefixes:
        return mine
    outside = (
        select(ActivityUnit.unit_id)
        .join(Unit, col(Unit.id) == col(ActivityUnit.unit_id))
        .where(
            col(ActivityUnit.activity_id) == col(Activity.id),
            sa.not_(sa.or_(*(col(Unit.id_path).startswith(prefix) for prefix in prefixes))),
        )
    )
    return sa.or_(mine, ~outside.exists())


def managed_activity(session: Session, *, actor: Member, activity_id: int) -> Activity:
    """An activity the actor may see the sign-ups of and cancel: their own, or one within their scope.

    Raises:
        NotFound: no such activity.
        PermissionDenied: neither the organiser nor a cadre over all of its units.
    """
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound("activity.not_found", N_("找不到这个活动。"))
    managed = session.exec(
        select(Activity.id).where(Activity.id == activity_id, _managed_condition(session, actor))
    ).first()
    if managed is None:
        raise PermissionDenied("activity.not_yours", N_("抱歉，这个活动不在您负责的范围内。"))
    return activity


def activities_managed_by(
    session: Session, *, actor: Member, offset: int = 0, limit: int | None = 5
) -> tuple[list[Activity], int]:
    """One page of the activities the actor may manage, newest first, and how many in all.

    Those they organised, and those of other organisers wholly within their subtree
    (a plant chair looks after the workshops' activities too).
    """
    managed = _managed_condition(session, actor)
    total = session.exec(select(func.count()).select_from(Activity).where(managed)).one()
    page = session.exec(
        select(Activity).where(managed).order_by(col(Activity.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(page), int(total)


def signups_of(
    session: Session, *, actor: Member, activity_id: int, status: SignupStatus = SignupStatus.SIGNED_UP
) -> list[Attendee]:
    """Who is signed up (or, by ``status``, waiting), in the order they asked, with 工号 and unit:
    the cadre's list.

    Raises:
        NotFound: no such activity.
        PermissionDenied: neither the organiser nor a cadre over all of its units.
    """
    managed_activity(session, actor=actor, activity_id=activity_id)
    rows = session.exec(
        select(ActivitySignup, Member)
        .join(Member, col(Member.id) == col(ActivitySignup.member_id))
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == status)
        .order_by(col(ActivitySignup.queue_no), col(ActivitySignup.id))
    ).all()
    units = {unit.id: unit for unit in session.exec(select(Unit))}
    paths = {unit_id: _path(units, unit) for unit_id, unit in units.items()}
    numbers = {batch.id: batch.number for batch in batches_of(session, activity_id)}
    return [
        Attendee(
            member,
            paths[member.unit_id],
            signup.signed_up_at,
            signup.attended_at,
            signup.answer,
            numbers.get(signup.batch_id) if signup.batch_id is not None else None,
        )
        for signup, member in rows
    ]


def _path(units: dict[int | None, Unit], unit: Unit) -> str:
    ids = [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    return PATH_SEPARATOR.join(units[i].name for i in ids)


def signed_up_members(session: Session, activity_id: int, *, waiting_too: bool = False) -> list[int]:
    """The active members signed up now (and those waiting, when asked), by id: whom news reaches."""
    statuses = [SignupStatus.SIGNED_UP, *([SignupStatus.WAITLISTED] if waiting_too else [])]
    rows = session.exec(
        select(ActivitySignup.member_id)
        .join(Member, col(Member.id) == col(ActivitySignup.member_id))
        .where(
            ActivitySignup.activity_id == activity_id,
            col(ActivitySignup.status).in_(statuses),
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(col(ActivitySignup.member_id))
    )
    return list(rows)


def cancelled_key(activity_id: int, member_id: int) -> str:
    return f"activity:{activity_id}:cancelled:member:{member_id}"


def check_cancel_reason(reason: str | None) -> str | None:
    """The reason as it will be told, trimmed; None for none. Refused, naming the limit, when too long.

    Raises:
        InvalidInput: ``activity.reason_too_long``.
    """
    if reason is None or not reason.strip():
        return None
    if (count := visible_length(reason.strip())) > CANCEL_REASON_MAX:
        raise InvalidInput(
            "activity.reason_too_long",
            N_("取消原因太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
            limit=CANCEL_REASON_MAX,
            count=count,
        )
    return reason.strip()


def cancel_activity(
    session: Session, *, actor: Member, activity_id: int, now: datetime, reason: str | None = None
) -> int:
    """Call an activity off and queue the news to everyone signed up, with the reason, in one transaction.

    Returns:
        How many members will be told.

    Raises:
        NotFound: no such activity.
        PermissionDenied: neither the organiser nor a cadre over all of its units.
        InvalidInput: ``activity.already_cancelled``, ``activity.already_started`` or
            ``activity.reason_too_long``.
    """
    activity = locked_activity(session, managed_activity(session, actor=actor, activity_id=activity_id).id)
    reason = check_cancel_reason(reason)
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.already_cancelled", N_("这个活动已经取消了。"))
    if activity.starts_at <= now:
        raise InvalidInput("activity.already_started", N_("这个活动已经开始了，不能再取消。"))
    transition(activity, ActivityStatus.CANCELLED)
    activity.cancelled_at = now
    activity.cancel_reason = reason
    session.add(activity)
    members = signed_up_members(session, activity_id, waiting_too=True)
    enqueue(
        session,
        [
            NewPush(
                key=cancelled_key(activity_id, member_id),
                member_id=member_id,
                kind=PushKind.STATUS,
                topic=CANCELLED_TOPIC,
                subject_id=activity_id,
            )
            for member_id in members
        ],
        now=now,
    )
    session.flush()
    return len(members)


REMOVE_REASON_MAX = 100


def removed_key(activity_id: int, member_id: int, queue_no: int) -> str:
    return f"activity:{activity_id}:removed:member:{member_id}:{queue_no}"


def remove_signup(
    session: Session, *, actor: Member, activity_id: int, member_id: int, reason: str, now: datetime
) -> None:
    """The organiser takes a member off the list (or the waitlist), telling them why.

    A place freed goes to the first member waiting, as when a member cancels.

    Raises:
        NotFound, PermissionDenied: as :func:`managed_activity`.
        InvalidInput: ``activity.not_signed_up`` (not on the list), ``activity.reason_missing``
            or ``activity.reason_too_long``, ``activity.cancelled``, ``activity.already_started``.
    """
    activity = locked_activity(session, managed_activity(session, actor=actor, activity_id=activity_id).id)
    said = (reason or "").strip()
    if not said:
        raise InvalidInput("activity.reason_missing", N_("请说明移除的原因，会告诉这位会员。"))
    count = visible_length(said)
    if count > REMOVE_REASON_MAX:
        raise InvalidInput(
            "activity.reason_too_long",
            N_("原因太长了：最多 {limit} 个字，您写了 {count} 个字。请精简后重新发送。"),
            limit=REMOVE_REASON_MAX,
            count=count,
        )
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.cancelled", N_("很抱歉，这个活动已经取消了。"))
    if activity.starts_at <= now:
        raise InvalidInput("activity.already_started", N_("这个活动已经开始了，名单不能再改。"))
    signup = session.exec(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.member_id == member_id
        )
    ).first()
    if signup is None or signup.status not in (SignupStatus.SIGNED_UP, SignupStatus.WAITLISTED):
        raise InvalidInput("activity.not_signed_up", N_("这位会员不在报名名单上。"))
    freed = signup.status is SignupStatus.SIGNED_UP
    transition_signup(signup, SignupStatus.REMOVED)
    signup.cancelled_at, signup.removed_reason = now, said
    session.add(signup)
    enqueue(
        session,
        [
            NewPush(
                key=removed_key(activity_id, member_id, signup.queue_no),
                member_id=member_id,
                kind=PushKind.STATUS,
                topic=REMOVED_TOPIC,
                subject_id=activity_id,
            )
        ],
        now=now,
    )
    session.flush()
    if freed:
        promote_waiting(session, activity, now, signup.batch_id)
        session.flush()
