"""公示: a period's assistance made public, names masked, after the members concerned were told.

Unions publish what they gave (帮扶资金使用公示) so members can see the money
went where it should. What is published is the least that does that: the name
masked (张*明, 欧阳*明, 张*), the unit, the category and the amount; never the
story, never a note. The steps:

1. an admin *announces* a period (:func:`announce_publication`): the entries are
   fixed from the money given in the period (case help by the case's category,
   a cases campaign's gifts by the campaign's name; a holiday gift to everyone is
   no assistance and is left out), and each member concerned is told by a push
   that says only that a publication including them is coming;
2. for the days the settings give (``publication_notice_days``), a member may
   ask that their line be left out (:func:`withhold_entries`), if the union
   allows it (``publication_may_withhold``);
3. the admin then *publishes* (:func:`publish_publication`): the lines go out as
   one or more openness notices (会费使用公开) to the admin's units, through the
   notices' own rules (:func:`models.notices.create_notice`); the handler words
   the text, this module checks and records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableList
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.audit import record_audit
from models.base import UTCDateTime, string_enum, utcnow
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.hardship.actions import SYSTEM_CHANNEL
from models.hardship.campaigns import CampaignBasis, HardshipCampaign
from models.hardship.cases import HardshipCase, HardshipCategory, HardshipDisbursement
from models.hardship.policy import HardshipPolicy
from models.members import Member
from models.notices import BODY_MAX, NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.notices import TOPIC as NOTICES_TOPIC
from models.outbox import NewPush, PushKind, enqueue
from models.periods import Period, parse_period
from models.roles import Permission, scope_units
from models.units import Unit, ordered_units

NOTICE_TOPIC = "hardship_publication"
"""The push telling a member a publication including them is coming (no amount, no category)."""

NOTICE_CATEGORY = NoticeCategory.DUES_USE
# The topic of the notices a 公示 goes out as: the hardship module declares that it queues them.
NOTICE_TOPIC_OF_NOTICES: str = NOTICES_TOPIC
PERIOD_KEY_MAX = 16
MASKED_MAX = 20
LABEL_MAX = 40

# Compound surnames (复姓) keep both characters: 欧阳*明, not 欧**明.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
        "夏侯", "轩辕", "令狐", "钟离", "端木", "南宫", "西门", "百里", "呼延", "澹台", "公冶", "宗政",
        "濮阳", "淳于", "单于", "太叔", "申屠", "仲孙", "闻人", "赫连", "万俟", "东郭", "拓跋", "独孤",
        "第五", "司空", "左丘", "亓官", "司寇", "子车", "颛孙", "壤驷", "公良", "漆雕", "乐正", "谷梁",
        "梁丘", "段干", "巫马", "公西", "羊舌", "微生", "东门", "公羊", "歐陽", "司馬", "諸葛", "東方",
        "尉遲", "公孫", "長孫", "軒轅", "鍾離", "南宮", "西門", "澹臺", "濮陽", "淳於", "單於", "仲孫",
        "聞人", "赫連", "東郭", "獨孤", "顓孫",
    ]
)  # fmt: skip


def mask_name(name: str) -> str:
    """A name as a 公示 shows it: the surname and the last character, the middle masked.

    张三 → 张*, 张三明 → 张*明, 张小三明 → 张**明, 欧阳明 → 欧阳*, 欧阳小明 → 欧阳*明;
    one character stays as it is masked (*). Spaces inside (a name as a roster spells a
    foreign one) count like any character.
    """
    text = name.strip()
    if len(text) <= 1:
        return "*"
    surname = text[:2] if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else text[:1]
    given = text[len(surname) :]
    if len(given) == 1:
        return surname + "*"
    return surname + "*" * (len(given) - 1) + given[-1]


class PublicationStatus(StrEnum):
    NOTIFIED = "notified"  # the members concerned were told; they may ask to be left out
    PUBLISHED = "published"  # the notices went out
    CANCELLED = "cancelled"  # the admin dropped it before publishing


TRANSITIONS: dict[PublicationStatus, frozenset[PublicationStatus]] = {
    PublicationStatus.NOTIFIED: frozenset({PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED}),
    PublicationStatus.PUBLISHED: frozenset(),
    PublicationStatus.CANCELLED: frozenset(),
}


class HardshipPublication(SQLModel, table=True):
    """A period's 公示, from the members being told to the notices going out."""

    __tablename__ = "hardshippublication"

    id: int | None = Field(default=None, primary_key=True)
    period_key: str = Field(max_length=PERIOD_KEY_MAX, index=True)
    # The admin's unit: the entries are its subtree's, the notices go to its members.
    unit_id: int = Field(foreign_key="unit.id")
    status: PublicationStatus = Field(
        default=PublicationStatus.NOTIFIED, sa_type=string_enum(PublicationStatus, 16)
    )
    created_by_id: int = Field(foreign_key="member.id")
    notified_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The earliest it may go out: the members concerned had this long to ask to be left out.
    publish_from: datetime = Field(sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notice_ids: list[int] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))


class HardshipPublicationEntry(SQLModel, table=True):
    """One line of a 公示: a member's assistance of one kind in the period, as it will be shown."""

    __tablename__ = "hardshippublicationentry"

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="hardshippublication.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    masked_name: str = Field(max_length=MASKED_MAX * 4)
    unit_id: int = Field(foreign_key="unit.id")
    # A category's code (HardshipCategory) or, for a campaign's gift, the campaign's id as "campaign:<id>".
    label: str = Field(max_length=LABEL_MAX)
    amount_fen: int = Field(sa_type=sa.BigInteger)
    withheld_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ----------------------------------------------------------------------------- who may


def _admin_units(session: Session, actor: Member) -> list[Unit]:
    """The admin's top units.

    Raises:
        PermissionDenied: the actor is no admin.
    """
    units = scope_units(session, actor, Permission.ADMINISTER) if actor.is_active else []
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied("publication.not_admin", N_("只有管理员可以发布帮扶公示。"))
    return sorted({unit.id: unit for unit in tops}.values(), key=lambda unit: unit.id_path)


def can_publish(session: Session, actor: Member) -> bool:
    return actor.is_active and bool(scope_units(session, actor, Permission.ADMINISTER))


# ----------------------------------------------------------------------------- the entries


@dataclass(frozen=True)
class Line:
    """A line as it would be shown, before it is fixed; the member only to tell them."""

    member_id: int
    masked_name: str
    unit_id: int
    label: str
    amount_fen: int


def _lines(session: Session, root: Unit, period: Period, policy: HardshipPolicy) -> list[Line]:
    """Money given in the period under ``root``, per member and kind: case help and cases campaigns' gifts."""
    start, end = period.first_day, period.end_day
    label = sa.case(
        (col(HardshipDisbursement.case_id).is_not(None), col(HardshipCase.category)),
        else_=sa.literal("campaign:") + sa.cast(col(HardshipDisbursement.campaign_id), sa.String),
    )
    campaign_basis = col(HardshipCampaign.basis)
    query = (
        sa.select(
            col(Member.id),
            col(Member.name),
            col(Member.unit_id),
            label.label("label"),
            func.sum(col(HardshipDisbursement.amount_fen)),
        )
        .select_from(HardshipDisbursement)
        .join(Member, col(Member.id) == col(HardshipDisbursement.member_id))
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .outerjoin(HardshipCase, col(HardshipCase.id) == col(HardshipDisbursement.case_id))
        .outerjoin(HardshipCampaign, col(HardshipCampaign.id) == col(HardshipDisbursement.campaign_id))
        .where(
            col(HardshipDisbursement.given_on) >= start,
            col(HardshipDisbursement.given_on) < end,
            col(HardshipDisbursement.amount_fen) > 0,
            col(Unit.id_path).startswith(root.id_path),
            sa.or_(
                col(HardshipDisbursement.case_id).is_not(None),
                campaign_basis == CampaignBasis.CASES,
            ),
        )
        .group_by(col(Member.id), col(Member.name), col(Member.unit_id), label)
    )
    lines = [
        Line(member_id, mask_name(name), unit_id, str(kind), int(amount))
        for member_id, name, unit_id, kind, amount in session.execute(query)
    ]
    return sorted(lines, key=lambda line: (line.unit_id, line.label, line.masked_name, line.member_id))


@dataclass(frozen=True)
class PublicationPreview:
    period: Period
    unit: Unit
    lines: Sequence[Line]
    members: int
    total_fen: int
    campaigns: dict[int, str]  # campaign names for the labels of campaign gifts


def _campaign_names(session: Session, labels: Sequence[str]) -> dict[int, str]:
    ids = {int(label.split(":")[1]) for label in labels if label.startswith("campaign:")}
    if not ids:
        return {}
    rows = session.exec(select(HardshipCampaign).where(col(HardshipCampaign.id).in_(ids)))
    return {campaign.id: campaign.name for campaign in rows if campaign.id is not None}


def preview_publication(
    session: Session, *, actor: Member, period: Period, policy: HardshipPolicy
) -> PublicationPreview:
    """What announcing the period would fix, for the admin to check first.

    Raises:
        PermissionDenied: the actor is no admin.
    """
    root = _admin_units(session, actor)[0]
    lines = _lines(session, root, period, policy)
    return PublicationPreview(
        period=period,
        unit=root,
        lines=lines,
        members=len({line.member_id for line in lines}),
        total_fen=sum(line.amount_fen for line in lines),
        campaigns=_campaign_names(session, [line.label for line in lines]),
    )


def publication_key(publication_id: int, member_id: int) -> str:
    return f"hardship-publication:{publication_id}:member:{member_id}"


def announce_publication(
    session: Session, *, actor: Member, period: Period, now: datetime, policy: HardshipPolicy
) -> HardshipPublication:
    """Fix the period's lines and tell each member concerned; publishing waits the notice days.

    Raises:
        PermissionDenied: the actor is no admin.
        InvalidInput: nothing was given in the period, the period has not ended, or it was
            announced already (and not cancelled).
    """
    preview = preview_publication(session, actor=actor, period=period, policy=policy)
    if period.end_day > policy.today(now):
        raise InvalidInput("publication.period_open", N_("这个时段还没有结束，结束后再公示。"))
    if not preview.lines:
        raise InvalidInput("publication.empty", N_("这个时段没有发放帮扶资金，无需公示。"))
    existing = session.exec(
        select(HardshipPublication.id).where(
            HardshipPublication.period_key == period.key,
            HardshipPublication.unit_id == preview.unit.id,
            col(HardshipPublication.status) != PublicationStatus.CANCELLED,
        )
    ).first()
    if existing is not None:
        raise InvalidInput("publication.exists", N_("这个时段已经通知过或公示过了。"))
    assert actor.id is not None
    assert preview.unit.id is not None
    publication = HardshipPublication(
        period_key=period.key,
        unit_id=preview.unit.id,
        created_by_id=actor.id,
        notified_at=now,
        publish_from=now + timedelta(days=policy_notice_days(policy)),
    )
    session.add(publication)
    session.flush()
    assert publication.id is not None
    session.add_all(
        HardshipPublicationEntry(
            publication_id=publication.id,
            member_id=line.member_id,
            masked_name=line.masked_name,
            unit_id=line.unit_id,
            label=line.label,
            amount_fen=line.amount_fen,
        )
        for line in preview.lines
    )
    enqueue(
        session,
        [
            NewPush(
                key=publication_key(publication.id, member_id),
                member_id=member_id,
                kind=PushKind.STATUS,
                topic=NOTICE_TOPIC,
                subject_id=publication.id,
            )
            for member_id in sorted({line.member_id for line in preview.lines})
        ],
        now=now,
    )
    session.flush()
    return publication


def policy_notice_days(policy: HardshipPolicy) -> int:
    """The days members have to ask to be left out (``publication_notice_days``)."""
    return policy.publication_notice_days


# ----------------------------------------------------------------------------- the member's side


@dataclass(frozen=True)
class MyPublication:
    """A coming 公示 as the member concerned reads it: their own lines, as they will be shown."""

    publication: HardshipPublication
    entries: Sequence[HardshipPublicationEntry]

    @property
    def withheld(self) -> bool:
        return all(entry.withheld_at is not None for entry in self.entries)


def my_publications(session: Session, *, actor: Member) -> list[MyPublication]:
    """The announced, not yet published 公示 that include the member, oldest first."""
    rows = session.exec(
        select(HardshipPublication, HardshipPublicationEntry)
        .join(
            HardshipPublicationEntry, col(HardshipPublicationEntry.publication_id) == HardshipPublication.id
        )
        .where(
            HardshipPublicationEntry.member_id == actor.id,
            HardshipPublication.status == PublicationStatus.NOTIFIED,
        )
        .order_by(col(HardshipPublication.id), col(HardshipPublicationEntry.id))
    ).all()
    found: dict[int, MyPublication] = {}
    for publication, entry in rows:
        assert publication.id is not None
        mine = found.setdefault(publication.id, MyPublication(publication, []))
        assert isinstance(mine.entries, list)
        mine.entries.append(entry)
    return list(found.values())


def withhold_entries(
    session: Session, *, actor: Member, publication_id: int, now: datetime, policy: HardshipPolicy
) -> int:
    """Leave the member's own lines out of a coming 公示; how many lines that was.

    Raises:
        PermissionDenied: the union does not allow it (the settings).
        NotFound: no coming 公示 of this number includes the member.
        InvalidInput: it went out already.
    """
    if not policy.publication_may_withhold:
        raise PermissionDenied(
            "publication.withhold_not_allowed",
            N_("按本会规定，帮扶公示不能申请不公示。如有顾虑，请联系工会干部。"),
        )
    publication = session.get(HardshipPublication, publication_id)
    entries = session.exec(
        select(HardshipPublicationEntry).where(
            HardshipPublicationEntry.publication_id == publication_id,
            HardshipPublicationEntry.member_id == actor.id,
        )
    ).all()
    if publication is None or not entries:
        raise NotFound("publication.not_found", N_("没有找到涉及您的帮扶公示。"))
    if publication.status is not PublicationStatus.NOTIFIED:
        raise InvalidInput("publication.closed", N_("这次帮扶公示已经发布或取消，无法再更改。"))
    changed = 0
    for entry in entries:
        if entry.withheld_at is None:
            entry.withheld_at = now
            session.add(entry)
            changed += 1
    session.flush()
    return changed


# ----------------------------------------------------------------------------- publishing


@dataclass(frozen=True)
class PublicLine:
    """A line as the notice shows it; ``label`` a category's code or ``campaign:<id>``."""

    masked_name: str
    unit_name: str
    label: str
    amount_fen: int


@dataclass(frozen=True)
class PublicationState:
    publication: HardshipPublication
    period: Period
    lines: Sequence[PublicLine]  # what would be published now: the lines not withheld
    withheld: int  # lines members asked to leave out (and that the settings let them)
    members: int  # members told
    campaigns: dict[int, str]  # campaign names for the labels of campaign gifts

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


def _admin_publication(session: Session, actor: Member, publication_id: int) -> HardshipPublication:
    units = _admin_units(session, actor)
    publication = session.get(HardshipPublication, publication_id)
    if publication is None:
        raise NotFound("publication.not_found", N_("找不到这次帮扶公示。"))
    unit = session.get(Unit, publication.unit_id)
    if unit is None or not any(own.contains(unit) for own in units):
        raise PermissionDenied("publication.not_admin", N_("只有管理员可以发布帮扶公示。"))
    return publication


def coming_publications(session: Session, *, actor: Member) -> list[HardshipPublication]:
    """The admin's announced 公示 not yet published or cancelled, oldest first.

    Raises:
        PermissionDenied: the actor is no admin.
    """
    units = _admin_units(session, actor)
    return [
        publication
        for publication in session.exec(
            select(HardshipPublication)
            .where(HardshipPublication.status == PublicationStatus.NOTIFIED)
            .order_by(col(HardshipPublication.id))
        ).all()
        if any(unit.id == publication.unit_id for unit in units)
    ]


def publication_state(
    session: Session, *, actor: Member, publication_id: int, policy: HardshipPolicy
) -> PublicationState:
    """What the 公示 shows now (withheld lines left out when the settings allow that).

    Raises:
        PermissionDenied, NotFound: the actor is no admin of it, or there is no such 公示.
    """
    publication = _admin_publication(session, actor, publication_id)
    entries = session.exec(
        select(HardshipPublicationEntry)
        .where(HardshipPublicationEntry.publication_id == publication_id)
        .order_by(col(HardshipPublicationEntry.id))
    ).all()
    honoured = policy.publication_may_withhold
    shown = [entry for entry in entries if not (honoured and entry.withheld_at is not None)]
    units = {
        unit.id: unit
        for unit in session.exec(select(Unit).where(col(Unit.id).in_({e.unit_id for e in entries})))
    }
    order = {unit.id: index for index, unit in enumerate(ordered_units(session, units.values()))}
    shown.sort(key=lambda entry: (order.get(entry.unit_id, 0), entry.label, entry.masked_name, entry.id or 0))
    campaigns = _campaign_names(session, [entry.label for entry in entries])
    return PublicationState(
        publication=publication,
        period=parse_period(publication.period_key),
        lines=[
            PublicLine(entry.masked_name, units[entry.unit_id].name, entry.label, entry.amount_fen)
            for entry in shown
        ],
        withheld=len(entries) - len(shown),
        members=len({entry.member_id for entry in entries}),
        campaigns=campaigns,
    )


@dataclass(frozen=True)
class NoticeText:
    """One notice of the 公示 as the handler worded it."""

    title: str
    body: str


def publish_publication(
    session: Session,
    *,
    actor: Member,
    publication_id: int,
    texts: Sequence[NoticeText],
    now: datetime,
    policy: HardshipPolicy,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipPublication:
    """Send the 公示 as openness notices to the admin's units, once the members had their days.

    Raises:
        PermissionDenied, NotFound: see :func:`publication_state`; or the notices' own refusals.
        InvalidInput: too early, published or cancelled already, nothing left to show, or a text
            the notices refuse (too long: the handler splits the lines into several notices).
    """
    publication = _admin_publication(session, actor, publication_id)
    if publication.status is not PublicationStatus.NOTIFIED:
        raise InvalidInput("publication.closed", N_("这次帮扶公示已经发布或取消，无法再更改。"))
    if now < publication.publish_from:
        raise InvalidInput(
            "publication.too_early",
            N_("已通知的会员可以在 {date} 前申请不公示，请到那时再发布。"),
            date=publication.publish_from.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M"),
        )
    if not texts:
        raise InvalidInput("publication.nothing_left", N_("所有相关会员都申请了不公示，没有可公示的内容。"))
    unit = session.get(Unit, publication.unit_id)
    assert unit is not None
    assert unit.id is not None
    target = Target(kind=TargetKind.UNITS, unit_ids=(unit.id,))
    notices = [
        create_notice(
            session,
            actor=actor,
            draft=NoticeDraft(title=text.title, body=text.body, category=NOTICE_CATEGORY, target=target),
            now=now,
        )
        for text in texts
    ]
    publication.notice_ids = [notice.id for notice in notices if notice.id is not None]
    publication.status = PublicationStatus.PUBLISHED
    publication.published_at = now
    session.add(publication)
    record_audit(
        session,
        actor=actor,
        action="hardship.publication.publish",
        subject=f"publication:{publication_id}",
        channel=channel,
    )
    session.flush()
    return publication


def cancel_publication(
    session: Session, *, actor: Member, publication_id: int, now: datetime
) -> HardshipPublication:
    """Drop an announced 公示 (it may be announced again afterwards).

    Raises:
        PermissionDenied, NotFound: see :func:`publication_state`.
        InvalidInput: published or cancelled already.
    """
    publication = _admin_publication(session, actor, publication_id)
    if PublicationStatus.CANCELLED not in TRANSITIONS[publication.status]:
        raise InvalidInput("publication.closed", N_("这次帮扶公示已经发布或取消，无法再更改。"))
    publication.status = PublicationStatus.CANCELLED
    session.add(publication)
    session.flush()
    return publication


def label_is_category(label: str) -> HardshipCategory | None:
    """The category a line's label names, or None for a campaign's gift."""
    try:
        return HardshipCategory(label)
    except ValueError:
        return None


# A notice's body limit, for the handler that splits the lines into notices (it words them).
BODY_LIMIT = BODY_MAX
