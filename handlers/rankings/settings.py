"""The ranking's settings (``UNIONBOT_RANKING_*``): the weights by score id, tiers, stars, list sizes."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from handlers.core.module import ModuleSettings
from models.rankings.tables import DEFAULT_WEIGHTS, RankingPolicy


def _numbers(value: str, count: int) -> tuple[float, ...]:
    """Thresholds as an admin writes them, "90,80,60", highest or lowest first as the setting says."""
    parts = [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    if len(parts) != count:
        raise ValueError(f"give {count} numbers separated by commas")
    numbers = tuple(float(part) for part in parts)
    if any(not 0 <= number <= 100 for number in numbers):
        raise ValueError("each threshold is a composite score between 0 and 100")
    return numbers


class RankingSettings(ModuleSettings):
    """The weights are JSON by score id (``{"suggestions_per_100": 25, "adoption_rate": 20}``);
    a score they do not name weighs ``ranking_default_weight``, and 0 leaves a score out."""

    ranking_weights: str = json.dumps(DEFAULT_WEIGHTS)
    ranking_default_weight: float = Field(default=10, ge=0, le=1000)
    # The composite needed for 标杆, 优秀 and 达标, highest first.
    ranking_tiers: str = "90,80,60"
    # The composite needed for two, three, four and five stars, lowest first.
    ranking_stars: str = "40,60,75,90"
    ranking_top_units: int = Field(default=3, ge=1, le=10)
    ranking_top_contributors: int = Field(default=5, ge=0, le=20)

    @field_validator("ranking_weights")
    @classmethod
    def _weights(cls, value: str) -> str:
        try:
            weights = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON: {error.msg}") from None
        if not isinstance(weights, dict) or not all(
            isinstance(key, str) and isinstance(weight, int | float) and not isinstance(weight, bool)
            for key, weight in weights.items()
        ):
            raise ValueError('give an object of score ids and numbers, e.g. {"adoption_rate": 20}')
        if any(weight < 0 for weight in weights.values()):
            raise ValueError("a weight is negative")
        return value

    @field_validator("ranking_tiers")
    @classmethod
    def _tiers(cls, value: str) -> str:
        tiers = _numbers(value, 3)
        if not tiers[0] >= tiers[1] >= tiers[2]:
            raise ValueError("give the thresholds of 标杆, 优秀 and 达标, highest first")
        return value

    @field_validator("ranking_stars")
    @classmethod
    def _stars(cls, value: str) -> str:
        stars = _numbers(value, 4)
        if list(stars) != sorted(stars):
            raise ValueError("give the thresholds of two to five stars, lowest first")
        return value

    def policy(self, zone: ZoneInfo) -> RankingPolicy:
        tiers = _numbers(self.ranking_tiers, 3)
        stars = _numbers(self.ranking_stars, 4)
        return RankingPolicy(
            weights={key: float(weight) for key, weight in json.loads(self.ranking_weights).items()},
            default_weight=self.ranking_default_weight,
            tiers=(tiers[0], tiers[1], tiers[2]),
            stars=(stars[0], stars[1], stars[2], stars[3]),
            top_units=self.ranking_top_units,
            top_contributors=self.ranking_top_contributors,
            zone=zone,
        )
