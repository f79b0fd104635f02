"""What the activities offer the units' ranking: how many members took part in something.

``activity_participation``: the active members of each ranked unit's subtree who are
signed up (not cancelled) for at least one activity held in the period — an activity
not called off whose start falls in ``[start, end)`` — in percent of those members.
A month in which the union held no activity at all gives no data (nobody could take
part, so the ranking leaves the score out rather than scoring every unit zero); a unit
without active members gives none either.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from models.activities import Activity, ActivitySignup, ActivityStatus, SignupStatus
from models.members import Member, MemberStatus


def _per_unit(session: Session, query: sa.Select[int, int]) -> dict[int, int]:
    return {unit_id: int(count) for unit_id, count in session.execute(query)}


def activity_participation(
    session: Session, start: datetime, end: datetime, subtrees: Mapping[int, frozenset[int]]
) -> dict[int, float]:
    """Members signed up for at least one activity held in the period, per 100 active members."""
    held = sa.and_(
        col(Activity.status) != ActivityStatus.CANCELLED,
        col(Activity.starts_at) >= start,
        col(Activity.starts_at) < end,
    )
    if session.execute(sa.select(col(Activity.id)).where(held).limit(1)).first() is None:
        return {}
    active = col(Member.status) == MemberStatus.ACTIVE
    members = _per_unit(
        session, sa.select(col(Member.unit_id), sa.func.count()).where(active).group_by(col(Member.unit_id))
    )
    took_part = _per_unit(
        session,
        sa.select(col(Member.unit_id), sa.func.count(sa.distinct(col(Member.id))))
        .join(ActivitySignup, col(ActivitySignup.member_id) == Member.id)
        .join(Activity, col(Activity.id) == ActivitySignup.activity_id)
        .where(active, held, col(ActivitySignup.status) == SignupStatus.SIGNED_UP)
        .group_by(col(Member.unit_id)),
    )
    result: dict[int, float] = {}
    for ranked, subtree in subtrees.items():
        base = sum(members.get(unit_id, 0) for unit_id in subtree)
        if base:
            result[ranked] = 100.0 * sum(took_part.get(unit_id, 0) for unit_id in subtree) / base
    return result
