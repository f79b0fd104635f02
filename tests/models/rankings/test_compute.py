"""The composite, tiers and stars on a level worked out by hand (README, "排行榜")."""

from __future__ import annotations

import pytest

from models.rankings.compute import Placed, place_level, union_shape
from models.rankings.tables import RankingPolicy, Tier

POLICY = RankingPolicy(weights={"ideas": 50, "rate": 30, "dues": 20, "off": 0})
ORDER = ["ideas", "rate", "dues", "off"]
A, B, C, D = 11, 12, 13, 14


def by_unit(placed: list[Placed]) -> dict[int, Placed]:
    return {row.unit_id: row for row in placed}


def test_each_score_is_normalised_against_the_best_and_weighted() -> None:
    # ideas: the best is A's 10, so A → 100, B 5 → 50, C 8 → 80.
    # rate: the best is B's 90, so A 60 → 66.7, B → 100; C has none. dues: nobody has data.
    values = {"ideas": {A: 10, B: 5, C: 8}, "rate": {A: 60, B: 90}, "off": {A: 1, B: 9, C: 3}}
    placed = by_unit(place_level([A, B, C], values, ORDER, POLICY))
    # A = (50 × 100 + 30 × 66.67) / (50 + 30) = 87.5
    assert placed[A].score == 87.5
    # B = (50 × 50 + 30 × 100) / 80 = 68.75 → 68.8
    assert placed[B].score == pytest.approx(68.8)
    # C has no rate: its weight is shared, C = 50 × 80 / 50 = 80.0 (not 50 × 80 / 80 = 50).
    assert placed[C].score == 80.0
    assert placed[C].missing == ("rate", "dues")
    assert placed[A].missing == ("dues",)
    assert placed[A].components == {"ideas": (10.0, 100.0), "rate": (60.0, 66.7)}
    # A weight of 0 leaves a score out entirely, data or not.
    assert "off" not in placed[A].components
    assert "off" not in placed[A].missing


def test_ranks_tiers_and_stars_come_from_the_thresholds() -> None:
    values = {"ideas": {A: 10, B: 5, C: 8}, "rate": {A: 60, B: 90}}
    placed = place_level([A, B, C], values, ORDER, POLICY)
    assert [(row.unit_id, row.rank, row.tier, row.stars) for row in placed] == [
        (A, 1, Tier.EXCELLENT, 4),  # 87.5: 优秀 (≥ 80), four stars (≥ 75)
        (C, 2, Tier.EXCELLENT, 4),  # 80.0
        (B, 3, Tier.PASSING, 3),  # 68.8: 达标 (≥ 60), three stars (≥ 60)
    ]


def test_equal_composites_share_a_rank_and_a_unit_without_data_comes_last_unranked() -> None:
    values = {"ideas": {A: 4, B: 4, C: 2}}
    placed = place_level([A, B, C, D], values, ORDER, POLICY)
    assert [(row.unit_id, row.score, row.rank) for row in placed] == [
        (A, 100.0, 1),
        (B, 100.0, 1),
        (C, 50.0, 3),
        (D, None, None),
    ]
    assert placed[0].tier is Tier.BENCHMARK
    assert placed[0].stars == 5
    assert placed[2].tier is Tier.FAILING
    assert placed[2].stars == 2
    assert placed[3].tier is None
    assert placed[3].missing == ("ideas", "rate", "dues")


def test_a_level_where_the_best_is_zero_scores_everyone_zero_not_a_division_by_zero() -> None:
    placed = place_level([A, B], {"ideas": {A: 0, B: 0}}, ORDER, POLICY)
    assert [row.score for row in placed] == [0.0, 0.0]
    assert [row.rank for row in placed] == [1, 1]


def test_a_score_no_weight_names_gets_the_default_weight() -> None:
    policy = RankingPolicy(weights={"ideas": 30}, default_weight=10)
    # ideas: A 100, B 50; later: A 0, B 100 → A = 30×100/40 = 75, B = (30×50 + 10×100)/40 = 62.5
    placed = by_unit(
        place_level([A, B], {"ideas": {A: 2, B: 1}, "later": {A: 0, B: 7}}, ["ideas", "later"], policy)
    )
    assert placed[A].score == 75.0
    assert placed[B].score == 62.5


def test_levels_are_the_same_depth_under_the_same_root() -> None:
    shape = union_shape(
        [
            (1, "/1/"),
            (2, "/1/2/"),
            (3, "/1/3/"),
            (4, "/1/2/4/"),
            (5, "/1/3/5/"),
            (6, "/1/3/6/"),
            (9, "/9/"),
            (10, "/9/10/"),
        ]
    )
    assert [(level.root_id, level.depth, level.unit_ids) for level in shape.levels] == [
        (1, 1, (2, 3)),
        (1, 2, (4, 5, 6)),
        (9, 1, (10,)),
    ]
    assert shape.subtrees[3] == frozenset({3, 5, 6})
    assert shape.subtrees[1] == frozenset({1, 2, 3, 4, 5, 6})
    assert shape.chains[6] == (1, 3, 6)
