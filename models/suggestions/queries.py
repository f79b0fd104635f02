"""What is read about suggestions: who reviews what, a member's own list, the cadre's queue and full view.

Nothing here writes. The scope checks (:func:`review_scope`, :func:`require_reviewer`)
are the same ones the cadre's steps in :mod:`models.suggestions.actions` pass
before they change anything, so a cadre sees exactly the suggestions they may handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

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


@dataclass(frozen=True)
class MyEntry:
    """One line of 我的建议: a suggestion, whether the member wrote it or backed it, and where it went."""

    suggestion: Suggestion
    own: bool
    merged_into: Suggestion | None


@dataclass(frozen=True)
class MyList:
    """A page of 我的建议 and how many the member wrote and backed in all."""

    own: int
    backed: int
    entries: Sequence[MyEntry]

    @property
    def total(self) -> int:
        return self.own + self.backed


def _backed_by(member: Member) -> sa.ColumnElement[bool]:
    """Suggestions (joined with their supports) the member backed and did not write themselves."""
    return sa.and_(col(SuggestionSupport.member_id) == member.id, col(Suggestion.proposer_id) != member.id)


def my_suggestions(session: Session, *, member: Member, offset: int = 0, limit: int = 5) -> MyList:
    """The member's own suggestions, newest first, then those they backed (附议), latest backing first.

    A merged suggestion comes with the one it went into: its proposer and supporters were moved
    there as supporters, so that one is in the second part of the list too.
    """
    own_total = session.exec(
        select(func.count()).select_from(Suggestion).where(col(Suggestion.proposer_id) == member.id)
    ).one()
    backed_total = session.exec(
        select(func.count())
        .select_from(Suggestion)
        .join(SuggestionSupport, col(SuggestionSupport.suggestion_id) == Suggestion.id)
        .where(_backed_by(member))
    ).one()
    rows: list[tuple[Suggestion, bool]] = []
    if limit > 0 and offset < own_total:
        own = session.exec(
            select(Suggestion)
            .where(col(Suggestion.proposer_id) == member.id)
            .order_by(col(Suggestion.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
        rows += [(suggestion, True) for suggestion in own]
    if limit - len(rows) > 0:
        backed = session.exec(
            select(Suggestion)
            .join(SuggestionSupport, col(SuggestionSupport.suggestion_id) == Suggestion.id)
            .where(_backed_by(member))
            .order_by(col(SuggestionSupport.created_at).desc(), col(Suggestion.id).desc())
            .offset(max(0, offset - own_total))
            .limit(limit - len(rows))
        ).all()
        rows += [(suggestion, False) for suggestion in backed]
    targets = _merge_targets(session, [suggestion for suggestion, _own in rows])
    entries = [
        MyEntry(suggestion=suggestion, own=own, merged_into=targets.get(suggestion.merged_into_id or 0))
        for suggestion, own in rows
    ]
    return MyList(own=own_total, backed=backed_total, entries=entries)


def _merge_targets(session: Session, suggestions: Sequence[Suggestion]) -> dict[int, Suggestion]:
    wanted = sorted({s.merged_into_id for s in suggestions if s.merged_into_id is not None})
    if not wanted:
        return {}
    found = session.exec(select(Suggestion).where(col(Suggestion.id).in_(wanted))).all()
    return {suggestion.id: suggestion for suggestion in found if suggestion.id is not None}


@dataclass(frozen=True)
class MemberView:
    """A suggestion as a member who wrote or backed it reads it.

    ``proposer`` is who wrote one the member backed, when they wrote under their name; None for
    the member's own and for an anonymous one. ``backed_at`` is when the member backed it.
    """

    suggestion: Suggestion
    own: bool
    merged_into: Suggestion | None
    proposer: Member | None
    supporters: int
    backed_at: datetime | None


def member_view(session: Session, *, member: Member, suggestion_id: int) -> MemberView:
    """One suggestion the member wrote or backed (a merged one's included: they were moved there).

    Raises:
        NotFound: no such suggestion, or the member neither wrote nor backed it.
    """
    suggestion = session.get(Suggestion, suggestion_id)
    support = session.get(SuggestionSupport, (suggestion_id, member.id)) if member.id is not None else None
    own = suggestion is not None and suggestion.proposer_id == member.id
    if suggestion is None or not (own or support is not None):
        raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
    proposer = None if own or suggestion.anonymous else session.get(Member, suggestion.proposer_id)
    return MemberView(
        suggestion=suggestion,
        own=own,
        merged_into=_merge_targets(session, [suggestion]).get(suggestion.merged_into_id or 0),
        proposer=proposer,
        supporters=supporter_count(session, suggestion_id),
        backed_at=None if own or support is None else support.created_at,
    )


def visible_by_number(session: Session, *, member: Member, number: str) -> int | None:
    """The id of the suggestion numbered ``number`` (in full) if the member wrote or backed it."""
    suggestion = session.exec(select(Suggestion).where(Suggestion.number == number)).first()
    if suggestion is None or suggestion.id is None:
        return None
    if suggestion.proposer_id == member.id:
        return suggestion.id
    backed = session.get(SuggestionSupport, (suggestion.id, member.id)) if member.id is not None else None
    return suggestion.id if backed is not None else None


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


def reviewable_by_number(session: Session, *, actor: Member, number: str) -> int | None:
    """The id of the suggestion numbered ``number`` (in full), if ``actor`` reviews its unit; else None.

    A number outside the actor's subtree is None like one nobody has: a cadre learns nothing of it.
    """
    suggestion = session.exec(select(Suggestion).where(Suggestion.number == number)).first()
    if suggestion is None or suggestion.id is None:
        return None
    unit = session.get(Unit, suggestion.unit_id)
    if unit is None or not has_permission(session, actor, Permission.REVIEW_SUGGESTIONS, unit):
        return None
    return suggestion.id


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
