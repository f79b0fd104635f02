"""What the ranking ranks by: every module's registered scores, and the 金点子 points.

The scores come from the configuration (``CoreConfig.scores``, the registry's), so
this feature names no other; the points are the suggestions' own rule
(:mod:`models.suggestions.scores`), the one place it reads another feature's models,
named in .importlinter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session

from handlers.core.context import CoreConfig
from handlers.core.module import Score, ScorePeriod
from models.rankings.digests import BoundCompute, Contribution, PointsInput, ScoreInput
from models.suggestions.scores import contribution_points
from models.suggestions.tables import SuggestionPolicy


def _bound(score: Score, config: CoreConfig) -> BoundCompute:
    def compute(
        session: Session, start: datetime, end: datetime, subtrees: Mapping[int, frozenset[int]]
    ) -> Mapping[int, float]:
        return score.compute(session, ScorePeriod(start, end, config), subtrees)

    return compute


def score_inputs(config: CoreConfig) -> list[ScoreInput]:
    """Each registered score, as the ranking's models take it."""
    return [ScoreInput(score.id, score.label, _bound(score, config)) for score in config.scores]


def points_input(config: CoreConfig) -> PointsInput:
    policy = config.policy(SuggestionPolicy)

    def points(session: Session, start: datetime, end: datetime) -> Sequence[Contribution]:
        return [
            Contribution(member_id=member_id, unit_id=unit_id, points=earned)
            for member_id, unit_id, earned in contribution_points(session, start, end, policy)
        ]

    return points
