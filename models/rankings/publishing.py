"""Publishing a quarter's ranking (季评比): the chair's draft becomes a notice to the whole union.

The ranking is the union's own announcement (通报) of how its units stand, so it goes
out under 通知公告, as 季度评比's result does, to every member of the units it ranks.
The text is worded by the caller in the union's language (the notice is one text for
everyone); the rules — who may publish, once only, nothing half-written — are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from models.members import Member
from models.notices import Attachment, Notice, NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.rankings.digests import ranked_roots, require_publisher
from models.rankings.tables import DigestStatus, RankingDigest, transition


def publish_digest(
    session: Session,
    *,
    actor: Member,
    digest: RankingDigest,
    parts: Sequence[tuple[str, str]],
    now: datetime,
    attachment: Attachment | None = None,
) -> list[Notice]:
    """Publish a quarter's draft: mark it published and send it as notices to the ranked units.

    Args:
        parts: each notice's title and body, in order (a long ranking goes out in parts).
        attachment: the chart, with the first part.

    Returns:
        The notices queued.

    Raises:
        PermissionDenied: ``ranking.publish_not_allowed``, the actor is not the union's chair or
            admin; or create_notice's refusals (sending notices there).
        InvalidInput: ``ranking.already_published``; or create_notice's (a text too long).
    """
    require_publisher(session, actor)
    transition(digest, DigestStatus.PUBLISHED)
    target = Target(kind=TargetKind.UNITS, unit_ids=tuple(ranked_roots(session, digest)))
    notices = []
    for index, (title, body) in enumerate(parts):
        draft = NoticeDraft(
            title=title,
            body=body,
            category=NoticeCategory.NOTICE,
            target=target,
            attachment=attachment if index == 0 else None,
        )
        notices.append(create_notice(session, actor=actor, draft=draft, now=now))
    digest.published_at = now
    digest.published_by_id = actor.id
    digest.notice_id = notices[0].id if notices else None
    session.add(digest)
    return notices
