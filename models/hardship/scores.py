"""帮扶及时率: the ranking's measure of how promptly a unit's hardship cases were first contacted and visited.

A case counts in the period its visit was due in (by then both its first
contact and its visit were due): it is on time when its first contact came by
its contact limit and its visit by its visit limit, both as set when it came
in. Each ranked unit gets the share of its subtree's cases that were on time;
a unit with no such case is left out, so the ranking does not score it zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo

import sqlalchemy as sa
from sqlmodel import Session, col

from models.hardship.cases import HardshipCase
from models.hardship.policy import HardshipPolicy

SCORE_ID = "hardship_on_time"


def on_time(
    contacted_at: datetime | None,
    visited_on: date | None,
    contact_due_on: date,
    visit_due_on: date,
    zone: tzinfo,
) -> bool:
    """Whether a case was first contacted and visited within its limits."""
    if contacted_at is None or visited_on is None:
        return False
    return contacted_at.astimezone(zone).date() <= contact_due_on and visited_on <= visit_due_on


def on_time_shares(
    session: Session,
    start_utc: datetime,
    end_utc: datetime,
    subtrees: Mapping[int, frozenset[int]],
    zone: tzinfo | None = None,
) -> dict[int, float]:
    """The share of on-time cases per ranked unit, for visits due from ``start_utc`` up to ``end_utc``.

    One query of plain columns: the sealed fields are never read, so nothing is decrypted.
    """
    zone = zone or HardshipPolicy().zone
    first, last = start_utc.astimezone(zone).date(), end_utc.astimezone(zone).date()
    rows = session.execute(
        sa.select(
            col(HardshipCase.unit_id),
            col(HardshipCase.contacted_at),
            col(HardshipCase.visited_on),
            col(HardshipCase.contact_due_on),
            col(HardshipCase.visit_due_on),
        ).where(col(HardshipCase.visit_due_on) >= first, col(HardshipCase.visit_due_on) < last)
    ).all()
    if not rows:
        return {}
    counted = [
        (unit_id, on_time(contacted, visited, contact_due, visit_due, zone))
        for unit_id, contacted, visited, contact_due, visit_due in rows
    ]
    shares: dict[int, float] = {}
    for ranked, units in subtrees.items():
        mine = [met for unit_id, met in counted if unit_id in units]
        if mine:
            shares[ranked] = sum(mine) / len(mine)
    return shares
