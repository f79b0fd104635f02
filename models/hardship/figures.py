"""帮扶统计: hardship figures per unit and period, for the cadres who handle it and the admins.

For the cases that came in during the period, in the reader's units only: how
many of each category and where each stands now, and how long the union took —
the median of working days from the application to the first contact, to the
visit and to the first help. For the money and goods given during the period:
the amounts by fund and by campaign (case help outside any campaign apart).

Figures name nobody, and a case erased after its retention period still counts
(its category, stage, dates and amounts stay). A reader sees their own subtree:
a cadre who handles hardship over a workshop sees that workshop, the 厂工会's
cadres and the admins see any unit under theirs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from statistics import median

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.errors import N_, NotFound, PermissionDenied
from models.hardship.campaigns import HardshipCampaign
from models.hardship.cases import CaseStatus, HardshipCase, HardshipCategory, HardshipDisbursement
from models.hardship.policy import HardshipPolicy
from models.members import Member
from models.periods import Period
from models.roles import Permission, scope_units
from models.units import Unit, ordered_units, unit_path
from models.workdays import workdays_between


def figures_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose figures the actor may read (hardship handlers' and admins'), highest first.

    Raises:
        PermissionDenied: the actor neither handles hardship nor administers anywhere.
    """
    units: list[Unit] = []
    if actor.is_active:
        units = [
            *scope_units(session, actor, Permission.HANDLE_HARDSHIP),
            *scope_units(session, actor, Permission.ADMINISTER),
        ]
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied(
            "hardship_figures.not_allowed", N_("只有负责困难帮扶的工会干部才能查看帮扶统计。")
        )
    return sorted({unit.id: unit for unit in tops}.values(), key=lambda unit: unit.id_path)


def may_see_figures(session: Session, actor: Member) -> bool:
    try:
        figures_scope(session, actor)
    except PermissionDenied:
        return False
    return True


@dataclass
class UnitFigures:
    """One line: a unit below the chosen one (its whole subtree), the chosen unit's own, or the total."""

    unit_id: int
    name: str
    own: bool = False
    cases: int = 0
    urgent: int = 0
    closed: int = 0
    given_fen: int = 0


@dataclass(frozen=True)
class HardshipFigures:
    unit_path: str
    period: Period
    rows: Sequence[UnitFigures]
    total: UnitFigures
    # Cases that came in during the period, by category and by the stage each stands at now.
    by_category: dict[HardshipCategory, Counter[CaseStatus]] = field(default_factory=dict)
    # Median working days from the application, over the cases that reached that step (None: none did).
    median_contact: Decimal | None = None
    median_visit: Decimal | None = None
    median_help: Decimal | None = None
    # Money given during the period (fen) and gifts of goods, by fund and by campaign (None: case help).
    by_fund: dict[str, int] = field(default_factory=dict)
    by_campaign: list[tuple[str | None, int, int]] = field(default_factory=list)


def _median(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return Decimal(str(median(values))).quantize(Decimal("0.1"))


def _local(moment: datetime | None, policy: HardshipPolicy) -> date | None:
    return moment.astimezone(policy.zone).date() if moment is not None else None


def hardship_figures(
    session: Session, *, actor: Member, unit_id: int, period: Period, policy: HardshipPolicy
) -> HardshipFigures:
    """The figures of ``unit_id``'s subtree for the period.

    Raises:
        PermissionDenied: the unit lies outside what the actor may read.
        NotFound: no such unit.
    """
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("unit.not_found", N_("找不到这个单位。"))
    if not any(own.contains(unit) for own in figures_scope(session, actor)):
        raise PermissionDenied("hardship_figures.out_of_scope", N_("这个单位不在您负责的范围内。"))
    start, end = period.bounds(policy.zone)
    children = list(session.exec(select(Unit).where(Unit.parent_id == unit.id)).all())
    rows: dict[int, UnitFigures] = {
        child.id or 0: UnitFigures(child.id or 0, child.name) for child in ordered_units(session, children)
    }
    own = UnitFigures(unit.id or 0, unit.name, own=True)
    prefix = len(unit.id_path)

    def line(id_path: str) -> UnitFigures:
        rest = id_path[prefix:].strip("/")
        return rows.get(int(rest.split("/")[0]), own) if rest else own

    cases = session.execute(
        sa.select(HardshipCase, col(Unit.id_path))
        .join(Unit, col(Unit.id) == col(HardshipCase.unit_id))
        .where(
            col(Unit.id_path).startswith(unit.id_path),
            col(HardshipCase.submitted_at) >= start,
            col(HardshipCase.submitted_at) < end,
        )
    ).all()
    by_category: dict[HardshipCategory, Counter[CaseStatus]] = defaultdict(Counter)
    contact, visit, helped = [], [], []
    for case, id_path in cases:
        row = line(id_path)
        row.cases += 1
        row.urgent += 1 if case.urgent else 0
        row.closed += 1 if case.status is CaseStatus.CLOSED else 0
        by_category[case.category][case.status] += 1
        submitted = _local(case.submitted_at, policy)
        assert submitted is not None
        if (day := _local(case.contacted_at, policy)) is not None:
            contact.append(workdays_between(submitted, day))
        if case.visited_on is not None:
            visit.append(workdays_between(submitted, case.visited_on))
        if (day := _local(case.helped_at, policy)) is not None:
            helped.append(workdays_between(submitted, day))

    given = session.execute(
        sa.select(
            col(Unit.id_path),
            col(HardshipDisbursement.fund),
            col(HardshipDisbursement.campaign_id),
            col(HardshipDisbursement.amount_fen),
            col(HardshipDisbursement.goods),
        )
        .join(Member, col(Member.id) == col(HardshipDisbursement.member_id))
        .join(Unit, col(Unit.id) == col(Member.unit_id))
        .where(
            col(Unit.id_path).startswith(unit.id_path),
            col(HardshipDisbursement.given_on) >= period.first_day,
            col(HardshipDisbursement.given_on) < period.end_day,
        )
    ).all()
    by_fund: Counter[str] = Counter()
    campaign_money: Counter[int | None] = Counter()
    campaign_goods: Counter[int | None] = Counter()
    for id_path, fund, campaign_id, amount, goods in given:
        fen = int(amount or 0)
        line(id_path).given_fen += fen
        by_fund[fund] += fen
        campaign_money[campaign_id] += fen
        campaign_goods[campaign_id] += 1 if goods else 0
    names = {
        campaign.id: campaign.name
        for campaign in session.exec(
            select(HardshipCampaign).where(col(HardshipCampaign.id).in_([c for c in campaign_money if c]))
        )
    }
    by_campaign = sorted(
        (
            (names.get(campaign) if campaign else None, campaign_money[campaign], campaign_goods[campaign])
            for campaign in campaign_money
        ),
        key=lambda item: (item[0] is None, -item[1], item[0] or ""),
    )
    listed = [own] if own.cases or own.given_fen else []
    listed += list(rows.values())
    total = UnitFigures(
        unit.id or 0,
        unit.name,
        cases=sum(row.cases for row in listed),
        urgent=sum(row.urgent for row in listed),
        closed=sum(row.closed for row in listed),
        given_fen=sum(row.given_fen for row in listed),
    )
    return HardshipFigures(
        unit_path=unit_path(session, unit),
        period=period,
        rows=listed,
        total=total,
        by_category=dict(by_category),
        median_contact=_median(contact),
        median_visit=_median(visit),
        median_help=_median(helped),
        by_fund=dict(sorted(by_fund.items(), key=lambda item: (-item[1], item[0]))),
        by_campaign=by_campaign,
    )
