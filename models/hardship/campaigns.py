"""送温暖 campaigns: 元旦春节送温暖, 夏送清凉, 金秋助学 or any named, with a period, a budget and criteria.

A cadre who handles hardship over a unit opens a campaign on it. Who qualifies
is one of two kinds of criteria:

* **cases** — members with a hardship case at an open stage (or only those kept
  under dynamic review, 动态管理), of the categories named (none named: all);
* **units** — every active member of the units listed, as for a holiday gift.

Each cadre sees the qualifying members of their own subtree only (a workshop's
cadre their workshop, the 厂工会 everyone), records what each was given (a
:class:`~models.hardship.cases.HardshipDisbursement` naming the campaign, through
:func:`~models.hardship.actions.record_disbursement`, which checks the scope
again), and reads the totals per unit and against the budget. A member is given
once per campaign (a second entry is far more often a slip than a second gift),
and no gift takes the campaign past its budget.

Listing the qualifying members names people with hardship cases: each listing
and each export is audited (:mod:`models.audit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableList
from sqlmodel import Field, Session, SQLModel, col, func, select

from models.audit import record_audit
from models.base import UTCDateTime, string_enum, utcnow, visible_length
from models.errors import N_, InvalidInput, NotFound, PermissionDenied
from models.hardship.actions import SYSTEM_CHANNEL, hardship_scope, record_disbursement
from models.hardship.cases import (
    FUND_MAX,
    GOODS_MAX,
    OPEN_STATUSES,
    CaseStatus,
    HardshipCase,
    HardshipCategory,
    HardshipDisbursement,
    check_amount,
    check_text,
)
from models.hardship.policy import HardshipPolicy
from models.members import Member, MemberStatus
from models.units import Unit, ordered_units

NAME_MAX = 30
# A campaign's budget above a hundred million yuan is a typo.
BUDGET_MAX_FEN = 100_000_000 * 100
# A campaign runs for a season; a period longer than a year is a typo in a date.
PERIOD_MAX_DAYS = 366
UNITS_MAX = 50


class CampaignBasis(StrEnum):
    """Who qualifies: members with cases matching the criteria, or every member of listed units."""

    CASES = "cases"
    UNITS = "units"


class CaseStages(StrEnum):
    """Which cases qualify under a cases campaign."""

    OPEN = "open"  # every case not closed
    REVIEW = "review"  # only those kept under dynamic review (动态管理)


BASIS_LABELS: dict[CampaignBasis, str] = {
    CampaignBasis.CASES: N_("帮扶对象（按困难类别）"),
    CampaignBasis.UNITS: N_("所选单位全体会员"),
}

STAGES_LABELS: dict[CaseStages, str] = {
    CaseStages.OPEN: N_("在办和动态管理的帮扶对象"),
    CaseStages.REVIEW: N_("仅动态管理的帮扶对象"),
}

_STAGE_STATUSES: dict[CaseStages, frozenset[CaseStatus]] = {
    CaseStages.OPEN: OPEN_STATUSES,
    CaseStages.REVIEW: frozenset({CaseStatus.REVIEW}),
}


class HardshipCampaign(SQLModel, table=True):
    """A 送温暖 campaign: on which unit, when, with how much, for whom, and what each gets by default."""

    __tablename__ = "hardshipcampaign"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_MAX * 4)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    starts_on: date
    ends_on: date
    budget_fen: int = Field(sa_type=sa.BigInteger)
    basis: CampaignBasis = Field(sa_type=string_enum(CampaignBasis, 16))
    # Cases basis: the categories that qualify (empty: all) and the stages.
    categories: list[str] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))
    stages: CaseStages | None = Field(default=None, sa_type=string_enum(CaseStages, 16))
    # Units basis: the units whose members qualify, each with its subtree.
    unit_ids: list[int] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))
    # What a gift is by default: the amount per person (standard), the goods, the fund it comes from.
    standard_fen: int | None = Field(default=None, sa_type=sa.BigInteger)
    goods: str | None = Field(default=None, max_length=GOODS_MAX * 4)
    fund: str = Field(max_length=FUND_MAX * 4)
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class CampaignDraft:
    """A campaign as the cadre described it, not yet checked."""

    name: str
    unit_id: int
    starts_on: date
    ends_on: date
    budget_fen: int
    basis: CampaignBasis
    fund: str
    categories: tuple[HardshipCategory, ...] = ()
    stages: CaseStages = CaseStages.OPEN
    unit_ids: tuple[int, ...] = ()
    standard_fen: int | None = None
    goods: str | None = None


# ----------------------------------------------------------------------------- scope


def _scope_prefixes(session: Session, actor: Member, root: Unit) -> list[str]:
    """The id paths of what ``actor`` may see of ``root``'s subtree: the deeper of each overlap."""
    prefixes = []
    for unit in hardship_scope(session, actor):
        if unit.contains(root):
            prefixes.append(root.id_path)
        elif root.contains(unit):
            prefixes.append(unit.id_path)
    return sorted(set(prefixes))


def _narrow(outer: Sequence[str], inner: Sequence[str]) -> list[str]:
    """The overlap of two sets of subtrees, as id paths."""
    found = set()
    for a in outer:
        for b in inner:
            if b.startswith(a):
                found.add(b)
            elif a.startswith(b):
                found.add(a)
    return sorted(found)


def _under(paths: Sequence[str]) -> sa.ColumnElement[bool]:
    if not paths:
        return sa.false()
    return sa.or_(*(col(Unit.id_path).startswith(path) for path in paths))


@dataclass(frozen=True)
class CampaignView:
    """A campaign as one cadre sees it: the subtrees of its reach they may see."""

    campaign: HardshipCampaign
    unit: Unit
    # The id paths whose members this cadre sees and gives to.
    paths: tuple[str, ...]


def _view(session: Session, actor: Member, campaign_id: int) -> CampaignView:
    campaign = session.get(HardshipCampaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign.not_found", N_("找不到这个送温暖活动。"))
    unit = session.get(Unit, campaign.unit_id)
    assert unit is not None
    paths = _scope_prefixes(session, actor, unit)
    if not paths:
        raise PermissionDenied("campaign.not_in_scope", N_("这个送温暖活动不在您负责的单位。"))
    if campaign.basis is CampaignBasis.UNITS:
        listed = session.exec(select(Unit.id_path).where(col(Unit.id).in_(campaign.unit_ids))).all()
        paths = _narrow(paths, list(listed))
    return CampaignView(campaign, unit, tuple(paths))


def _audited_view(
    session: Session, actor: Member, campaign_id: int, action: str, channel: str
) -> CampaignView:
    """The campaign for a reading that names members: audited, and a refused one audited as refused."""
    subject = f"campaign:{campaign_id}"
    try:
        view = _view(session, actor, campaign_id)
    except PermissionDenied:
        record_audit(session, actor=actor, action=action, subject=subject, channel=channel, allowed=False)
        raise
    record_audit(session, actor=actor, action=action, subject=subject, channel=channel)
    return view


def campaign_view(session: Session, *, actor: Member, campaign_id: int) -> CampaignView:
    """A campaign the actor takes part in (opened on a unit above, on or below theirs).

    Raises:
        NotFound: no such campaign.
        PermissionDenied: it concerns none of the actor's units, or they handle hardship nowhere.
    """
    return _view(session, actor, campaign_id)


def campaigns_for(session: Session, *, actor: Member, today: date) -> list[HardshipCampaign]:
    """The campaigns the actor takes part in, running and coming ones first, then by start, newest first."""
    scope = hardship_scope(session, actor)
    rows = session.exec(
        select(HardshipCampaign, Unit).join(Unit, col(Unit.id) == HardshipCampaign.unit_id)
    ).all()
    mine = [
        campaign for campaign, unit in rows if any(own.contains(unit) or unit.contains(own) for own in scope)
    ]
    return sorted(mine, key=lambda c: (c.ends_on < today, -c.starts_on.toordinal(), -(c.id or 0)))


# ----------------------------------------------------------------------------- opening


def check_campaign(session: Session, *, actor: Member, draft: CampaignDraft) -> Unit:
    """Check a draft; return the unit it is opened on.

    Raises:
        PermissionDenied: the unit (or a listed unit) lies outside the actor's hardship scope.
        InvalidInput: an empty or over-long name or fund, a period that ends before it starts or runs
            over a year, a budget of nothing or beyond reason, a units campaign without units or with
            units outside the campaign's unit.
    """
    unit = session.get(Unit, draft.unit_id)
    if unit is None:
        raise NotFound("unit.not_found", N_("找不到这个单位。"))
    if not any(own.contains(unit) for own in hardship_scope(session, actor)):
        raise PermissionDenied("campaign.unit_out_of_scope", N_("只能在您负责困难帮扶的单位开展送温暖活动。"))
    name = draft.name.strip()
    if not name:
        raise InvalidInput("campaign.name_empty", N_("请写上活动名称，例如“2027年元旦春节送温暖”。"))
    if (count := visible_length(name)) > NAME_MAX:
        raise InvalidInput(
            "campaign.name_too_long",
            N_("活动名称太长了：最多 {limit} 个字，现在是 {count} 个字。"),
            limit=NAME_MAX,
            count=count,
        )
    if draft.ends_on < draft.starts_on:
        raise InvalidInput("campaign.period_backwards", N_("结束日期不能早于开始日期。"))
    if (draft.ends_on - draft.starts_on).days >= PERIOD_MAX_DAYS:
        raise InvalidInput("campaign.period_too_long", N_("活动时间最长一年，请检查日期。"))
    if not 0 < draft.budget_fen <= BUDGET_MAX_FEN:
        raise InvalidInput(
            "campaign.budget", N_("预算请填 0 到 {maximum} 元之间的数。"), maximum=BUDGET_MAX_FEN // 100
        )
    check_amount(draft.standard_fen)
    check_text(draft.goods, code="goods", limit=GOODS_MAX, optional=True)
    check_text(draft.fund, code="fund", limit=FUND_MAX)
    if draft.basis is CampaignBasis.UNITS:
        if not draft.unit_ids:
            raise InvalidInput("campaign.no_units", N_("请至少选择一个单位。"))
        if len(set(draft.unit_ids)) > UNITS_MAX:
            raise InvalidInput("campaign.too_many_units", N_("最多选择 {limit} 个单位。"), limit=UNITS_MAX)
        for unit_id in draft.unit_ids:
            listed = session.get(Unit, unit_id)
            if listed is None:
                raise NotFound("unit.not_found", N_("找不到这个单位。"))
            if not unit.contains(listed):
                raise InvalidInput(
                    "campaign.unit_outside", N_("所选单位“{unit}”不在活动所属单位之内。"), unit=listed.name
                )
    return unit


def open_campaign(
    session: Session, *, actor: Member, draft: CampaignDraft, now: datetime
) -> HardshipCampaign:
    """Open a campaign after checking it (:func:`check_campaign`); nothing is written on a refusal."""
    check_campaign(session, actor=actor, draft=draft)
    assert actor.id is not None
    campaign = HardshipCampaign(
        name=draft.name.strip(),
        unit_id=draft.unit_id,
        starts_on=draft.starts_on,
        ends_on=draft.ends_on,
        budget_fen=draft.budget_fen,
        basis=draft.basis,
        categories=[category.value for category in dict.fromkeys(draft.categories)],
        stages=draft.stages if draft.basis is CampaignBasis.CASES else None,
        unit_ids=list(dict.fromkeys(draft.unit_ids)) if draft.basis is CampaignBasis.UNITS else [],
        standard_fen=draft.standard_fen,
        goods=draft.goods.strip() if draft.goods and draft.goods.strip() else None,
        fund=draft.fund.strip(),
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    return campaign


# ----------------------------------------------------------------------------- who qualifies


def _qualifying(view: CampaignView) -> sa.Select[Any]:
    """The ids of the members who qualify and whom this cadre sees, as a subquery."""
    campaign = view.campaign
    if campaign.basis is CampaignBasis.UNITS:
        return (
            sa.select(col(Member.id))
            .join(Unit, col(Unit.id) == col(Member.unit_id))
            .where(col(Member.status) == MemberStatus.ACTIVE, _under(view.paths))
        )
    statuses = sorted(_STAGE_STATUSES[campaign.stages or CaseStages.OPEN])
    query = (
        sa.select(col(HardshipCase.member_id))
        .join(Unit, col(Unit.id) == col(HardshipCase.unit_id))
        .where(
            col(HardshipCase.status).in_(statuses),
            col(HardshipCase.member_id).is_not(None),
            _under(view.paths),
        )
    )
    if campaign.categories:
        query = query.where(col(HardshipCase.category).in_(campaign.categories))
    return query


def _given(campaign_id: int) -> sa.Subquery:
    return (
        sa.select(
            col(HardshipDisbursement.member_id).label("member_id"),
            func.coalesce(func.sum(col(HardshipDisbursement.amount_fen)), 0).label("amount_fen"),
            func.max(col(HardshipDisbursement.goods)).label("goods"),
            func.max(col(HardshipDisbursement.given_on)).label("given_on"),
        )
        .where(col(HardshipDisbursement.campaign_id) == campaign_id)
        .group_by(col(HardshipDisbursement.member_id))
        .subquery()
    )


@dataclass(frozen=True)
class Qualifier:
    """A member who qualifies, and what they were given under the campaign (None: nothing yet)."""

    member_id: int
    name: str
    employee_no: str
    unit_id: int
    unit_name: str
    given_on: date | None
    amount_fen: int | None
    goods: str | None

    @property
    def given(self) -> bool:
        return self.given_on is not None


@dataclass(frozen=True)
class QualifierPage:
    """Who qualifies (``total``), how many were given, and a page of the list asked for (``listed`` long)."""

    total: int
    given: int
    rows: Sequence[Qualifier]
    listed: int


def qualifiers(
    session: Session,
    *,
    actor: Member,
    campaign_id: int,
    offset: int = 0,
    limit: int | None = 10,
    channel: str = SYSTEM_CHANNEL,
    not_given_only: bool = False,
) -> QualifierPage:
    """Who qualifies in the actor's units, by unit and 工号; or only those not given yet, by 工号 (the to-do).

    The listing is audited: it names members, and for a cases campaign, members with hardship cases.

    Raises:
        NotFound, PermissionDenied: see :func:`campaign_view`.
    """
    view = _audited_view(session, actor, campaign_id, "hardship.campaign.list", channel)
    return _qualifier_page(session, view, offset=offset, limit=limit, not_given_only=not_given_only)


def _eligible(view: CampaignView) -> list[sa.ColumnElement[bool]]:
    """Conditions on a query over members joined to their units: who qualifies and whom this cadre sees.

    A units campaign filters the members themselves (an index range of unit paths), not through a
    subquery over the same 20,000 members; a cases campaign goes through its few hundred cases.
    """
    if view.campaign.basis is CampaignBasis.UNITS:
        return [col(Member.status) == MemberStatus.ACTIVE, _under(view.paths)]
    return [col(Member.id).in_(_qualifying(view))]


def qualifier_counts(session: Session, *, actor: Member, campaign_id: int) -> tuple[int, int]:
    """How many qualify in the actor's units and how many of them were given: counts name nobody.

    Raises:
        NotFound, PermissionDenied: see :func:`campaign_view`.
    """
    view = _view(session, actor, campaign_id)
    return _counts(session, view)


def _counts(session: Session, view: CampaignView) -> tuple[int, int]:
    """Who qualifies and how many of them were given, in one pass over the members."""
    gift = sa.orm.aliased(HardshipDisbursement)
    total, given = session.execute(
        sa.select(func.count(), func.count(sa.distinct(col(gift.member_id))))
        .select_from(Member)
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .outerjoin(
            gift, sa.and_(col(gift.member_id) == col(Member.id), col(gift.campaign_id) == view.campaign.id)
        )
        .where(*_eligible(view))
    ).one()
    return int(total), int(given)


def _qualifier_page(
    session: Session, view: CampaignView, *, offset: int, limit: int | None, not_given_only: bool
) -> QualifierPage:
    campaign_id = view.campaign.id
    assert campaign_id is not None
    eligible = _eligible(view)
    total, given_count = _counts(session, view)
    columns = (col(Member.id), col(Member.name), col(Member.employee_no), col(Unit.id), col(Unit.name))
    if not_given_only:
        # What is still to do, a page at a time, by 工号: the unique index on it gives the first page
        # without sorting every member who qualifies, and the anti-join drops those already given.
        pending = ~sa.exists().where(
            col(HardshipDisbursement.campaign_id) == campaign_id,
            col(HardshipDisbursement.member_id) == col(Member.id),
        )
        query = (
            sa.select(*columns, sa.null(), sa.null(), sa.null())
            .join(Unit, col(Unit.id) == col(Member.unit_id))
            .where(*eligible, pending)
            .order_by(col(Member.employee_no))
            .offset(offset)
        )
        listed = total - given_count
    else:
        given = _given(campaign_id)
        query = (
            sa.select(*columns, given.c.given_on, given.c.amount_fen, given.c.goods)
            .join(Unit, col(Unit.id) == col(Member.unit_id))
            .outerjoin(given, given.c.member_id == col(Member.id))
            .where(*eligible)
            .order_by(_bytewise(session, col(Unit.id_path)), col(Member.employee_no))
            .offset(offset)
        )
        listed = total
    if limit is not None:
        query = query.limit(limit)
    rows = [
        Qualifier(
            member_id=member_id,
            name=name,
            employee_no=employee_no,
            unit_id=unit_id,
            unit_name=unit_name,
            given_on=given_on,
            amount_fen=int(amount) if given_on is not None and amount is not None else None,
            goods=goods,
        )
        for member_id, name, employee_no, unit_id, unit_name, given_on, amount, goods in session.execute(
            query
        )
    ]
    return QualifierPage(total=int(total), given=int(given_count), rows=rows, listed=listed)


def _bytewise(session: Session, column: Any) -> Any:
    """``column`` compared byte by byte on every database, as SQLite does (not in PostgreSQL's locale)."""
    return sa.collate(column, "C") if session.get_bind().dialect.name == "postgresql" else column


def _qualifies(session: Session, view: CampaignView, member_id: int) -> bool:
    return (
        session.execute(
            sa.select(col(Member.id))
            .join(Unit, col(Unit.id) == col(Member.unit_id))
            .where(col(Member.id) == member_id, *_eligible(view))
        ).first()
        is not None
    )


# ----------------------------------------------------------------------------- giving


@dataclass(frozen=True)
class Gift:
    """What a cadre records for one member: by default the campaign's standard, goods and fund."""

    member_id: int
    given_on: date
    amount_fen: int | None
    goods: str | None
    fund: str


def spent_fen(session: Session, campaign_id: int) -> int:
    """Money given under the campaign so far, all units."""
    total = session.exec(
        select(func.coalesce(func.sum(HardshipDisbursement.amount_fen), 0)).where(
            HardshipDisbursement.campaign_id == campaign_id
        )
    ).one()
    return int(total or 0)


def give_in_campaign(
    session: Session,
    *,
    actor: Member,
    campaign_id: int,
    gift: Gift,
    now: datetime,
    policy: HardshipPolicy,
    channel: str = SYSTEM_CHANNEL,
) -> HardshipDisbursement:
    """Record a gift under the campaign to a member who qualifies in the actor's units.

    Raises:
        NotFound, PermissionDenied: see :func:`campaign_view`; the member outside the actor's units.
        InvalidInput: the member does not qualify, was given already, the date lies outside the
            campaign or ahead, or the gift would take the campaign past its budget; and what
            :func:`~models.hardship.actions.record_disbursement` refuses.
    """
    view = _view(session, actor, campaign_id)
    campaign = view.campaign
    if not _qualifies(session, view, gift.member_id):
        raise InvalidInput("campaign.not_qualified", N_("这位会员不在本次活动的对象名单里。"))
    already = session.exec(
        select(HardshipDisbursement.id).where(
            HardshipDisbursement.campaign_id == campaign_id, HardshipDisbursement.member_id == gift.member_id
        )
    ).first()
    if already is not None:
        raise InvalidInput("campaign.given_already", N_("这位会员在本次活动中已经登记过发放。"))
    if not campaign.starts_on <= gift.given_on <= campaign.ends_on:
        raise InvalidInput(
            "campaign.date_outside",
            N_("发放日期要在活动时间 {start} 至 {end} 之内。"),
            start=campaign.starts_on.isoformat(),
            end=campaign.ends_on.isoformat(),
        )
    if gift.amount_fen is not None:
        left = campaign.budget_fen - spent_fen(session, campaign_id)
        if gift.amount_fen > left:
            raise InvalidInput(
                "campaign.over_budget",
                N_("超出预算了：本次活动预算还剩 {left} 元。"),
                left=_yuan_text(max(left, 0)),
            )
    return record_disbursement(
        session,
        actor=actor,
        member_id=gift.member_id,
        case_id=None,
        campaign_id=campaign_id,
        given_on=gift.given_on,
        amount_fen=gift.amount_fen,
        goods=gift.goods,
        fund=gift.fund,
        now=now,
        channel=channel,
        policy=policy,
    )


def _yuan_text(fen: int) -> str:
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}"


# ----------------------------------------------------------------------------- totals


@dataclass(frozen=True)
class UnitTotal:
    """One unit's line: who qualifies there, how many were given, how much money, how many gifts of goods."""

    unit_id: int
    name: str
    own: bool  # the members directly in the campaign's (or the cadre's) unit, not below it
    qualifying: int
    given: int
    amount_fen: int
    goods: int


@dataclass(frozen=True)
class CampaignTotals:
    campaign: HardshipCampaign
    rows: Sequence[UnitTotal]
    total: UnitTotal
    # The whole campaign's money given, all units, against its budget.
    spent_fen: int
    budget_fen: int

    @property
    def left_fen(self) -> int:
        return self.budget_fen - self.spent_fen


@dataclass
class _Tally:
    qualifying: int = 0
    given: int = 0
    amount_fen: int = 0
    goods: int = 0
    members: set[int] = field(default_factory=set)


def _row_key(id_path: str, roots: Sequence[Unit]) -> tuple[int, bool] | None:
    """The line a member of ``id_path`` counts on: the child of the root above them, or that root."""
    for root in roots:
        if id_path.startswith(root.id_path):
            rest = id_path[len(root.id_path) :].strip("/")
            if not rest:
                assert root.id is not None
                return root.id, True
            return int(rest.split("/")[0]), False
    return None


def campaign_totals(
    session: Session, *, actor: Member, campaign_id: int, channel: str = SYSTEM_CHANNEL
) -> CampaignTotals:
    """Qualifying, given and amounts per unit of the actor's view, and the campaign against its budget.

    The lines are the units one level below the campaign's unit (or below the cadre's own units,
    for a cadre further down), with a line of its own for the members directly in it.

    Raises:
        NotFound, PermissionDenied: see :func:`campaign_view`.
    """
    view = _view(session, actor, campaign_id)
    campaign = view.campaign
    roots_paths = _narrow([view.unit.id_path], [unit.id_path for unit in hardship_scope(session, actor)])
    roots = list(session.exec(select(Unit).where(col(Unit.id_path).in_(roots_paths))).all())
    roots.sort(key=lambda unit: -len(unit.id_path))  # the deepest root first: a member counts once
    tallies: dict[tuple[int, bool], _Tally] = {}
    qualifying = session.execute(
        sa.select(col(Unit.id_path), func.count())
        .select_from(Member)
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(*_eligible(view))
        .group_by(col(Unit.id_path))
    ).all()
    for id_path, count in qualifying:
        key = _row_key(id_path, roots)
        if key is not None:
            tallies.setdefault(key, _Tally()).qualifying += int(count)
    given = session.execute(
        sa.select(
            col(Unit.id_path),
            col(HardshipDisbursement.member_id),
            col(HardshipDisbursement.amount_fen),
            col(HardshipDisbursement.goods),
        )
        .join(Member, col(Member.id) == col(HardshipDisbursement.member_id))
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(col(HardshipDisbursement.campaign_id) == campaign_id, _under(roots_paths))
    ).all()
    for id_path, member_id, amount, goods in given:
        key = _row_key(id_path, roots)
        if key is None:
            continue
        tally = tallies.setdefault(key, _Tally())
        if member_id not in tally.members:
            tally.members.add(member_id)
            tally.given += 1
        tally.amount_fen += int(amount or 0)
        tally.goods += 1 if goods else 0
    units = {
        unit.id: unit for unit in session.exec(select(Unit).where(col(Unit.id).in_({k for k, _ in tallies})))
    }
    order = {unit.id: index for index, unit in enumerate(ordered_units(session, units.values()))}
    rows = [
        UnitTotal(
            unit_id=unit_id,
            name=units[unit_id].name,
            own=own,
            qualifying=tally.qualifying,
            given=tally.given,
            amount_fen=tally.amount_fen,
            goods=tally.goods,
        )
        for (unit_id, own), tally in sorted(
            tallies.items(), key=lambda item: (not item[0][1], order[item[0][0]])
        )
    ]
    total = UnitTotal(
        unit_id=view.unit.id or 0,
        name=view.unit.name,
        own=False,
        qualifying=sum(row.qualifying for row in rows),
        given=sum(row.given for row in rows),
        amount_fen=sum(row.amount_fen for row in rows),
        goods=sum(row.goods for row in rows),
    )
    return CampaignTotals(
        campaign=campaign,
        rows=rows,
        total=total,
        spent_fen=spent_fen(session, campaign_id),
        budget_fen=campaign.budget_fen,
    )


def campaign_export(
    session: Session, *, actor: Member, campaign_id: int, channel: str = SYSTEM_CHANNEL
) -> tuple[CampaignTotals, Sequence[Qualifier]]:
    """The totals and the whole list of the actor's units, for the workbook; the export is audited.

    Raises:
        NotFound, PermissionDenied: see :func:`campaign_view`.
    """
    view = _audited_view(session, actor, campaign_id, "hardship.campaign.export", channel)
    page = _qualifier_page(session, view, offset=0, limit=None, not_given_only=False)
    return campaign_totals(session, actor=actor, campaign_id=campaign_id, channel=channel), page.rows
