"""The composite score of each unit at its level: the formula of the README's "排行榜" section.

Units are compared with their peers only: the units at the same depth under the same
root (every 车间 of the union, every 班组 of the union). For each score with a weight
(:class:`models.rankings.tables.RankingPolicy`):

* a unit's raw value is normalised against the best at its level,
  ``normalised = 100 × value / max(value at the level)`` (0 for every unit when the best
  is 0), so scores of different kinds (a count per 100 members, a rate) add up;
* a unit without data for a score (the feature left it out: no members, nothing to
  answer) is not scored zero on it: that score is left out *for that unit* and the
  weights of the scores it does have are renormalised,
  ``composite = Σ weightᵢ × normalisedᵢ / Σ weightᵢ`` over the scores with data;
* a score no unit of the level has data for drops out of the whole level the same way.

The composite is rounded to one decimal, ranked highest first (equal composites share
a rank: 1, 2, 2, 4), and given its tier and stars from the thresholds of the policy.
Everything here is pure: the values come in, the places come out, so the formula is
tested on hand-computed answers without a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from models.rankings.tables import RankingPolicy, Tier
from models.units import PATH_SEPARATOR

# score id → ranked unit id → raw value, as the scores computed them.
ScoreValues = Mapping[str, Mapping[int, float]]


@dataclass(frozen=True)
class Level:
    """The units ranked together: the same depth (1 = just below the root) under the same root."""

    root_id: int
    depth: int
    unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class UnionShape:
    """The union's units as the ranking sees them, read once per digest."""

    levels: tuple[Level, ...]
    subtrees: Mapping[int, frozenset[int]]  # every unit → the ids of its subtree, itself included
    level_of: Mapping[int, Level]
    chains: Mapping[int, tuple[int, ...]]  # every unit → the ids from its root down to itself


def path_ids(id_path: str) -> list[int]:
    """The ids from the root down to the unit ("/1/4/9/" → [1, 4, 9])."""
    return [int(part) for part in id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]


def union_shape(units: Iterable[tuple[int, str]]) -> UnionShape:
    """Levels and subtrees from ``(unit id, id_path)`` pairs: one pass, no query per unit."""
    subtrees: dict[int, set[int]] = defaultdict(set)
    grouped: dict[tuple[int, int], list[int]] = defaultdict(list)
    chains: dict[int, tuple[int, ...]] = {}
    for unit_id, id_path in units:
        chain = path_ids(id_path) or [unit_id]
        chains[unit_id] = tuple(chain)
        for above in chain:
            subtrees[above].add(unit_id)
        subtrees[unit_id].add(unit_id)
        if len(chain) > 1:
            grouped[(chain[0], len(chain) - 1)].append(unit_id)
    levels = tuple(
        Level(root_id=root, depth=depth, unit_ids=tuple(sorted(ids)))
        for (root, depth), ids in sorted(grouped.items())
    )
    return UnionShape(
        levels=levels,
        subtrees={unit_id: frozenset(ids) for unit_id, ids in subtrees.items()},
        level_of={unit_id: level for level in levels for unit_id in level.unit_ids},
        chains=chains,
    )


@dataclass(frozen=True)
class Placed:
    """A unit's result at its level.

    Attributes:
        score: the composite, 0–100, one decimal; None when no score had data for it.
        components: ``score id → (raw value, normalised)`` for the scores it was scored on.
        missing: the weighted score ids it was not scored on (no data), whose weight the
            others shared.
    """

    unit_id: int
    score: float | None
    rank: int | None
    tier: Tier | None
    stars: int | None
    components: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


def place_level(
    unit_ids: Sequence[int], values: ScoreValues, order: Sequence[str], policy: RankingPolicy
) -> list[Placed]:
    """Score and rank one level's units (see the module for the formula).

    Args:
        unit_ids: the level's units.
        values: each score's raw values by unit; a unit absent from a score has no data for it.
        order: the score ids in the order the registry lists them (how components are listed).
        policy: the weights and thresholds.

    Returns:
        One result per unit, best first; units without a score last, in the order given.
    """
    weighted = [score_id for score_id in order if policy.weight(score_id) > 0]
    normalised: dict[str, dict[int, float]] = {}
    for score_id in weighted:
        given = values.get(score_id, {})
        present = {unit_id: max(0.0, float(given[unit_id])) for unit_id in unit_ids if unit_id in given}
        if not present:
            continue
        best = max(present.values())
        normalised[score_id] = {
            unit_id: (100.0 * value / best if best > 0 else 0.0) for unit_id, value in present.items()
        }
    unscored: list[Placed] = []
    scored: list[tuple[float, int, dict[str, tuple[float, float]], tuple[str, ...]]] = []
    for position, unit_id in enumerate(unit_ids):
        components = {
            score_id: (float(values[score_id][unit_id]), round(normalised[score_id][unit_id], 1))
            for score_id in weighted
            if unit_id in normalised.get(score_id, {})
        }
        missing = tuple(score_id for score_id in weighted if score_id not in components)
        if not components:
            unscored.append(Placed(unit_id, None, None, None, None, {}, missing))
            continue
        total_weight = sum(policy.weight(score_id) for score_id in components)
        composite = (
            sum(policy.weight(score_id) * normalised[score_id][unit_id] for score_id in components)
            / total_weight
        )
        scored.append((round(composite, 1), position, components, missing))
    scored.sort(key=lambda item: (-item[0], item[1]))
    placed: list[Placed] = []
    rank = 0
    previous: float | None = None
    for index, (composite, position, components, missing) in enumerate(scored, start=1):
        if composite != previous:
            rank, previous = index, composite
        placed.append(
            Placed(
                unit_id=unit_ids[position],
                score=composite,
                rank=rank,
                tier=policy.tier(composite),
                stars=policy.star_count(composite),
                components=components,
                missing=missing,
            )
        )
    return [*placed, *unscored]
