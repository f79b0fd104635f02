"""The steps notices and activities share: a date and a time read as cadres write them."""

from __future__ import annotations

from datetime import date, datetime

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


DECEMBER = date(2026, 12, 20)  # a Sunday
NEW_YEARS_EVE = date(2026, 12, 31)  # a Thursday


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        # What a new cadre typed in December (issue #14): the coming January, not the past one.
        (DECEMBER, "1月10号下午两点", ("2027-01-10", "14:00")),
        (DECEMBER, "1月10日下午2点", ("2027-01-10", "14:00")),
        (DECEMBER, "2027年1月10日下午2点", ("2027-01-10", "14:00")),
        (DECEMBER, "1月10日 下午 两点", ("2027-01-10", "14:00")),
        (DECEMBER, "1月10日，下午两点", ("2027-01-10", "14:00")),
        (DECEMBER, "下周六下午两点", ("2026-12-26", "14:00")),
        (DECEMBER, "明年5月1日上午9点", ("2027-05-01", "09:00")),
        (DECEMBER, "周五 14:00", ("2026-12-25", "14:00")),
        (DECEMBER, "后天上午9点", ("2026-12-22", "09:00")),
        (DECEMBER, "月底下午5点", ("2026-12-31", "17:00")),
        (DECEMBER, "下个月5号上午九点半", ("2027-01-05", "09:30")),
        (DECEMBER, "今晚7点", ("2026-12-20", "19:00")),
        (DECEMBER, "明晚七点半", ("2026-12-21", "19:30")),
        (DECEMBER, "明早8点", ("2026-12-21", "08:00")),
        (DECEMBER, "周五晚上7点", ("2026-12-25", "19:00")),
        (DECEMBER, "周五晚7点", ("2026-12-25", "19:00")),
        (DECEMBER, "中午12点", ("2026-12-20", "12:00")),
        (DECEMBER, "凌晨5点", ("2026-12-20", "05:00")),
        (DECEMBER, "2027年1月10日（周日）14:00", ("2027-01-10", "14:00")),
        (NEW_YEARS_EVE, "1月1日上午9点", ("2027-01-01", "09:00")),
        (NEW_YEARS_EVE, "周五下午2点", ("2027-01-01", "14:00")),
        (NEW_YEARS_EVE, "月底下午5点", ("2026-12-31", "17:00")),
        (NEW_YEARS_EVE, "明天上午9点", ("2027-01-01", "09:00")),
        # A date alone, midnight said as 晚上12点, and a weekday that is not the date's: not a moment.
        (DECEMBER, "周五", None),
        (DECEMBER, "月底", None),
        (DECEMBER, "晚上12点", None),
        (DECEMBER, "最晚8点", None),
        (DECEMBER, "2027年1月10日（周六）14:00", None),
    ],
)
def test_a_moment_to_come_is_the_next_such_day(
    today: date, text: str, expected: tuple[str, str] | None
) -> None:
    parsed = parse_moment(text, today=today, ahead=True)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed[0].isoformat(), parsed[1].strftime("%H:%M")) == expected


def test_not_ahead_a_month_and_day_stay_in_this_year() -> None:
    parsed = parse_moment("1月10号下午两点", today=DECEMBER)
    assert parsed is not None
    assert parsed[0] == date(2026, 1, 10)
