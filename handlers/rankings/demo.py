"""The demo union's rankings: last month's digest (and the month's before, for "what moved"),
computed from the demo's own suggestions and activities, so 排行榜 shows something at once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.core.context import CoreConfig
from handlers.rankings.inputs import points_input, score_inputs
from models.rankings.digests import compute_digest
from models.rankings.periods import DigestPeriod
from models.rankings.tables import RankingPolicy


def seed_rankings(session: Session, config: CoreConfig, now: datetime) -> None:
    policy = config.policy(RankingPolicy)
    last = DigestPeriod.month_of(now.astimezone(policy.zone).date()).previous()
    for period in (last.previous(), last):
        compute_digest(
            session,
            period=period,
            scores=score_inputs(config),
            points=points_input(config),
            policy=policy,
            now=now,
        )
