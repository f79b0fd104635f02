"""帮扶及时率: the share of a unit's cases first contacted and visited within their limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from handlers.core.module import ScorePeriod
from handlers.modules import REGISTRY
from models.hardship import HardshipPolicy, VisitRecord, record_visit
from models.units import UnitTree
from tests.models.hardship.cast import NOW, Cast, apply, cast

__all__ = ["cast"]

POLICY = HardshipPolicy()


def _visit(session: Session, cast: Cast, case_id: int, days_later: int) -> None:
    when = NOW + timedelta(days=days_later)
    record_visit(
        session,
        actor=cast.chair,
        case_id=case_id,
        expected_version=1,
        visit=VisitRecord(
            visited_on=POLICY.today(when),
            visitors="王主席",
            family="四口之家。",
            mind="稳定。",
            cause="疾病。",
            needs="医药费。",
        ),
        policy=POLICY,
        now=when,
    )


def test_the_share_on_time_per_ranked_unit_leaving_out_units_without_cases(
    session: Session, cast: Cast
) -> None:
    on_time = apply(session, cast.member)  # contact by 26 November, visit by 30 November
    late = apply(session, cast.member)
    waiting = apply(session, cast.group_member)  # never visited: late too once its visit was due
    assert on_time.id is not None
    assert late.id is not None
    assert waiting.id is not None
    _visit(session, cast, on_time.id, 2)
    _visit(session, cast, late.id, 10)
    tree = UnitTree(session)
    first, second = tree.ensure("厂工会/一车间"), tree.ensure("厂工会/二车间")
    assert first.id is not None
    assert second.id is not None
    subtrees = {
        first.id: frozenset(
            unit.id
            for unit in (first, tree.ensure("厂工会/一车间/甲班"), tree.ensure("厂工会/一车间/乙班/一组"))
            if unit.id
        ),
        second.id: frozenset({second.id}),
    }
    [score] = [score for score in REGISTRY.scores if score.id == "hardship_on_time"]
    period = ScorePeriod(datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC))
    assert score.compute(session, period, subtrees) == {first.id: 1 / 3}
    assert score.compute(session, ScorePeriod(period.end, period.end + timedelta(days=31)), subtrees) == {}
