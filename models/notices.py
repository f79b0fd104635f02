"""Notices (通知公告) and openness posts (厂务公开, 会费使用公开): what a cadre sends to their units.

A notice fixes its recipients when it is queued: the active members of its
target at that moment, one row each in ``notice_recipient``. Members who join
the unit later do not get it, members who leave keep it in their list, and
the cadre's report counts the same people the preview promised. With the
notice come, in the same transaction, one outbox row per recipient and one
progress row to the author, all due at the send time; withdrawing before then
withdraws the rows, so nothing goes out.

The author (or a cadre over all of its units) sees who has not read it and may
remind them: each round of reminders is numbered on the notice and keys its
pushes, so a round goes once however often it is confirmed.

Targets are a kind plus its data: units, a role within the cadre's units, or
an activity the cadre manages (the members signed up for it when the notice is
queued). A new kind is one more :class:`TargetKind` and one more branch in
:func:`_target_units` and :func:`_target_members`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.activities import activity_units, managed_activity, signed_up_members
from models.base import UTCDateTime, string_enum, utcnow
from models.base import visible_length as visible_length  # counted here first; activities count alike
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from models.outbox import (
    NewPush,
    Outbox,
    OutboxStatus,
    Outcome,
    PushKind,
    enqueue,
    outcome_counts,
    outcome_of,
    rearm,
    status_counts,
    withdraw,
)
from models.reach import Reach, plan_reach
from models.roles import Permission, Role, RoleGrant, has_permission, scope_units
from models.roster import employee_no_key
from models.units import Unit, UnitTree, ordered_units, unit_path

TITLE_MAX = 40
# Under Telegram's 4,096-character message, with room for the title and the category.
BODY_MAX = 2000
MB = 1024 * 1024
# Telegram sends photos up to 10 MB and WeChat takes images up to 10 MB: one limit serves both.
IMAGE_MAX_BYTES = 10 * MB
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
# Telegram's limit for a document a bot sends; WeChat cannot send files to members at all.
FILE_MAX_BYTES = 50 * MB
# A notice scheduled further ahead than this is more likely a typo in the year than a plan.
SCHEDULE_AHEAD_MAX = timedelta(days=90)
# While a notice goes out, the author's progress message is refreshed when both this long has
# passed and this share of the recipients has been settled since it last showed (whichever is later).
PROGRESS_INTERVAL = timedelta(seconds=10)
PROGRESS_STEP = 0.1

TOPIC = "notice"
PROGRESS_TOPIC = "notice_progress"
REMINDER_TOPIC = "notice_reminder"


class NoticeCategory(StrEnum):
    """Where a notice is listed: the notices, or one of the openness headings."""

    NOTICE = "notice"  # 通知公告
    FACTORY_AFFAIRS = "factory_affairs"  # 厂务公开
    DUES_USE = "dues_use"  # 会费使用公开


CATEGORY_LABELS: dict[NoticeCategory, str] = {
    NoticeCategory.NOTICE: N_("通知公告"),
    NoticeCategory.FACTORY_AFFAIRS: N_("厂务公开"),
    NoticeCategory.DUES_USE: N_("会费使用公开"),
}


class TargetKind(StrEnum):
    UNITS = "units"  # everyone in these units' subtrees
    ROLE = "role"  # the holders of a role (职工代表) in these units' subtrees
    ACTIVITY = "activity"  # the members signed up for an activity


class NoticeStatus(StrEnum):
    QUEUED = "queued"  # its pushes are queued (due now or at the send time)
    WITHDRAWN = "withdrawn"  # withdrawn before it went out


TRANSITIONS: dict[NoticeStatus, frozenset[NoticeStatus]] = {
    NoticeStatus.QUEUED: frozenset({NoticeStatus.WITHDRAWN}),
    NoticeStatus.WITHDRAWN: frozenset(),
}


class AttachmentKind(StrEnum):
    IMAGE = "image"  # shown in the chat on Telegram and WeChat
    FILE = "file"  # sent as a document on Telegram; WeChat cannot send it


class Notice(SQLModel, table=True):
    """A notice as the cadre composed it, and where it stands.

    ``unit_id`` is the highest unit of the target: the sender a WeChat template names.
    """

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="member.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    category: NoticeCategory = Field(sa_type=string_enum(NoticeCategory, 24))
    status: NoticeStatus = Field(default=NoticeStatus.QUEUED, sa_type=string_enum(NoticeStatus, 16))
    # Lengths are counted as members count characters; an emoji may take several code points.
    title: str = Field(max_length=400)
    body: str = Field(sa_type=sa.Text)
    target_kind: TargetKind = Field(sa_type=string_enum(TargetKind, 16))
    target_unit_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON())
    target_role: Role | None = Field(default=None, sa_type=string_enum(Role, 24))
    target_activity_id: int | None = Field(default=None, foreign_key="activity.id")
    attachment_kind: AttachmentKind | None = Field(default=None, sa_type=string_enum(AttachmentKind, 16))
    attachment_ref: str | None = Field(default=None, max_length=512)
    attachment_mime: str | None = Field(default=None, max_length=128)
    attachment_size: int | None = Field(default=None)
    attachment_name: str | None = Field(default=None, max_length=255)
    send_at: datetime = Field(sa_type=UTCDateTime, index=True)
    recipient_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set once every push has an outcome and the author's final report was queued.
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Rounds of reminders sent to those who had not read it; a round's pushes are keyed by its number.
    reminder_rounds: int = Field(default=0, sa_column_kwargs={"server_default": sa.text("0")})
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeRecipient(SQLModel, table=True):
    """One member a notice was addressed to; ``read_at`` once they confirmed reading it."""

    __tablename__ = "notice_recipient"

    notice_id: int = Field(foreign_key="notice.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Attachment:
    """An image or file the cadre sent with the notice; ``ref`` is a path the channels can send."""

    kind: AttachmentKind
    ref: str
    mime_type: str | None = None
    size: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Target:
    """Whom a notice goes to; an activity target needs no units (they are the activity's)."""

    kind: TargetKind
    unit_ids: tuple[int, ...]
    role: Role | None = None
    activity_id: int | None = None


@dataclass(frozen=True)
class NoticeDraft:
    """What the cadre composed, not yet checked; ``send_at`` None means now."""

    title: str
    body: str
    category: NoticeCategory
    target: Target
    send_at: datetime | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class NoticePreview:
    """The figures a cadre sees before confirming.

    Attributes:
        recipients: how many members the notice goes to.
        reach: how many of them each way (Telegram, WeChat service or template, none).
        template_quota: the WeChat template messages allowed a day (settings).
        over_quota: this notice alone needs more template messages than that.
        file_unsent: recipients reached on WeChat, which cannot send them the attached file.
    """

    recipients: int
    reach: dict[Reach, int]
    template_quota: int
    over_quota: bool
    file_unsent: int


@dataclass(frozen=True)
class NoticeReport:
    """How a notice went: the author's final report, and the read report.

    ``outcomes`` counts the pushes by what became of them, in the words ``outbox status``
    uses too (:class:`~models.outbox.Outcome`); ``reminders`` is how many rounds of
    reminders went to those who had not read it.
    """

    total: int
    outcomes: Mapping[Outcome, int] = field(default_factory=dict)
    read: int = 0
    reminders: int = 0
    reminded_at: datetime | None = None

    def count(self, outcome: Outcome) -> int:
        return self.outcomes.get(outcome, 0)

    @property
    def sent(self) -> int:
        return self.count(Outcome.SENT)

    @property
    def failed(self) -> int:
        return self.count(Outcome.FAILED)

    @property
    def no_account(self) -> int:
        return self.count(Outcome.NO_ACCOUNT)

    @property
    def blocked(self) -> int:
        return self.count(Outcome.BLOCKED)

    @property
    def uncertain(self) -> int:
        return self.count(Outcome.UNCERTAIN)

    @property
    def pending(self) -> int:
        return self.count(Outcome.WAITING)

    @property
    def withdrawn(self) -> int:
        return self.count(Outcome.WITHDRAWN)

    @property
    def done(self) -> int:
        """Pushes with an outcome: what "已发送 n / total" counts."""
        return sum(self.outcomes.values()) - self.pending - self.withdrawn

    @property
    def finished(self) -> bool:
        return self.pending == 0


def _check_text(title: str, body: str) -> None:
    if not title.strip():
        raise InvalidInput("notice.title_empty", N_("标题不能为空，请重新输入。"))
    if (count := visible_length(title)) > TITLE_MAX:
        raise InvalidInput(
            "notice.title_too_long",
            N_("标题太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
            limit=TITLE_MAX,
            count=count,
        )
    if not body.strip():
        raise InvalidInput("notice.body_empty", N_("正文不能为空，请重新输入。"))
    if (count := visible_length(body)) > BODY_MAX:
        raise InvalidInput(
            "notice.body_too_long",
            N_("正文太长了：最多 {limit} 个字，现在是 {count} 个字。请精简，或分成几条通知发送。"),
            limit=BODY_MAX,
            count=count,
        )


def check_attachment(attachment: Attachment) -> None:
    """Refuse what a channel would refuse: the wrong image type, or too large.

    Raises:
        InvalidInput: ``notice.image_type``, ``notice.image_too_large`` or ``notice.file_too_large``.
    """
    size = attachment.size or 0
    if attachment.kind is AttachmentKind.IMAGE:
        if attachment.mime_type is not None and attachment.mime_type not in IMAGE_TYPES:
            raise InvalidInput("notice.image_type", N_("图片只能是 JPG、PNG 或 GIF 格式。"))
        if size > IMAGE_MAX_BYTES:
            raise InvalidInput(
                "notice.image_too_large",
                N_("图片太大了：最大 {limit} MB。请压缩后重新发送。"),
                limit=IMAGE_MAX_BYTES // MB,
            )
    elif size > FILE_MAX_BYTES:
        raise InvalidInput(
            "notice.file_too_large",
            N_("文件太大了：最大 {limit} MB。请压缩或拆分后重新发送。"),
            limit=FILE_MAX_BYTES // MB,
        )


def check_send_time(send_at: datetime | None, now: datetime) -> None:
    """Refuse a send time that has passed (nothing can be sent into the past) or is months away.

    Raises:
        InvalidInput: ``notice.send_time_past`` or ``notice.send_time_far``.
    """
    if send_at is None:
        return
    if send_at <= now:
        raise InvalidInput("notice.send_time_past", N_("这个发送时间已经过去了，请输入一个以后的时间。"))
    if send_at - now > SCHEDULE_AHEAD_MAX:
        raise InvalidInput(
            "notice.send_time_far",
            N_("发送时间最多只能定在 {days} 天以内。"),
            days=SCHEDULE_AHEAD_MAX.days,
        )


def notice_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose subtrees ``actor`` may send notices to, highest first, nested ones left out.

    Raises:
        PermissionDenied: the actor may not send notices anywhere.
    """
    units = scope_units(session, actor, Permission.SEND_NOTICES) if actor.is_active else []
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied("notice.not_allowed", N_("抱歉，只有负责发通知的工会干部才能发通知。"))
    unique = {unit.id: unit for unit in tops}
    return sorted(unique.values(), key=lambda unit: unit.id_path)


def _target_units(session: Session, actor: Member, target: Target) -> list[Unit]:
    """The target's units, each checked against the actor's scope; an activity's, if they manage it."""
    notice_scope(session, actor)
    if target.kind is TargetKind.ACTIVITY:
        if target.activity_id is None:
            raise InvalidInput("notice.no_activity", N_("请选择活动。"))
        managed_activity(session, actor=actor, activity_id=target.activity_id)
        return activity_units(session, target.activity_id)
    if not target.unit_ids:
        raise InvalidInput("notice.no_units", N_("请至少选择一个单位。"))
    units = []
    for unit_id in dict.fromkeys(target.unit_ids):
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("unit.not_found", N_("找不到这个单位。"))
        if not has_permission(session, actor, Permission.SEND_NOTICES, unit):
            raise PermissionDenied(
                "notice.out_of_scope",
                N_("“{unit}”不在您负责的范围内，只能向您负责的单位发通知。"),
                unit=unit_path(session, unit),
            )
        units.append(unit)
    if target.kind is TargetKind.ROLE and target.role is None:
        raise InvalidInput("notice.no_role", N_("请选择职务。"))
    return units


def _target_members(session: Session, units: Iterable[Unit], target: Target) -> list[int]:
    """The active members the target covers now, by id."""
    if target.kind is TargetKind.ACTIVITY:
        assert target.activity_id is not None
        return signed_up_members(session, target.activity_id)
    prefixes = [unit.id_path for unit in units]
    query = (
        select(Member.id)
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(
            Member.status == MemberStatus.ACTIVE,
            sa.or_(*(col(Unit.id_path).startswith(prefix) for prefix in prefixes)),
        )
    )
    if target.kind is TargetKind.ROLE:
        holders = select(RoleGrant.member_id).where(RoleGrant.role == target.role)
        query = query.where(col(Member.id).in_(holders))
    return [member_id for member_id in session.exec(query.order_by(col(Member.id))) if member_id is not None]


def target_recipients(session: Session, *, actor: Member, target: Target) -> list[int]:
    """Who a target reaches now, after checking the actor may send to it.

    Raises:
        PermissionDenied: the actor may not send notices, or a unit is outside their subtree.
        InvalidInput: ``notice.no_recipients``, the target holds no active member.
    """
    members = _target_members(session, _target_units(session, actor, target), target)
    if not members:
        if target.kind is TargetKind.ACTIVITY:
            raise InvalidInput("notice.no_recipients", N_("这个活动目前还没有人报名，请换一个发送对象。"))
        raise InvalidInput("notice.no_recipients", N_("这个范围里目前没有在册会员，请换一个发送对象。"))
    return members


def check_notice(session: Session, *, actor: Member, draft: NoticeDraft, now: datetime) -> list[int]:
    """Check everything about a draft before anything is queued; return its recipients.

    Raises:
        PermissionDenied: not allowed to send notices, or a target unit outside the actor's subtree.
        InvalidInput: empty or over-long title or body, an attachment a channel refuses,
            a send time in the past or too far ahead, a target with no members.
    """
    recipients = target_recipients(session, actor=actor, target=draft.target)
    _check_text(draft.title, draft.body)
    if draft.attachment is not None:
        check_attachment(draft.attachment)
    check_send_time(draft.send_at, now)
    return recipients


def preview_notice(
    session: Session,
    *,
    actor: Member,
    draft: NoticeDraft,
    now: datetime,
    template_kinds: Collection[str],
    template_quota: int,
) -> NoticePreview:
    """The recipients and how each would be reached now, with what the channels cannot do.

    Raises:
        The errors of :func:`check_notice`.
    """
    recipients = check_notice(session, actor=actor, draft=draft, now=now)
    plan = plan_reach(session, recipients, kind=PushKind.NOTICE, now=now, template_kinds=template_kinds)
    reach = {way: 0 for way in Reach}
    for way in plan.values():
        reach[way] += 1
    wechat = reach[Reach.WECHAT_SERVICE] + reach[Reach.WECHAT_TEMPLATE]
    has_file = draft.attachment is not None and draft.attachment.kind is AttachmentKind.FILE
    return NoticePreview(
        recipients=len(recipients),
        reach=reach,
        template_quota=template_quota,
        over_quota=reach[Reach.WECHAT_TEMPLATE] > template_quota,
        file_unsent=wechat if has_file else 0,
    )


def member_key(notice_id: int, member_id: int) -> str:
    return f"notice:{notice_id}:member:{member_id}"


def progress_key(notice_id: int) -> str:
    return f"notice:{notice_id}:progress"


def create_notice(session: Session, *, actor: Member, draft: NoticeDraft, now: datetime) -> Notice:
    """Record a notice and queue it to every recipient (and the author's progress), in one transaction.

    Raises:
        The errors of :func:`check_notice`; nothing is written then.
    """
    recipients = check_notice(session, actor=actor, draft=draft, now=now)
    units = _target_units(session, actor, draft.target)
    assert actor.id is not None
    top = min(units, key=lambda unit: len(unit.id_path))
    assert top.id is not None
    attachment = draft.attachment
    notice = Notice(
        author_id=actor.id,
        unit_id=top.id,
        category=draft.category,
        title=draft.title.strip(),
        body=draft.body.strip(),
        target_kind=draft.target.kind,
        target_unit_ids=[unit.id for unit in units if unit.id is not None],
        target_role=draft.target.role,
        target_activity_id=draft.target.activity_id,
        attachment_kind=attachment.kind if attachment else None,
        attachment_ref=attachment.ref if attachment else None,
        attachment_mime=attachment.mime_type if attachment else None,
        attachment_size=attachment.size if attachment else None,
        attachment_name=attachment.name if attachment else None,
        send_at=draft.send_at or now,
        recipient_count=len(recipients),
        created_at=now,
    )
    session.add(notice)
    session.flush()
    notice_id = notice.id
    assert notice_id is not None
    table = NoticeRecipient.__table__  # type: ignore[attr-defined]
    rows = [{"notice_id": notice_id, "member_id": member_id} for member_id in recipients]
    for start in range(0, len(rows), 1000):
        session.execute(sa.insert(table), rows[start : start + 1000])
    pushes = [
        NewPush(
            key=member_key(notice_id, member_id),
            member_id=member_id,
            kind=PushKind.NOTICE,
            topic=TOPIC,
            subject_id=notice_id,
            due_at=notice.send_at,
        )
        for member_id in recipients
    ]
    pushes.append(
        NewPush(
            key=progress_key(notice_id),
            member_id=actor.id,
            kind=PushKind.NOTICE,
            topic=PROGRESS_TOPIC,
            subject_id=notice_id,
            urgent=True,
            due_at=notice.send_at,
        )
    )
    enqueue(session, pushes, now=now)
    return notice


def transition(notice: Notice, to: NoticeStatus) -> None:
    if to not in TRANSITIONS[notice.status]:
        raise ValueError(f"a {notice.status} notice cannot become {to}")
    notice.status = to


def _managed(session: Session, actor: Member, notice_id: int) -> Notice:
    """A notice the actor may withdraw and report on: their own, or one wholly within their scope."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("notice.not_found", N_("找不到这条通知。"))
    if notice.author_id == actor.id and actor.is_active:
        return notice
    for unit_id in notice.target_unit_ids:
        unit = session.get(Unit, unit_id)
        if unit is None or not has_permission(session, actor, Permission.SEND_NOTICES, unit):
            raise PermissionDenied("notice.not_yours", N_("抱歉，这条通知不在您负责的范围内。"))
    return notice


def can_withdraw(session: Session, notice: Notice, now: datetime) -> bool:
    """Whether no push of the notice has gone out or been taken by a worker yet."""
    if notice.status is NoticeStatus.WITHDRAWN or notice.send_at <= now:
        return False
    assert notice.id is not None
    counts = status_counts(session, topic=TOPIC, subject_id=notice.id)
    return all(status is OutboxStatus.QUEUED for status in counts)


def is_going_out(session: Session, notice: Notice) -> bool:
    """Whether some of the notice's pushes still wait for a worker or are on their way."""
    assert notice.id is not None
    counts = status_counts(session, topic=TOPIC, subject_id=notice.id)
    waiting = (OutboxStatus.QUEUED, OutboxStatus.CLAIMED, OutboxStatus.SENDING)
    return any(counts.get(status) for status in waiting)


def withdraw_notice(session: Session, *, actor: Member, notice_id: int, now: datetime) -> int:
    """Withdraw a scheduled notice before it goes; nobody receives it or finds it in their list.

    Returns:
        How many members' pushes were withdrawn.

    Raises:
        NotFound: no such notice.
        PermissionDenied: not the author, nor a cadre over all of its units.
        InvalidInput: ``notice.already_withdrawn``, or ``notice.already_sent`` once it started going out.
    """
    notice = _managed(session, actor, notice_id)
    if notice.status is NoticeStatus.WITHDRAWN:
        raise InvalidInput("notice.already_withdrawn", N_("这条通知已经撤回了。"))
    if not can_withdraw(session, notice, now):
        raise InvalidInput("notice.already_sent", N_("这条通知已经开始发送，不能再撤回了。"))
    withdrawn = withdraw(session, topic=TOPIC, subject_id=notice_id)
    withdraw(session, topic=PROGRESS_TOPIC, subject_id=notice_id)
    transition(notice, NoticeStatus.WITHDRAWN)
    notice.withdrawn_at = now
    session.add(notice)
    session.flush()
    return withdrawn


def _visible_to(member: Member, now: datetime) -> Any:
    """The condition for the notices a member may read: addressed to them, not withdrawn, due."""
    return sa.and_(
        col(Notice.id).in_(select(NoticeRecipient.notice_id).where(NoticeRecipient.member_id == member.id)),
        col(Notice.status) == NoticeStatus.QUEUED,
        col(Notice.send_at) <= now,
    )


def list_notices(
    session: Session,
    *,
    member: Member,
    category: NoticeCategory,
    now: datetime,
    offset: int = 0,
    limit: int = 5,
) -> tuple[list[Notice], int]:
    """One page of the notices addressed to a member under one heading, newest first, and how many in all."""
    visible = sa.and_(_visible_to(member, now), col(Notice.category) == category)
    total = session.exec(select(func.count()).select_from(Notice).where(visible)).one()
    page = session.exec(
        select(Notice)
        .where(visible)
        .order_by(col(Notice.send_at).desc(), col(Notice.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(page), int(total)


def category_counts(session: Session, *, member: Member, now: datetime) -> dict[NoticeCategory, int]:
    """How many notices a member can read under each heading."""
    rows = session.exec(
        select(Notice.category, func.count()).where(_visible_to(member, now)).group_by(col(Notice.category))
    ).all()
    return {NoticeCategory(category): count for category, count in rows}


def mark_notice_read(session: Session, *, member: Member, notice_id: int, now: datetime) -> bool:
    """Record that a member read a notice addressed to them (已阅); reading twice keeps the first time.

    Returns:
        Whether this was the first time.

    Raises:
        NotFound: the notice was not addressed to the member, or was withdrawn.
    """
    read_notice(session, member=member, notice_id=notice_id, now=now)
    result = session.execute(
        sa.update(NoticeRecipient)
        .where(
            col(NoticeRecipient.notice_id) == notice_id,
            col(NoticeRecipient.member_id) == member.id,
            col(NoticeRecipient.read_at).is_(None),
        )
        .values(read_at=now)
    )
    return int(result.rowcount) > 0  # type: ignore[attr-defined]


def read_notice(session: Session, *, member: Member, notice_id: int, now: datetime) -> Notice:
    """A notice addressed to the member, in full.

    Raises:
        NotFound: not addressed to them, withdrawn, or not due yet.
    """
    notice = session.exec(select(Notice).where(Notice.id == notice_id, _visible_to(member, now))).first()
    if notice is None:
        raise NotFound("notice.not_found", N_("找不到这条通知，它可能已经撤回了。"))
    return notice


def authored_notices(
    session: Session, *, actor: Member, offset: int = 0, limit: int = 5
) -> tuple[list[Notice], int]:
    """One page of the notices the actor wrote, newest first, and how many in all."""
    mine = Notice.author_id == actor.id
    total = session.exec(select(func.count()).select_from(Notice).where(mine)).one()
    page = session.exec(
        select(Notice).where(mine).order_by(col(Notice.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(page), int(total)


def managed_notice(session: Session, *, actor: Member, notice_id: int) -> Notice:
    """A notice the actor may withdraw or see the report of.

    Raises:
        NotFound: no such notice.
        PermissionDenied: not the author, nor a cadre over all of its units.
    """
    return _managed(session, actor, notice_id)


def _report(session: Session, notice: Notice) -> NoticeReport:
    assert notice.id is not None
    outcomes = outcome_counts(session, col(Outbox.topic) == TOPIC, col(Outbox.subject_id) == notice.id)
    read = session.exec(
        select(func.count())
        .select_from(NoticeRecipient)
        .where(NoticeRecipient.notice_id == notice.id, col(NoticeRecipient.read_at).is_not(None))
    ).one()
    return NoticeReport(
        total=notice.recipient_count,
        outcomes=outcomes,
        read=int(read),
        reminders=notice.reminder_rounds,
        reminded_at=notice.reminded_at,
    )


def notice_report(session: Session, *, actor: Member, notice_id: int) -> tuple[Notice, NoticeReport]:
    """How a notice went so far: sent, failed and why, still waiting, read.

    Raises:
        NotFound: no such notice.
        PermissionDenied: not the author, nor a cadre over all of its units.
    """
    notice = _managed(session, actor, notice_id)
    return notice, _report(session, notice)


def progress_of(session: Session, notice_id: int) -> tuple[Notice, NoticeReport] | None:
    """The figures for the author's progress message, or None when there is nothing to report any more."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.status is NoticeStatus.WITHDRAWN:
        return None
    return notice, _report(session, notice)


def refresh_progress(session: Session, notice_ids: Collection[int], now: datetime) -> list[int]:
    """Re-queue the authors' progress messages: every 10 % or 10 s, whichever is later, and at the end.

    The count settled when the message was last re-queued is kept in its row's params, so the
    10 % are counted from what the author was last shown, not from the start.

    Returns:
        The notices whose progress message was re-queued.
    """
    refreshed = []
    for notice_id in sorted(notice_ids):
        notice = session.get(Notice, notice_id)
        if notice is None or notice.status is NoticeStatus.WITHDRAWN or notice.completed_at is not None:
            continue
        report = _report(session, notice)
        key = progress_key(notice_id)
        if report.finished:
            # Only once the final report is sure to be rendered: a progress message already taken
            # by a worker may have been rendered before the last pushes were recorded. Its own
            # batch calls this again (after_batch of the progress topic), and then it re-arms.
            if rearm(session, key=key, now=now, params={"done": report.done}):
                notice.completed_at = now
                session.add(notice)
                refreshed.append(notice_id)
            continue
        found = session.exec(select(Outbox.sent_at, Outbox.params).where(Outbox.key == key)).first()
        last, shown = (found[0], int((found[1] or {}).get("done", 0))) if found else (None, 0)
        step = max(1, math.ceil(report.total * PROGRESS_STEP))
        due = last is None or (now - last >= PROGRESS_INTERVAL and report.done - shown >= step)
        if due and rearm(session, key=key, now=now, params={"done": report.done}):
            refreshed.append(notice_id)
    session.flush()
    return refreshed


def units_in_scope(session: Session, actor: Member) -> Sequence[Unit]:
    """Every unit the actor may send notices to, in tree order: what a cadre picks targets from."""
    tops = notice_scope(session, actor)
    condition = sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in tops))
    return ordered_units(session, session.exec(select(Unit).where(condition)).all())


# -- who has not read it, and a reminder to them ---------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One member a notice went to, as the cadre's unread list shows them."""

    member_id: int
    name: str
    employee_no: str
    unit: str


@dataclass(frozen=True)
class ReminderPlan:
    """What a reminder would do, shown before the cadre confirms it.

    Attributes:
        round: the number this round of reminders takes; its pushes are keyed by it.
        members: the members who have not read the notice and are still 在册.
        unreachable: how many of them no account can take a push to now.
    """

    round: int
    members: int
    unreachable: int


@dataclass(frozen=True)
class Reminded:
    """What :func:`remind_unread` did: ``queued`` reminders in ``round``; ``already`` when it went before."""

    round: int
    queued: int
    unreachable: int
    already: bool = False


def reminder_key(notice_id: int, round_: int, member_id: int) -> str:
    return f"notice:{notice_id}:reminder:{round_}:member:{member_id}"


def _unread(notice_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(col(NoticeRecipient.notice_id) == notice_id, col(NoticeRecipient.read_at).is_(None))


def unread_recipients(
    session: Session, *, actor: Member, notice_id: int, offset: int = 0, limit: int = 5
) -> tuple[list[Recipient], int]:
    """One page of the members who have not read a notice, by unit in tree order and 工号; and how many.

    Only the notice's own recipients, and only for whoever may see its report.

    Raises:
        NotFound: no such notice.
        PermissionDenied: not the author, nor a cadre over all of its units.
    """
    _managed(session, actor, notice_id)
    if limit <= 0:
        count = session.exec(
            select(func.count()).select_from(NoticeRecipient).where(_unread(notice_id))
        ).one()
        return [], int(count)
    rows = session.execute(
        sa.select(col(Member.id), col(Member.employee_no), col(Member.unit_id))
        .join(NoticeRecipient, col(NoticeRecipient.member_id) == col(Member.id))
        .where(_unread(notice_id))
    ).all()
    tree = UnitTree(session)
    units = {unit.id: unit for unit in session.exec(select(Unit))}
    rows = sorted(rows, key=lambda row: (tree.order_key(units[row[2]]), employee_no_key(row[1])))
    page = [member_id for member_id, _no, _unit in rows[offset : offset + limit]]
    members = {member.id: member for member in session.exec(select(Member).where(col(Member.id).in_(page)))}
    listed = [
        Recipient(
            member_id=member_id,
            name=members[member_id].name,
            employee_no=members[member_id].employee_no,
            unit=tree.path_of(units[members[member_id].unit_id]),
        )
        for member_id in page
    ]
    return listed, len(rows)


def unread_recipient(
    session: Session, *, actor: Member, notice_id: int, member_id: int
) -> tuple[Recipient, Outcome | None]:
    """One member who has not read a notice, and what became of the notice pushed to them.

    Raises:
        NotFound: no such notice, or the member has read it meanwhile or was never a recipient.
        PermissionDenied: not the author, nor a cadre over all of its units.
    """
    _managed(session, actor, notice_id)
    found = session.exec(
        select(Member)
        .join(NoticeRecipient, col(NoticeRecipient.member_id) == col(Member.id))
        .where(_unread(notice_id), col(Member.id) == member_id)
    ).first()
    if found is None:
        raise NotFound("notice.recipient_read", N_("这位会员已经阅读了这条通知。"))
    assert found.id is not None
    push = session.exec(
        select(Outbox.status, Outbox.error).where(Outbox.key == member_key(notice_id, found.id))
    ).first()
    unit = session.get(Unit, found.unit_id)
    assert unit is not None
    recipient = Recipient(found.id, found.name, found.employee_no, unit_path(session, unit))
    return recipient, outcome_of(OutboxStatus(push[0]), push[1]) if push is not None else None


def _reminded_members(session: Session, notice: Notice, now: datetime) -> list[int]:
    """Who a reminder goes to: recipients still 在册 who have not read it, once it has all gone out.

    Raises:
        InvalidInput: ``notice.already_withdrawn``, ``notice.not_sent_yet``, ``notice.still_going_out``
            or ``notice.all_read``.
    """
    if notice.status is NoticeStatus.WITHDRAWN:
        raise InvalidInput("notice.already_withdrawn", N_("这条通知已经撤回了。"))
    if notice.send_at > now:
        raise InvalidInput("notice.not_sent_yet", N_("这条通知还没有发出，发出以后才能提醒。"))
    if is_going_out(session, notice):
        raise InvalidInput("notice.still_going_out", N_("这条通知还在发送，发完以后才能提醒。"))
    assert notice.id is not None
    members = list(
        session.exec(
            select(NoticeRecipient.member_id)
            .join(Member, col(Member.id) == col(NoticeRecipient.member_id))
            .where(_unread(notice.id), Member.status == MemberStatus.ACTIVE)
            .order_by(col(NoticeRecipient.member_id))
        )
    )
    if not members:
        raise InvalidInput("notice.all_read", N_("收到这条通知的会员都已阅读，不用再提醒了。"))
    return members


def _unreachable(
    session: Session, members: Sequence[int], now: datetime, template_kinds: Collection[str]
) -> int:
    plan = plan_reach(session, members, kind=PushKind.NOTICE, now=now, template_kinds=template_kinds)
    return sum(1 for way in plan.values() if way is Reach.NONE)


def plan_reminder(
    session: Session, *, actor: Member, notice_id: int, now: datetime, template_kinds: Collection[str]
) -> ReminderPlan:
    """How many a reminder would go to now, and how many of them cannot be reached: asked before sending.

    Raises:
        NotFound, PermissionDenied: as :func:`notice_report`.
        InvalidInput: the errors of a reminder that cannot go (withdrawn, not sent yet, all read).
    """
    notice = _managed(session, actor, notice_id)
    members = _reminded_members(session, notice, now)
    return ReminderPlan(
        round=notice.reminder_rounds + 1,
        members=len(members),
        unreachable=_unreachable(session, members, now, template_kinds),
    )


def remind_unread(
    session: Session,
    *,
    actor: Member,
    notice_id: int,
    round_: int,
    now: datetime,
    template_kinds: Collection[str],
) -> Reminded:
    """Queue one reminder to each member who has not read the notice, as round ``round_``.

    A round is sent once: the round the cadre confirmed is recorded with a guarded update,
    and its pushes are keyed by it, so a confirmation pressed twice (or on two phones) queues
    nothing the second time and says so. The reminder goes through the outbox like the notice,
    and says nothing to a member who reads the notice before it is sent.

    Raises:
        NotFound, PermissionDenied: as :func:`notice_report`.
        InvalidInput: the errors of :func:`plan_reminder`.
    """
    notice = _managed(session, actor, notice_id)
    members = _reminded_members(session, notice, now)
    taken = session.execute(
        sa.update(Notice)
        .where(col(Notice.id) == notice_id, col(Notice.reminder_rounds) == round_ - 1)
        .values(reminder_rounds=round_, reminded_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if int(taken.rowcount) == 0:  # type: ignore[attr-defined]
        session.refresh(notice)
        if notice.reminder_rounds < round_:
            raise ValueError(f"round {round_} of notice {notice_id} follows no round {round_ - 1}")
        sent = session.exec(
            select(func.count())
            .select_from(Outbox)
            .where(
                Outbox.topic == REMINDER_TOPIC,
                Outbox.subject_id == notice_id,
                col(Outbox.key).startswith(f"notice:{notice_id}:reminder:{round_}:", autoescape=True),
            )
        ).one()
        return Reminded(round=round_, queued=int(sent), unreachable=0, already=True)
    queued = enqueue(
        session,
        [
            NewPush(
                key=reminder_key(notice_id, round_, member_id),
                member_id=member_id,
                kind=PushKind.NOTICE,
                topic=REMINDER_TOPIC,
                subject_id=notice_id,
                params={"round": round_},
            )
            for member_id in members
        ],
        now=now,
    )
    session.flush()
    return Reminded(
        round=round_, queued=queued, unreachable=_unreachable(session, members, now, template_kinds)
    )


def reminder_of(session: Session, notice_id: int, member_id: int) -> Notice | None:
    """The notice a reminder is about, or None when there is nothing to remind of any more.

    Withdrawn, or read by the member since the reminder was queued: the push is dropped.
    """
    notice = session.get(Notice, notice_id)
    if notice is None or notice.status is NoticeStatus.WITHDRAWN:
        return None
    unread = session.exec(
        select(NoticeRecipient.member_id).where(_unread(notice_id), NoticeRecipient.member_id == member_id)
    ).first()
    return notice if unread is not None else None
