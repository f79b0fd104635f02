"""What is read about suggestions: who reviews what, a member's own list, the cadre's queue and full view.

Nothing here writes. The scope checks (:func:`review_scope`, :func:`require_reviewer`)
are the same ones the cadre's steps in :mod:`models.suggestions.actions` pass
before they change anything, so a cadre sees exactly the suggestions they may handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.errors import N_, NotFound, PermissionDenied
from models.members import Member
from models.roles import ROLE_PERMISSIONS, Permission, RoleGrant, has_permission, scope_units
from models.suggestions.anonymity import shown_unit
from models.suggestions.tables import (
    OPEN_STATUSES,
    Suggestion,
    SuggestionEvent,
    SuggestionPhoto,
    SuggestionPolicy,
    SuggestionStatus,
    SuggestionSupport,
)
from models.units import PATH_SEPARATOR, Unit


@dataclass(frozen=True)
class CadreView:
    """A suggestion as a cadre sees it: ``proposer`` is None when it was handed in anonymously.

    ``unit`` is the unit it is shown under: its own, or for an anonymous one a unit large enough
    not to point at the proposer (:mod:`models.suggestions.anonymity`).
    """

    suggestion: Suggestion
    proposer: Member | None
    unit: Unit
    supporters: int
    photos: tuple[SuggestionPhoto, ...]
    events: tuple[SuggestionEvent, ...]
    reviewer: Member | None


@dataclass(frozen=True)
class QueueCounts:
    """What the top of a cadre's queue says: how many wait at each status, and how many are late."""

    by_status: Mapping[SuggestionStatus, int]
    overdue: int

    def waiting(self, statuses: Iterable[SuggestionStatus]) -> int:
        return sum(self.by_status.get(status, 0) for status in statuses)


# ----------------------------------------------------------------------------- scope


def review_scope(session: Session, actor: Member) -> list[Unit]:
    """The units whose subtrees ``actor`` reviews suggestions for, highest first, nested ones left out.

    Raises:
        PermissionDenied: the actor reviews suggestions nowhere.
    """
    units = scope_units(session, actor, Permission.REVIEW_SUGGESTIONS) if actor.is_active else []
    tops = [unit for unit in units if not any(other is not unit and other.contains(unit) for other in units)]
    if not tops:
        raise PermissionDenied(
            "suggestion.not_reviewer", N_("抱歉，只有负责合理化建议的工会干部才能处理建议。")
        )
    unique = {unit.id: unit for unit in tops}
    return sorted(unique.values(), key=lambda unit: unit.id_path)


def reviews_suggestions(session: Session, member: Member) -> bool:
    """Whether ``member`` reviews suggestions anywhere: who is offered 建议办理 and 建议统计."""
    return member.is_active and bool(scope_units(session, member, Permission.REVIEW_SUGGESTIONS))


def _in_units(units: Sequence[Unit]) -> sa.ColumnElement[bool]:
    """Suggestions of units in the subtrees of ``units`` (joined with Unit on the suggestion's unit)."""
    return sa.or_(*(col(Unit.id_path).startswith(unit.id_path) for unit in units))


def get_suggestion(session: Session, suggestion_id: int) -> Suggestion:
    """The suggestion, for the package's own steps and views; a cadre's scope is checked apart.

    Raises:
        NotFound: no such suggestion.
    """
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
    return suggestion


def require_reviewer(session: Session, actor: Member, suggestion: Suggestion) -> Unit:
    """The suggestion's unit, if ``actor`` reviews suggestions there.

    Raises:
        PermissionDenied: it lies outside the actor's subtree.
    """
    unit = session.get(Unit, suggestion.unit_id)
    assert unit is not None
    if not has_permission(session, actor, Permission.REVIEW_SUGGESTIONS, unit):
        raise PermissionDenied(
            "suggestion.out_of_scope", N_("抱歉，这条建议不在您负责的单位范围内，不能处理。")
        )
    return unit


# ----------------------------------------------------------------------------- members


def suggestions_of(
    session: Session, *, member: Member, offset: int = 0, limit: int = 5
) -> tuple[int, Sequence[Suggestion]]:
    """A member's own suggestions, newest first, with their count."""
    condition = col(Suggestion.proposer_id) == member.id
    total = session.exec(select(func.count()).select_from(Suggestion).where(condition)).one()
    rows = session.exec(
        select(Suggestion).where(condition).order_by(col(Suggestion.id).desc()).offset(offset).limit(limit)
    ).all()
    return total, rows


def own_suggestion(session: Session, *, member: Member, suggestion_id: int) -> Suggestion:
    """One of the member's own suggestions.

    Raises:
        NotFound: no such suggestion, or it is someone else's (a member may not learn whose).
    """
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.proposer_id != member.id:
        raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
    return suggestion


def history(session: Session, suggestion_id: int) -> Sequence[SuggestionEvent]:
    """Every event of a suggestion, oldest first."""
    return session.exec(
        select(SuggestionEvent)
        .where(SuggestionEvent.suggestion_id == suggestion_id)
        .order_by(col(SuggestionEvent.at), col(SuggestionEvent.id))
    ).all()


def photos_of(session: Session, suggestion_id: int) -> Sequence[SuggestionPhoto]:
    return session.exec(
        select(SuggestionPhoto)
        .where(SuggestionPhoto.suggestion_id == suggestion_id)
        .order_by(col(SuggestionPhoto.position))
    ).all()


def supporter_count(session: Session, suggestion_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(SuggestionSupport)
        .where(SuggestionSupport.suggestion_id == suggestion_id)
    ).one()


# ----------------------------------------------------------------------------- cadres


def review_queue(
    session: Session,
    *,
    actor: Member,
    today: date,
    statuses: Sequence[SuggestionStatus] | None = None,
    category: str | None = None,
    offset: int = 0,
    limit: int = 5,
) -> tuple[int, Sequence[Suggestion]]:
    """Open suggestions of the actor's subtree: overdue first, then by deadline, then oldest.

    Raises:
        PermissionDenied: the actor reviews suggestions nowhere.
    """
    units = review_scope(session, actor)
    wanted = statuses or [status for status in SuggestionStatus if status in OPEN_STATUSES]
    conditions = [_in_units(units), col(Suggestion.status).in_(wanted)]
    if category is not None:
        conditions.append(col(Suggestion.category) == category)
    base = select(Suggestion).join(Unit, col(Unit.id) == Suggestion.unit_id).where(*conditions)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    overdue = sa.case((col(Suggestion.due_on) < today, 0), else_=1)
    no_deadline = sa.case((col(Suggestion.due_on).is_(None), 1), else_=0)
    rows = session.exec(
        base.order_by(overdue, no_deadline, col(Suggestion.due_on), col(Suggestion.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return total, rows


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
        .where(_in_units(units), col(Suggestion.status).in_(sorted(OPEN_STATUSES)))
        .group_by(col(Suggestion.status))
    ).all()
    return QueueCounts(
        by_status={SuggestionStatus(status): int(count) for status, count, _ in rows},
        overdue=sum(int(overdue or 0) for _, _, overdue in rows),
    )


def cadre_view(session: Session, *, actor: Member, suggestion_id: int, policy: SuggestionPolicy) -> CadreView:
    """A suggestion in full for a cadre of its subtree; an anonymous proposer stays unknown, even by unit.

    Raises:
        NotFound: no such suggestion.
        PermissionDenied: it lies outside the actor's subtree.
    """
    suggestion = get_suggestion(session, suggestion_id)
    unit = require_reviewer(session, actor, suggestion)
    assert suggestion.id is not None
    proposer = None if suggestion.anonymous else session.get(Member, suggestion.proposer_id)
    events = tuple(history(session, suggestion.id))
    if suggestion.anonymous:
        # The history must not give away what the row hides: the proposer's own steps lose their actor.
        events = tuple(
            SuggestionEvent.model_validate(
                {**event.model_dump(), "actor_id": None}
                if event.actor_id == suggestion.proposer_id
                else event.model_dump()
            )
            for event in events
        )
    reviewer = session.get(Member, suggestion.reviewer_id) if suggestion.reviewer_id else None
    return CadreView(
        suggestion=suggestion,
        proposer=proposer,
        unit=shown_unit(session, suggestion, policy) if suggestion.anonymous else unit,
        supporters=supporter_count(session, suggestion.id),
        photos=tuple(photos_of(session, suggestion.id)),
        events=events,
        reviewer=reviewer,
    )


def reviewers_for(session: Session, *, actor: Member, suggestion_id: int) -> list[Member]:
    """Cadres who may be named to handle a suggestion: active, reviewing its unit, the actor first."""
    suggestion = get_suggestion(session, suggestion_id)
    unit = require_reviewer(session, actor, suggestion)
    # Only grants on the unit or above it can cover it: one indexed query, however many cadres.
    ancestors = [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    rows = session.exec(
        select(Member, RoleGrant, Unit)
        .join(RoleGrant, col(RoleGrant.member_id) == Member.id)
        .join(Unit, col(Unit.id) == RoleGrant.unit_id)
        .where(col(RoleGrant.unit_id).in_(ancestors))
        .order_by(col(Member.id))
    ).all()
    found: dict[int, Member] = {}
    for member, grant, grant_unit in rows:
        if (
            member.is_active
            and Permission.REVIEW_SUGGESTIONS in ROLE_PERMISSIONS[grant.role]
            and grant_unit.contains(unit)
            and member.id is not None
        ):
            found[member.id] = member
    ordered = sorted(found.values(), key=lambda member: (member.id != actor.id, member.id))
    return ordered
