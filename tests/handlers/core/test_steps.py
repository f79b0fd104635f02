"""The steps notices and activities share: a date and a time read as cadres write them."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.core.steps import parse_moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天 9:30", ("2026-11-24", "09:30")),
        ("11月24日下午3点", ("2026-11-24", "15:00")),
        ("2026-11-25 08:05", ("2026-11-25", "08:05")),
        ("１５：２０", ("2026-11-23", "15:20")),
        ("后天9点半", ("2026-11-25", "09:30")),
        ("明天早上九点", ("2026-11-24", "09:00")),
        ("明天 九点零五分", ("2026-11-24", "09:05")),
        ("下午三点十五分", ("2026-11-23", "15:15")),
        ("后天傍晚六点", ("2026-11-25", "18:00")),
        ("二十三点", ("2026-11-23", "23:00")),
        ("二十五点", None),
        ("明天", None),
        ("25:00", None),
        ("明天下午", None),
    ],
)
def test_dates_and_times_are_read_as_cadres_write_them(text: str, expected: tuple[str, str] | None) -> None:
    parsed = parse_moment(text, today=datetime(2026, 11, 23).date())  # noqa: DTZ001
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed[0].isoformat(), parsed[1].strftime("%H:%M")) == expected
