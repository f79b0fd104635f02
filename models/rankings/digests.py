"""Computing, keeping and reading the ranking digests, and queuing their pushes.

The ranking knows no feature. Its inputs come in as :class:`ScoreInput`s (the
handlers turn every registered ``Score`` into one) and the 金点子 points as a
:data:`PointsInput`; this module ranks what they return (:mod:`models.rankings.compute`)
and stores it. A digest is computed once per period: a second run of the job finds it
and queues under the same outbox keys (``digest:2026-11:member:1007``), so nothing is
sent twice, and the figures a member was sent are the ones 排行榜 shows later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.errors import N_, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.preferences import members_with_reminder_off
from models.rankings.compute import UnionShape, place_level, union_shape
from models.rankings.periods import DigestPeriod
from models.rankings.tables import (
    DIGEST_TOPIC,
    DRAFT_TOPIC,
    TABLE_TOPIC,
    DigestKind,
    DigestStatus,
    RankingDigest,
    RankingEntry,
    RankingPolicy,
)
from models.roles import ROLE_PERMISSIONS, Permission, RoleGrant, grants_of
from models.units import Unit

# The reminder topic a member turns the monthly digest off under (我的信息).
REMINDER_TOPIC = "ranking"

# (session, start, end, ranked unit → its subtree's unit ids) → raw value per ranked unit with data.
BoundCompute = Callable[[Session, datetime, datetime, Mapping[int, frozenset[int]]], Mapping[int, float]]


@dataclass(frozen=True)
class ScoreInput:
    """One registered score as the ranking takes it: its id, its label's msgid, its computation."""

    id: str
    label: str
    compute: BoundCompute


@dataclass(frozen=True)
class Contribution:
    """金点子 points earned in the period: by a named proposer, or anonymously (``member_id`` None).

    ``unit_id`` is the unit the points count for; an anonymous suggestion's counts for its unit
    without ever naming its proposer.
    """

    member_id: int | None
    unit_id: int
    points: int


PointsInput = Callable[[Session, datetime, datetime], Sequence[Contribution]]

# Pushes queued per statement batch by the monthly job.
QUEUE_BATCH = 5000

# Who may publish a quarter's ranking: 季评比 is the chair's call (models.roles).
PUBLISH_PERMISSION = Permission.APPRAISE_SUGGESTIONS


def find_digest(session: Session, period: DigestPeriod) -> RankingDigest | None:
    return session.exec(select(RankingDigest).where(RankingDigest.period == period.key)).first()


def get_digest(session: Session, period: DigestPeriod) -> RankingDigest:
    """The digest of ``period``.

    Raises:
        NotFound: ``ranking.no_digest``: none was computed for it.
    """
    digest = find_digest(session, period)
    if digest is None:
        raise NotFound("ranking.no_digest", N_("{period} 还没有排名。"), period=period.key)
    return digest


def read_shape(session: Session) -> UnionShape:
    """The union's levels and subtrees, from one read of the units."""
    return union_shape(session.execute(sa.select(col(Unit.id), col(Unit.id_path))).all())


def compute_digest(
    session: Session,
    *,
    period: DigestPeriod,
    scores: Sequence[ScoreInput],
    points: PointsInput,
    policy: RankingPolicy,
    now: datetime,
) -> tuple[RankingDigest, bool]:
    """Rank every level of units for ``period`` and keep the result, unless it is kept already.

    A month's digest is published as it is computed; a quarter's is a draft until the chair
    publishes it (:func:`publish_digest`).

    Returns:
        The digest, and whether this call computed it (False: it was there already).
    """
    found = find_digest(session, period)
    if found is not None:
        return found, False
    shape = read_shape(session)
    ranked = {unit_id: shape.subtrees[unit_id] for level in shape.levels for unit_id in level.unit_ids}
    start, end = period.bounds(policy.zone)
    values = {score.id: dict(score.compute(session, start, end, ranked)) for score in scores}
    order = [score.id for score in scores]
    left_out = [score.id for score in scores if policy.weight(score.id) > 0 and not values[score.id]]

    by_unit: dict[int, int] = defaultdict(int)
    by_member: dict[int, int] = defaultdict(int)
    for contribution in points(session, start, end):
        by_unit[contribution.unit_id] += contribution.points
        if contribution.member_id is not None:
            by_member[contribution.member_id] += contribution.points
    unit_points: dict[int, int] = defaultdict(int)
    for unit_id, earned in by_unit.items():
        for above in shape.chains.get(unit_id, (unit_id,)):
            unit_points[above] += earned
    top = sorted(by_member.items(), key=lambda item: (-item[1], item[0]))[: policy.top_contributors]

    month = period.kind is DigestKind.MONTH
    digest = RankingDigest(
        kind=period.kind,
        period=period.key,
        status=DigestStatus.PUBLISHED if month else DigestStatus.DRAFT,
        starts_at=start,
        ends_at=end,
        weights={score.id: policy.weight(score.id) for score in scores},
        scores=[[score.id, score.label] for score in scores],
        left_out=left_out,
        contributors=[[member_id, earned] for member_id, earned in top],
        computed_at=now,
        published_at=now if month else None,
    )
    session.add(digest)
    session.flush()
    assert digest.id is not None
    rows = []
    for level in shape.levels:
        for placed in place_level(level.unit_ids, values, order, policy):
            rows.append(
                {
                    "digest_id": digest.id,
                    "unit_id": placed.unit_id,
                    "root_id": level.root_id,
                    "depth": level.depth,
                    "level_size": len(level.unit_ids),
                    "score": placed.score,
                    "rank": placed.rank,
                    "tier": placed.tier.value if placed.tier is not None else None,
                    "stars": placed.stars,
                    "points": unit_points.get(placed.unit_id, 0),
                    "components": {key: list(pair) for key, pair in placed.components.items()},
                    "missing": list(placed.missing),
                }
            )
    table = RankingEntry.__table__  # type: ignore[attr-defined]
    for first in range(0, len(rows), 1000):
        session.execute(sa.insert(table), rows[first : first + 1000])
    return digest, True


# ----------------------------------------------------------------------------- reading


def latest_digest(session: Session, *, drafts: bool = False) -> RankingDigest | None:
    """The most recent published digest (month or quarter), or the most recent draft too."""
    query = select(RankingDigest).order_by(col(RankingDigest.ends_at).desc(), col(RankingDigest.kind).desc())
    if not drafts:
        query = query.where(RankingDigest.status == DigestStatus.PUBLISHED)
    return session.exec(query.limit(1)).first()


def pending_draft(session: Session) -> RankingDigest | None:
    """The latest quarter's draft still waiting for the chair, if any."""
    return session.exec(
        select(RankingDigest)
        .where(RankingDigest.status == DigestStatus.DRAFT)
        .order_by(col(RankingDigest.ends_at).desc())
        .limit(1)
    ).first()


def entry_of(session: Session, digest_id: int, unit_id: int) -> RankingEntry | None:
    return session.exec(
        select(RankingEntry).where(RankingEntry.digest_id == digest_id, RankingEntry.unit_id == unit_id)
    ).first()


def level_entries(session: Session, digest_id: int, *, root_id: int, depth: int) -> list[RankingEntry]:
    """A level's entries, best first, units without a score last."""
    rows = session.exec(
        select(RankingEntry).where(
            RankingEntry.digest_id == digest_id, RankingEntry.root_id == root_id, RankingEntry.depth == depth
        )
    ).all()
    return sorted(rows, key=_rank_order)


def level_top(
    session: Session, digest_id: int, *, root_id: int, depth: int, limit: int
) -> list[RankingEntry]:
    """A level's best ``limit`` entries: what a member's digest and chart show of a level of
    hundreds, read without the rest of it."""
    return list(
        session.exec(
            select(RankingEntry)
            .where(
                RankingEntry.digest_id == digest_id,
                RankingEntry.root_id == root_id,
                RankingEntry.depth == depth,
                col(RankingEntry.rank).is_not(None),
            )
            .order_by(col(RankingEntry.rank), col(RankingEntry.unit_id))
            .limit(limit)
        ).all()
    )


def _rank_order(entry: RankingEntry) -> tuple[int, int, int]:
    return (entry.rank is None, entry.rank or 0, entry.unit_id)


def previous_digest(session: Session, digest: RankingDigest) -> RankingDigest | None:
    """The digest of the period before ``digest``'s (last month's, last quarter's), if kept."""
    return session.exec(
        select(RankingDigest)
        .where(
            RankingDigest.kind == digest.kind,
            col(RankingDigest.ends_at) <= digest.starts_at,
            RankingDigest.status == DigestStatus.PUBLISHED,
        )
        .order_by(col(RankingDigest.ends_at).desc())
        .limit(1)
    ).first()


def member_unit_entry(session: Session, digest: RankingDigest, member: Member) -> RankingEntry | None:
    """The entry of the member's own unit, or of the nearest unit above it that is ranked."""
    assert digest.id is not None
    unit = session.get(Unit, member.unit_id)
    if unit is None:
        return None
    chain = [int(part) for part in unit.id_path.strip("/").split("/") if part]
    rows = session.exec(
        select(RankingEntry).where(RankingEntry.digest_id == digest.id, col(RankingEntry.unit_id).in_(chain))
    ).all()
    return max(rows, key=lambda row: row.depth, default=None)


@dataclass(frozen=True)
class CadreView:
    """What a cadre's table shows: the level of their subtree and the units of it in that level."""

    unit: Unit
    root_id: int
    depth: int


def cadre_view(session: Session, *, actor: Member) -> CadreView | None:
    """The table a cadre is shown: the level just below their highest grant's unit, within its subtree.

    A cadre of a leaf unit (a 班组 leader) sees their own unit's level instead. None for a member
    without a role that carries a permission.
    """
    held = [unit for grant, unit in grants_of(session, actor) if ROLE_PERMISSIONS[grant.role]]
    if not held:
        return None
    top = min(held, key=lambda unit: (len(unit.id_path), unit.id or 0))
    chain = [int(part) for part in top.id_path.strip("/").split("/") if part]
    has_children = session.exec(select(Unit.id).where(Unit.parent_id == top.id).limit(1)).first() is not None
    depth = len(chain) if has_children else len(chain) - 1
    if depth < 1:
        return None
    return CadreView(unit=top, root_id=chain[0], depth=depth)


def subtree_entries(session: Session, digest: RankingDigest, view: CadreView) -> list[RankingEntry]:
    """The entries of the cadre's level that lie in their subtree, best first."""
    assert digest.id is not None
    inside = select(Unit.id).where(col(Unit.id_path).startswith(view.unit.id_path))
    rows = session.exec(
        select(RankingEntry).where(
            RankingEntry.digest_id == digest.id,
            RankingEntry.root_id == view.root_id,
            RankingEntry.depth == view.depth,
            col(RankingEntry.unit_id).in_(inside),
        )
    ).all()
    return sorted(rows, key=_rank_order)


# ----------------------------------------------------------------------------- pushes


def digest_key(period: str, audience: str, member_id: int) -> str:
    """``digest:2026-11:member:1007``: names the period, so a second run queues nothing again."""
    return f"digest:{period}:{audience}:{member_id}"


def queue_monthly_digest(session: Session, *, digest: RankingDigest, now: datetime, top: int = 3) -> int:
    """Queue the month's digest: each active member their unit's standing, each cadre their table.

    Members who turned the ranking reminder off (我的信息) get neither.

    Returns:
        How many pushes were new.
    """
    assert digest.id is not None
    opted_out = members_with_reminder_off(REMINDER_TOPIC)
    members = (
        session.execute(
            sa.select(col(Member.id))
            .where(col(Member.status) == MemberStatus.ACTIVE, col(Member.id).not_in(opted_out))
            .order_by(col(Member.id))
        )
        .scalars()
        .all()
    )
    added = 0
    # A batch at a time: 100,000 members' pushes are not held in memory at once.
    for first in range(0, len(members), QUEUE_BATCH):
        added += enqueue(
            session,
            (
                NewPush(
                    key=digest_key(digest.period, "member", member_id),
                    member_id=member_id,
                    kind=PushKind.DIGEST,
                    topic=DIGEST_TOPIC,
                    subject_id=digest.id,
                    params={"top": top},
                )
                for member_id in members[first : first + QUEUE_BATCH]
            ),
            now=now,
        )
    cadre_roles = [role.value for role, permissions in ROLE_PERMISSIONS.items() if permissions]
    cadres = session.execute(
        sa.select(col(RoleGrant.member_id))
        .distinct()
        .join(Member, col(Member.id) == RoleGrant.member_id)
        .where(
            col(RoleGrant.role).in_(cadre_roles),
            col(Member.status) == MemberStatus.ACTIVE,
            col(Member.id).not_in(members_with_reminder_off(REMINDER_TOPIC)),
        )
    ).scalars()
    pushes = [
        NewPush(
            key=digest_key(digest.period, "cadre", member_id),
            member_id=member_id,
            kind=PushKind.DIGEST,
            topic=TABLE_TOPIC,
            subject_id=digest.id,
        )
        for member_id in cadres
    ]
    return added + enqueue(session, pushes, now=now)


def publishers(session: Session) -> list[int]:
    """Who may publish a quarter's ranking: active holders of the permission on a root unit."""
    roles = [
        role.value for role, permissions in ROLE_PERMISSIONS.items() if PUBLISH_PERMISSION in permissions
    ]
    return list(
        session.execute(
            sa.select(col(RoleGrant.member_id))
            .distinct()
            .join(Unit, col(Unit.id) == RoleGrant.unit_id)
            .join(Member, col(Member.id) == RoleGrant.member_id)
            .where(
                col(RoleGrant.role).in_(roles),
                col(Unit.parent_id).is_(None),
                col(Member.status) == MemberStatus.ACTIVE,
            )
            .order_by(col(RoleGrant.member_id))
        ).scalars()
    )


def queue_quarter_draft(session: Session, *, digest: RankingDigest, now: datetime) -> int:
    """Tell those who may publish it that the quarter's draft is ready; nothing once it is published."""
    assert digest.id is not None
    if digest.status is not DigestStatus.DRAFT:
        return 0
    pushes = [
        NewPush(
            key=digest_key(digest.period, "draft", member_id),
            member_id=member_id,
            kind=PushKind.DIGEST,
            topic=DRAFT_TOPIC,
            subject_id=digest.id,
        )
        for member_id in publishers(session)
    ]
    return enqueue(session, pushes, now=now)


def may_publish(session: Session, actor: Member) -> bool:
    """Whether ``actor`` may publish a quarter's ranking: the permission on the whole union."""
    return any(
        PUBLISH_PERMISSION in ROLE_PERMISSIONS[grant.role] and unit.parent_id is None
        for grant, unit in grants_of(session, actor)
    )


def require_publisher(session: Session, actor: Member) -> None:
    """Raises: PermissionDenied ``ranking.publish_not_allowed``."""
    if not may_publish(session, actor):
        raise PermissionDenied("ranking.publish_not_allowed", N_("抱歉，季度排名由工会主席审定发布。"))


def ranked_roots(session: Session, digest: RankingDigest) -> list[int]:
    """The roots whose units the digest ranks: whom its notice goes to."""
    return sorted(
        session.execute(
            sa.select(col(RankingEntry.root_id)).distinct().where(col(RankingEntry.digest_id) == digest.id)
        ).scalars()
    )
