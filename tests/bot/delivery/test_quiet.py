"""Quiet hours across midnight, in the union's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.quiet import quiet_until

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = (time(22, 0), time(7, 30))


@pytest.mark.parametrize(
    ("local", "until"),
    [
        (datetime(2026, 11, 23, 21, 59, tzinfo=SHANGHAI), None),
        (datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI), datetime(2026, 11, 24, 7, 30, tzinfo=SHANGHAI)),
        (datetime(2026, 11, 23, 23, 45, tzinfo=SHANGHAI), datetime(2026, 11, 24, 7, 30, tzinfo=SHANGHAI)),
        (datetime(2026, 11, 24, 6, 0, tzinfo=SHANGHAI), datetime(2026, 11, 24, 7, 30, tzinfo=SHANGHAI)),
        (datetime(2026, 11, 24, 7, 30, tzinfo=SHANGHAI), None),
        (datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI), None),
    ],
)
def test_pushes_wait_until_the_morning(local: datetime, until: datetime | None) -> None:
    assert quiet_until(local.astimezone(UTC), NIGHT, SHANGHAI) == until


def test_a_window_within_one_day_and_none() -> None:
    lunch = (time(12, 0), time(13, 0))
    now = datetime(2026, 11, 24, 12, 30, tzinfo=SHANGHAI)
    assert quiet_until(now, lunch, SHANGHAI) == datetime(2026, 11, 24, 13, 0, tzinfo=SHANGHAI)
    assert quiet_until(now, None, SHANGHAI) is None
