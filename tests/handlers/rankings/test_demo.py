"""``make demo`` leaves last month's digest behind, so 排行榜 shows something at once."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from bot.demo_data import DEMO_MEMBER_NO, seed_demo
from handlers.core.context import CoreConfig
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.rankings.digests import latest_digest
from models.rankings.tables import RankingEntry
from tests.handlers.rankings.conftest import CONFIG


def test_the_demo_union_has_last_months_ranking(db: SessionFactory) -> None:
    assert seed_demo(db, replace(CONFIG, policies={}), REGISTRY)
    with db() as session:
        digest = latest_digest(session)
        assert digest is not None
        entries = session.exec(select(RankingEntry).where(RankingEntry.digest_id == digest.id)).all()
        assert any(entry.rank == 1 for entry in entries)
        assert DEMO_MEMBER_NO


def test_without_scores_configured_the_demo_still_loads(db: SessionFactory) -> None:
    assert seed_demo(db, CoreConfig(), REGISTRY)
