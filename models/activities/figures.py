"""Participation figures per unit and period: "月月有比赛、人人都参与" in numbers.

Defined once here, for the chat table, the workbook and the units' ranking:

* **activities** (活动): activities held in the period (started in it, not called
  off) open to the unit's members — to the unit, a unit above it, or one inside it.
* **sign-ups** (报名): sign-ups of the unit's members for those activities (those
  still standing; cancelled ones and the waitlist do not count).
* **attended** (到场): of those sign-ups, the ones checked in or marked as there.
* **attendance rate** (到场率) = attended / sign-ups.
* **members** (会员): active members of the unit's subtree today.
* **took part** (参与人数): members who attended at least one activity in the period,
  and **per 100 members** (每百人参与) = took part / members × 100, one decimal.

A member counts for the unit they belong to today and every unit above it. The
figures come from three grouped queries over the period, rolled up in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.activities.tables import Activity, ActivitySignup, ActivityStatus, ActivityUnit, SignupStatus
from models.errors import N_, PermissionDenied
from models.members import Member, MemberStatus
from models.roles import Permission, has_permission
from models.units import PATH_SEPARATOR, Unit


@dataclass(frozen=True)
class Participation:
    """One unit's row."""

    unit: Unit
    activities: int
    signups: int
    attended: int
    members: int
    took_part: int
    signed_members: int = 0  # members who signed up for at least one, there or not

    @property
    def attendance_rate(self) -> Decimal | None:
        """Attended / sign-ups in per cent, one decimal; None with no sign-ups."""
        return _percent(self.attended, self.signups)

    @property
    def per_100(self) -> Decimal | None:
        """Members who took part per 100 members, one decimal; None with no members."""
        return _percent(self.took_part, self.members)


def _percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _ancestors(unit_id_path: str) -> list[int]:
    return [int(part) for part in unit_id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


def participation(
    session: Session, *, units: Collection[Unit], start: datetime, end: datetime
) -> dict[int, Participation]:
    """The figures of each of ``units`` (each with its whole subtree) for activities held in [start, end)."""
    paths = {unit.id: unit.id_path for unit in session.exec(select(Unit))}
    wanted = {unit.id: unit for unit in units if unit.id is not None}

    ancestors: dict[int, list[int]] = {}

    def rolled_up(unit_id: int) -> list[int]:
        found = ancestors.get(unit_id)
        if found is None:
            found = ancestors[unit_id] = [u for u in _ancestors(paths[unit_id]) if u in wanted]
        return found

    held = session.exec(
        select(ActivityUnit.activity_id, ActivityUnit.unit_id)
        .join(Activity, col(Activity.id) == col(ActivityUnit.activity_id))
        .where(
            col(Activity.starts_at) >= start,
            col(Activity.starts_at) < end,
            Activity.status == ActivityStatus.OPEN,
        )
    ).all()
    activities: dict[int, set[int]] = defaultdict(set)
    for activity_id, unit_id in held:
        open_to = paths[unit_id]
        for wanted_id, unit in wanted.items():
            # Open to the unit's members: opened at or above it, or to a unit inside it.
            if unit.id_path.startswith(open_to) or open_to.startswith(unit.id_path):
                activities[wanted_id].add(activity_id)
    held_in = sa.and_(
        col(Activity.starts_at) >= start,
        col(Activity.starts_at) < end,
        col(Activity.status) == ActivityStatus.OPEN,
        col(ActivitySignup.status) == SignupStatus.SIGNED_UP,
    )
    there = sa.case((col(ActivitySignup.attended_at).is_not(None), col(ActivitySignup.member_id)))
    # Grouped by the member's unit in the database: a member belongs to one unit, so distinct
    # members per unit add up the tree without counting anyone twice.
    per_unit = session.execute(
        sa.select(
            col(Member.unit_id),
            func.count(),
            func.count(col(ActivitySignup.attended_at)),
            func.count(sa.distinct(there)),
            func.count(sa.distinct(col(ActivitySignup.member_id))),
        )
        .select_from(ActivitySignup)
        .join(Activity, col(Activity.id) == col(ActivitySignup.activity_id))
        .join(Member, col(Member.id) == col(ActivitySignup.member_id))
        .where(held_in)
        .group_by(col(Member.unit_id))
    ).all()
    counted: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    took_part: dict[int, int] = defaultdict(int)
    signed_members: dict[int, int] = defaultdict(int)
    for unit_id, signed, attended, people, signers in per_unit:
        for wanted_id in rolled_up(unit_id):
            counted[wanted_id][0] += signed
            counted[wanted_id][1] += attended
            took_part[wanted_id] += people
            signed_members[wanted_id] += signers
    members: dict[int, int] = defaultdict(int)
    for unit_id, count in session.exec(
        select(Member.unit_id, func.count())
        .where(Member.status == MemberStatus.ACTIVE)
        .group_by(col(Member.unit_id))
    ):
        for wanted_id in rolled_up(unit_id):
            members[wanted_id] += count
    return {
        unit_id: Participation(
            unit=unit,
            activities=len(activities[unit_id]),
            signups=counted[unit_id][0],
            attended=counted[unit_id][1],
            members=members[unit_id],
            took_part=took_part[unit_id],
            signed_members=signed_members[unit_id],
        )
        for unit_id, unit in wanted.items()
    }


def participation_report(
    session: Session, *, actor: Member, unit: Unit, start: datetime, end: datetime
) -> list[Participation]:
    """The unit's own row first, then one per unit directly below it: the cadre's table.

    Raises:
        PermissionDenied: the unit lies outside the cadre's activities scope.
    """
    if not has_permission(session, actor, Permission.MANAGE_ACTIVITIES, unit):
        raise PermissionDenied("activity.figures_not_allowed", N_("抱歉，这个单位不在您负责的范围内。"))
    children = session.exec(select(Unit).where(Unit.parent_id == unit.id).order_by(col(Unit.name))).all()
    rows = participation(session, units=[unit, *children], start=start, end=end)
    return [rows[u.id] for u in [unit, *children] if u.id is not None]


def participation_scores(
    session: Session, *, start: datetime, end: datetime, subtrees: Mapping[int, frozenset[int]]
) -> dict[int, float]:
    """Members who took part per 100 members, for the units' ranking; units with no activity held left out.

    Taking part is being there (checked in or marked) where the union records attendance; in a
    period in which nobody's attendance was recorded anywhere, it is signing up for at least one
    activity, rather than every unit scoring zero.
    """
    anyone_there = session.exec(
        select(ActivitySignup.id)
        .join(Activity, col(Activity.id) == col(ActivitySignup.activity_id))
        .where(
            col(Activity.starts_at) >= start,
            col(Activity.starts_at) < end,
            col(ActivitySignup.attended_at).is_not(None),
        )
        .limit(1)
    ).first()
    units = session.exec(select(Unit).where(col(Unit.id).in_(list(subtrees)))).all()
    rows = participation(session, units=units, start=start, end=end)
    scores = {}
    for unit_id, row in rows.items():
        if not row.activities or not row.members:
            continue
        people = row.took_part if anyone_there is not None else row.signed_members
        scores[unit_id] = 100 * people / row.members
    return scores
