"""The proposer's side: writing a suggestion, finding a like one to back instead, and naming oneself later.

A draft is checked in full before anything is written (:func:`check_draft`), so
the form can ask again for what does not fit. While the member writes, the
suggestions of their union most like it are offered (:func:`similar_suggestions`),
never naming who wrote them, so the same idea gets backed (附议) rather than
filed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from models.errors import N_, InvalidInput, Label, NotFound, PermissionDenied
from models.members import Member
from models.suggestions import similarity
from models.suggestions.queries import own_suggestion, supporter_count
from models.suggestions.tables import (
    BENEFIT_MAX,
    MEASURE_MAX,
    PHOTOS_MAX,
    STATUS_LABELS,
    SUPPORTABLE_STATUSES,
    TITLE_MAX,
    EventKind,
    Suggestion,
    SuggestionPhoto,
    SuggestionPolicy,
    SuggestionStatus,
    SuggestionSupport,
    check_amount,
    check_text,
    record_event,
    set_due,
    suggestion_number,
)
from models.units import PATH_SEPARATOR, Unit


@dataclass(frozen=True)
class PhotoRef:
    """A photo as the form kept it: the stored file and its type."""

    ref: str
    mime_type: str | None = None


@dataclass(frozen=True)
class SuggestionDraft:
    """What the member wrote, not yet checked."""

    category: str
    title: str
    measure: str
    benefit: str | None = None
    benefit_fen: int | None = None
    anonymous: bool = False
    photos: tuple[PhotoRef, ...] = ()


@dataclass(frozen=True)
class Similar:
    """A suggestion like the one being written, as a member may see it: never who wrote it."""

    id: int
    number: str
    title: str
    status: SuggestionStatus
    supporters: int
    score: float


class SupportOutcome(StrEnum):
    SUPPORTED = "supported"
    ALREADY = "already"


def check_draft(draft: SuggestionDraft, policy: SuggestionPolicy) -> None:
    """Every rule a new suggestion must meet, so nothing half-checked reaches the database.

    Raises:
        InvalidInput: an unknown category, empty or over-long text, a bad amount or too many photos.
    """
    if draft.category not in policy.categories:
        raise InvalidInput("suggestion.category", N_("请从列出的类别中选择一个。"))
    check_text(
        draft.title,
        code="title",
        limit=TITLE_MAX,
        empty=N_("建议标题不能为空，请重新输入。"),
        too_long=N_("建议标题太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    check_text(
        draft.measure,
        code="measure",
        limit=MEASURE_MAX,
        empty=N_("问题和建议措施不能为空，请重新输入。"),
        too_long=N_("问题和建议措施太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
    )
    check_text(
        draft.benefit,
        code="benefit",
        limit=BENEFIT_MAX,
        empty=None,
        too_long=N_("预期效益太长了：最多 {limit} 个字，现在是 {count} 个字。请精简后重新发送。"),
        optional=True,
    )
    check_amount(draft.benefit_fen)
    if len(draft.photos) > PHOTOS_MAX:
        raise InvalidInput("suggestion.photos", N_("最多可以附 {limit} 张照片。"), limit=PHOTOS_MAX)


def submit_suggestion(
    session: Session, *, actor: Member, draft: SuggestionDraft, policy: SuggestionPolicy, now: datetime
) -> Suggestion:
    """Register a member's suggestion under a tracking number, with the clock of its first stage started.

    Raises:
        PermissionDenied: the member is not active.
        InvalidInput: the draft breaks a rule (see :func:`check_draft`).
    """
    if not actor.is_active:
        raise PermissionDenied("suggestion.inactive", N_("抱歉，只有在册会员才能提合理化建议。"))
    check_draft(draft, policy)
    assert actor.id is not None
    suggestion = Suggestion(
        proposer_id=actor.id,
        unit_id=actor.unit_id,
        category=draft.category,
        title=draft.title.strip(),
        measure=draft.measure.strip(),
        benefit=draft.benefit.strip() if draft.benefit and draft.benefit.strip() else None,
        benefit_fen=draft.benefit_fen,
        anonymous=draft.anonymous,
        terms=similarity.index_terms(draft.title, draft.measure),
        submitted_at=now,
        updated_at=now,
    )
    set_due(suggestion, policy, now)
    session.add(suggestion)
    session.flush()
    assert suggestion.id is not None
    # From the id, not a count per year: two members submitting at once can never get one number.
    suggestion.number = suggestion_number(policy.today(now).year, suggestion.id)
    for position, photo in enumerate(draft.photos, start=1):
        session.add(
            SuggestionPhoto(
                suggestion_id=suggestion.id, position=position, ref=photo.ref, mime_type=photo.mime_type
            )
        )
    record_event(session, suggestion, kind=EventKind.SUBMITTED, actor=actor, now=now)
    return suggestion


def reveal_name(session: Session, *, actor: Member, suggestion_id: int, now: datetime) -> Suggestion:
    """The proposer of an anonymous suggestion lets the reviewers see their name; there is no way back.

    Raises:
        NotFound: not the actor's suggestion.
        InvalidInput: ``suggestion.not_anonymous``.
    """
    suggestion = own_suggestion(session, member=actor, suggestion_id=suggestion_id)
    if not suggestion.anonymous:
        raise InvalidInput("suggestion.not_anonymous", N_("这条建议本来就是实名提交的。"))
    # Not a handling step: the version a cadre's open form holds stays valid.
    suggestion.anonymous = False
    record_event(session, suggestion, kind=EventKind.NAME_REVEALED, actor=actor, now=now)
    return suggestion


def _union_root(session: Session, member: Member) -> Unit:
    unit = session.get(Unit, member.unit_id)
    assert unit is not None
    root_id = int(unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[0])
    root = session.get(Unit, root_id)
    assert root is not None
    return root


def similar_suggestions(
    session: Session, *, actor: Member, fields: Sequence[str], limit: int = 3
) -> list[Similar]:
    """Up to ``limit`` suggestions of the actor's union like what they wrote, best first, none their own.

    ``fields`` are what the member has written, field by field (the title; later the title, the
    measure and the two together): a suggestion like any one of them is offered, so a close match
    of the measure is not lost under a title in other words (:func:`similarity.rank_any`).

    Only suggestions the member could still back are offered: a merged one's supporters moved on, and
    one already decided against or closed can no longer gather support.
    """
    queries = [query for query in (similarity.terms(text) for text in fields) if query]
    if not queries:
        return []
    root = _union_root(session, actor)
    rows = session.exec(
        select(Suggestion.id, Suggestion.terms)
        .join(Unit, col(Unit.id) == Suggestion.unit_id)
        .where(
            col(Unit.id_path).startswith(root.id_path),
            col(Suggestion.status).in_(SUPPORTABLE_STATUSES),
            col(Suggestion.proposer_id) != actor.id,
        )
    ).all()
    ranked = similarity.rank_any(
        queries, ((row_id, terms) for row_id, terms in rows if row_id is not None), limit=limit
    )
    found = []
    for suggestion_id, score in ranked:
        suggestion = session.get(Suggestion, suggestion_id)
        assert suggestion is not None
        assert suggestion.number is not None
        found.append(
            Similar(
                id=suggestion_id,
                number=suggestion.number,
                title=suggestion.title,
                status=suggestion.status,
                supporters=supporter_count(session, suggestion_id),
                score=score,
            )
        )
    return found


def support_suggestion(
    session: Session, *, actor: Member, suggestion_id: int, now: datetime
) -> SupportOutcome:
    """Add the actor's support (附议) to a suggestion of their union.

    Raises:
        NotFound: no such suggestion in the actor's union.
        InvalidInput: it is the actor's own, or it is no longer open.
    """
    suggestion = session.get(Suggestion, suggestion_id)
    root = _union_root(session, actor)
    unit = session.get(Unit, suggestion.unit_id) if suggestion is not None else None
    if suggestion is None or unit is None or not root.contains(unit):
        raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
    if suggestion.proposer_id == actor.id:
        raise InvalidInput("suggestion.support_own", N_("这是您自己提的建议，不用再附议。"))
    if suggestion.status not in SUPPORTABLE_STATUSES:
        raise InvalidInput(
            "suggestion.support_closed",
            N_("这条建议已经“{status}”，不能再附议了。"),
            status=Label(STATUS_LABELS[suggestion.status]),
        )
    assert actor.id is not None
    if session.get(SuggestionSupport, (suggestion_id, actor.id)) is not None:
        return SupportOutcome.ALREADY
    session.add(SuggestionSupport(suggestion_id=suggestion_id, member_id=actor.id, created_at=now))
    session.flush()
    return SupportOutcome.SUPPORTED
