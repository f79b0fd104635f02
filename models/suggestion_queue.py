"""What the cadre's review queue needs besides :mod:`models.suggestions`: the overdue count, merge targets.

Both only read, both stay within the acting cadre's subtree, so the chat can
check an answer and ask again before anything is written.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.errors import N_, InvalidInput, Label, NotFound, PermissionDenied
from models.members import Member
from models.roles import Permission, has_permission
from models.suggestions import OPEN_STATUSES, STATUS_LABELS, Suggestion, SuggestionStatus, review_scope
from models.units import Unit

# Where a duplicate may not go: its supporters would land on a suggestion nobody handles any more.
_CLOSED_TARGETS = frozenset({SuggestionStatus.MERGED, SuggestionStatus.CLOSED, SuggestionStatus.NOT_ADOPTED})


def overdue_count(session: Session, *, actor: Member, today: date, category: str | None = None) -> int:
    """How many open suggestions of the actor's subtree are past their "三及时" deadline.

    Raises:
        PermissionDenied: the actor reviews suggestions nowhere.
    """
    units = review_scope(session, actor)
    conditions = [
        sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in units)),
        col(Suggestion.status).in_(sorted(OPEN_STATUSES)),
        col(Suggestion.due_on) < today,
    ]
    if category is not None:
        conditions.append(col(Suggestion.category) == category)
    query = (
        select(func.count())
        .select_from(Suggestion)
        .join(Unit, col(Unit.id) == Suggestion.unit_id)
        .where(*conditions)
    )
    return session.exec(query).one()


def merge_target(session: Session, *, actor: Member, suggestion_id: int, number: str) -> Suggestion:
    """The suggestion numbered ``number``, if ``suggestion_id`` may be merged into it (as the merge checks).

    Raises:
        NotFound: no suggestion has that number.
        PermissionDenied: it lies outside the actor's subtree.
        InvalidInput: it is the same suggestion, or it is merged, closed or not adopted.
    """
    wanted = number.strip().upper().replace("－", "-")
    target = session.exec(select(Suggestion).where(Suggestion.number == wanted)).first()
    unit = session.get(Unit, target.unit_id) if target is not None else None
    if target is None or unit is None:
        raise NotFound("suggestion.merge_target", N_("找不到编号为 {number} 的建议。"), number=number.strip())
    if not has_permission(session, actor, Permission.REVIEW_SUGGESTIONS, unit):
        raise PermissionDenied(
            "suggestion.out_of_scope", N_("抱歉，这条建议不在您负责的单位范围内，不能处理。")
        )
    if target.id == suggestion_id:
        raise InvalidInput("suggestion.merge_self", N_("不能把建议合并到它自己。"))
    if target.status in _CLOSED_TARGETS:
        raise InvalidInput(
            "suggestion.merge_closed",
            N_("{number} 已经“{status}”，请合并到一条仍在办理的建议。"),
            number=target.number,
            status=Label(STATUS_LABELS[target.status]),
        )
    return target
