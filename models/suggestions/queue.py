"""What the top of a cadre's review queue says: how many suggestions wait, and how many are late.

Read-only, within the acting cadre's subtree, in one grouped query however
many statuses the line names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func

from models.members import Member
from models.suggestions import OPEN_STATUSES, Suggestion, SuggestionStatus, review_scope
from models.units import Unit


@dataclass(frozen=True)
class QueueCounts:
    """What the top of a cadre's queue says: how many wait at each status, and how many are late."""

    by_status: Mapping[SuggestionStatus, int]
    overdue: int

    def waiting(self, statuses: Iterable[SuggestionStatus]) -> int:
        return sum(self.by_status.get(status, 0) for status in statuses)


def queue_counts(session: Session, *, actor: Member, today: date) -> QueueCounts:
    """Open suggestions of the actor's subtree by status, and those past their "三及时" deadline: one query.

    Raises:
        PermissionDenied: the actor reviews suggestions nowhere.
    """
    units = review_scope(session, actor)
    late = sa.case((col(Suggestion.due_on) < today, 1), else_=0)
    rows = session.execute(
        sa.select(col(Suggestion.status), func.count(), func.sum(late))
        .join(Unit, col(Unit.id) == Suggestion.unit_id)
        .where(
            sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in units)),
            col(Suggestion.status).in_(sorted(OPEN_STATUSES)),
        )
        .group_by(col(Suggestion.status))
    ).all()
    return QueueCounts(
        by_status={SuggestionStatus(status): int(count) for status, count, _ in rows},
        overdue=sum(int(overdue or 0) for _, _, overdue in rows),
    )
