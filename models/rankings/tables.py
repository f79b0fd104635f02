"""The ranking digests (打分排队) as stored: one digest per month or quarter, one entry per unit ranked.

A digest is computed once and kept: the monthly push, the 排行榜 view and next
month's "what moved" all read the same figures, and a quarter's published
ranking stays as the chair published it even if the data behind it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, string_enum, utcnow
from models.errors import N_, InvalidInput

DIGEST_TOPIC = "ranking_digest"  # a member's own unit, to each member
TABLE_TOPIC = "ranking_table"  # the table of a cadre's subtree
DRAFT_TOPIC = "ranking_draft"  # a quarter's draft, to those who may publish it


class DigestKind(StrEnum):
    MONTH = "month"  # pushed to every member when computed
    QUARTER = "quarter"  # 季评比: a draft, published by the chair as a notice


class DigestStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


STATUS_TRANSITIONS: dict[DigestStatus, frozenset[DigestStatus]] = {
    DigestStatus.DRAFT: frozenset({DigestStatus.PUBLISHED}),
    DigestStatus.PUBLISHED: frozenset(),
}


class Tier(StrEnum):
    BENCHMARK = "benchmark"  # 标杆
    EXCELLENT = "excellent"  # 优秀
    PASSING = "passing"  # 达标
    FAILING = "failing"  # 不达标


TIER_LABELS: dict[Tier, str] = {
    Tier.BENCHMARK: N_("标杆"),
    Tier.EXCELLENT: N_("优秀"),
    Tier.PASSING: N_("达标"),
    Tier.FAILING: N_("不达标"),
}

STAR_LABELS: dict[int, str] = {1: N_("一星"), 2: N_("二星"), 3: N_("三星"), 4: N_("四星"), 5: N_("五星")}

# The weights a union starts from, by score id; a score no weight names gets the default weight.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "suggestions_per_100": 25,
    "adoption_rate": 20,
    "answered_on_time": 15,
    "activity_participation": 15,
    "dues_collection": 15,
    "hardship_on_time": 10,
}


@dataclass(frozen=True)
class RankingPolicy:
    """The union's settings for the ranking (``UNIONBOT_RANKING_*``).

    Attributes:
        weights: each score's weight by its id; 0 leaves a score out of the composite.
        default_weight: the weight of a score the weights do not name (a feature added later).
        tiers: the composite a unit needs for 标杆, 优秀 and 达标; below the last, 不达标.
        stars: the composite for two, three, four and five stars; below the first, one star.
        top_units: how many units each member's digest names as the level's best.
        top_contributors: how many members the digest names for their 金点子 points.
        zone: the union's time zone: months and quarters are its calendar's.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    default_weight: float = 10
    tiers: tuple[float, float, float] = (90, 80, 60)
    stars: tuple[float, float, float, float] = (40, 60, 75, 90)
    top_units: int = 3
    top_contributors: int = 5
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def weight(self, score_id: str) -> float:
        return float(self.weights.get(score_id, self.default_weight))

    def tier(self, score: float) -> Tier:
        benchmark, excellent, passing = self.tiers
        if score >= benchmark:
            return Tier.BENCHMARK
        if score >= excellent:
            return Tier.EXCELLENT
        if score >= passing:
            return Tier.PASSING
        return Tier.FAILING

    def star_count(self, score: float) -> int:
        return 1 + sum(1 for threshold in self.stars if score >= threshold)


class RankingDigest(SQLModel, table=True):
    """One month's or quarter's ranking of every level of units.

    Attributes:
        period: "2026-11" or "2026-Q4": names the digest in outbox keys, the command line and chat.
        weights: the weights it was computed with, by score id, so it reads the same later.
        scores: the score ids it took, in order, with their labels' msgids.
        left_out: score ids no unit had data for; the digest says they were left out.
        contributors: the period's top named contributors, ``[[member_id, points], …]``.
        notice_id: the notice a quarter's ranking was published as.
    """

    __tablename__ = "ranking_digest"

    id: int | None = Field(default=None, primary_key=True)
    kind: DigestKind = Field(sa_type=string_enum(DigestKind, 16))
    period: str = Field(max_length=16, unique=True)
    status: DigestStatus = Field(default=DigestStatus.DRAFT, sa_type=string_enum(DigestStatus, 16))
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    weights: dict[str, Any] = Field(default_factory=dict, sa_type=MutableDict.as_mutable(sa.JSON()))
    scores: list[Any] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))
    left_out: list[Any] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))
    contributors: list[Any] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by_id: int | None = Field(default=None, foreign_key="member.id")
    notice_id: int | None = Field(default=None)


class RankingEntry(SQLModel, table=True):
    """A unit's place at its level (same depth under the same root) in one digest.

    Attributes:
        score: the composite, 0–100, one decimal; None when no score had data for the unit.
        rank: 1 for the best; units with equal composites share a rank; None without a score.
        components: ``{score_id: [value, normalised]}`` for each score with data for the unit.
        missing: the score ids with data elsewhere at the level but none for this unit, whose
            weight was shared among the others for it.
        points: the 金点子 points of the unit's subtree, anonymous suggestions included.
    """

    __tablename__ = "ranking_entry"
    __table_args__ = (sa.UniqueConstraint("digest_id", "unit_id", name="uq_ranking_entry_digest_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="ranking_digest.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    root_id: int
    depth: int
    level_size: int
    score: float | None = Field(default=None)
    rank: int | None = Field(default=None)
    tier: Tier | None = Field(default=None, sa_type=string_enum(Tier, 16))
    stars: int | None = Field(default=None)
    points: int = Field(default=0)
    components: dict[str, Any] = Field(default_factory=dict, sa_type=MutableDict.as_mutable(sa.JSON()))
    missing: list[Any] = Field(default_factory=list, sa_type=MutableList.as_mutable(sa.JSON()))


def transition(digest: RankingDigest, to: DigestStatus) -> None:
    """Move the digest on if its lifecycle allows it.

    Raises:
        InvalidInput: ``ranking.already_published``.
    """
    if to not in STATUS_TRANSITIONS[digest.status]:
        raise InvalidInput(
            "ranking.already_published",
            N_("{period} 的排名已经发布过了。"),
            period=digest.period,
        )
    digest.status = to
