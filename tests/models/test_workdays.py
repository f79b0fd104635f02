"""Working days follow China's official calendar, make-up days included, and survive a year it lacks."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from models import workdays
from models.workdays import (
    CalendarDay,
    DayKind,
    HolidayCalendar,
    add_workdays,
    calendar_csv,
    decode_calendar,
    is_workday,
    next_workday,
    previous_workday,
    read_calendar,
    use_calendar_file,
    workdays_between,
)


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (date(2026, 2, 14), True),  # Saturday worked before the Spring Festival
        (date(2026, 2, 16), False),  # Spring Festival holiday, a Monday
        (date(2026, 9, 25), False),  # 中秋, a Friday
        (date(2026, 10, 5), False),  # National Day week, a Monday
        (date(2026, 10, 10), True),  # Saturday worked after National Day
        (date(2026, 11, 23), True),  # an ordinary Monday
        (date(2026, 11, 28), False),  # an ordinary Saturday
    ],
)
def test_the_official_calendar_decides(day: date, works: bool) -> None:
    assert is_workday(day) is works


def test_counting_skips_the_holiday_week_and_takes_the_make_up_saturday() -> None:
    # Handed in on Wednesday 30 September with three working days: Thursday 8, Friday 9, Saturday 10 October.
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert previous_workday(date(2026, 10, 8)) == date(2026, 9, 30)
    assert next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="models.workdays"):
        # Friday 2 July 2100 + 1 working day: the next Monday.
        assert add_workdays(date(2100, 7, 2), 1) == date(2100, 7, 5)
        assert is_workday(date(2100, 7, 3)) is False
    warnings = [record for record in caplog.records if "2100" in record.getMessage()]
    assert len(warnings) == 1
    assert "python -m bot calendar import" in warnings[0].getMessage()


# -- the admin's calendar -------------------------------------------------------------------------

# The coming year as an admin writes it from the notice: New Year, part of the Spring Festival, a
# make-up Sunday. Friday 1 January 2027 to Sunday the 3rd off; Sunday 14 February worked.
HOLIDAYS_2027 = """\
# 2027 年节假日安排
date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-02-08,holiday,春节
2027/2/9,休,春节
2027-02-14,workday,春节调休
"""


@pytest.fixture
def calendar_file(tmp_path: Path) -> Iterator[Path]:
    """The process reads its admin calendar from a file of the test's own, and from none afterwards."""
    path = tmp_path / "holidays.csv"
    use_calendar_file(path)
    yield path
    use_calendar_file(None)


def write(path: Path, text: str) -> None:
    """Put a new file in place, as the import does: a reader sees the old one or the new one."""
    draft = path.with_suffix(".draft")
    draft.write_text(text, encoding="utf-8")
    os.replace(draft, path)


def test_a_file_is_read_with_every_kind_of_line_it_may_hold() -> None:
    calendar, problems = read_calendar(HOLIDAYS_2027)
    assert problems == []
    assert calendar.years == frozenset({2027})
    assert calendar.days[date(2027, 2, 9)] == CalendarDay(date(2027, 2, 9), DayKind.HOLIDAY, "春节")
    assert calendar.days[date(2027, 2, 14)].kind is DayKind.WORKDAY
    assert read_calendar(calendar_csv(calendar)) == (calendar, [])  # what is stored reads back


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("2027-02-30,holiday,春节", "calendar.date"),
        ("2027年13月1日,holiday", "calendar.date"),
        ("一月一日,holiday,元旦", "calendar.date"),
        ("1999-01-01,holiday,元旦", "calendar.year"),
        ("2027-01-01,vacation,元旦", "calendar.kind"),
        ("2027-01-01,,元旦", "calendar.kind"),
        ("2027-02-10,workday,春节调休", "calendar.workday_on_weekday"),
        ("2027-01-01", "calendar.columns"),
        ("2027-01-01,holiday,元旦,多余", "calendar.columns"),
        ("2027-01-01,holiday," + "节" * 21, "calendar.name"),
        ("2027-01-01,holiday,元\u202e旦", "calendar.name"),
        ("2027-01-04,holiday,元旦", "calendar.duplicate"),
    ],
)
def test_every_wrong_line_is_named_with_its_number_and_reason(line: str, code: str) -> None:
    text = "date,kind,name\n2027-01-04,holiday,元旦\n\n" + line + "\n"
    calendar, problems = read_calendar(text)
    assert [(number, error.code) for number, error in problems] == [(4, code)]
    assert list(calendar.days) == [date(2027, 1, 4)]


def test_the_duplicate_names_the_first_line() -> None:
    _calendar, [(line, error)] = read_calendar("2027-01-01,holiday\n2027-01-02,holiday\n2027-01-01,holiday\n")
    assert line == 3
    assert error.params == {"date": "2027-01-01", "first_line": 1}


def test_excel_files_in_gbk_and_with_a_bom_are_read() -> None:
    assert decode_calendar(HOLIDAYS_2027.encode("gb18030")) == HOLIDAYS_2027
    assert decode_calendar(HOLIDAYS_2027.encode("utf-8-sig")) == HOLIDAYS_2027
    assert decode_calendar(b"\xff\xfe\x00\xd8") is None


def test_an_import_replaces_whole_years_and_keeps_the_others() -> None:
    old = HolidayCalendar.of(
        [
            CalendarDay(date(2027, 1, 4), DayKind.HOLIDAY, "错的"),
            CalendarDay(date(2028, 1, 1), DayKind.HOLIDAY),
        ]
    )
    new, _problems = read_calendar(HOLIDAYS_2027)
    merged = old.replaced_by(new)
    assert date(2027, 1, 4) not in merged.days
    assert date(2028, 1, 1) in merged.days
    assert merged.year(2027) == new.year(2027)


def test_the_imported_year_is_used_ahead_of_the_package_and_counts_its_holidays(
    calendar_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(calendar_file, HOLIDAYS_2027)
    use_calendar_file(calendar_file)
    with caplog.at_level(logging.WARNING, logger="models.workdays"):
        assert is_workday(date(2027, 1, 1)) is False  # a Friday, but New Year
        assert is_workday(date(2027, 2, 14)) is True  # a Sunday worked
        assert is_workday(date(2027, 2, 13)) is False  # an ordinary Saturday
        # Thursday 31 December 2026 + 1 working day: not New Year's Friday but Monday the 4th.
        assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert not caplog.records  # the year is known: nothing to warn of


def test_a_year_the_package_has_is_taken_from_the_file_when_the_file_has_it(calendar_file: Path) -> None:
    write(calendar_file, "2026-11-28,workday,补班\n")
    use_calendar_file(calendar_file)
    assert is_workday(date(2026, 11, 28)) is True  # a Saturday the package has as a day off
    assert is_workday(date(2026, 10, 5)) is True  # the package's holiday: the file's 2026 has none


def test_a_changed_file_is_read_again_and_a_wrong_one_keeps_the_last_good_one(
    calendar_file: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workdays, "RELOAD_SECONDS", 0.0)
    assert is_workday(date(2027, 1, 1)) is True  # nothing imported yet: a Friday
    write(calendar_file, HOLIDAYS_2027)
    assert is_workday(date(2027, 1, 1)) is False
    with caplog.at_level(logging.ERROR, logger="models.workdays"):
        write(calendar_file, HOLIDAYS_2027 + "2027-02-10,workday\n")
        assert is_workday(date(2027, 1, 1)) is False
        assert is_workday(date(2027, 1, 1)) is False
    [error] = [record for record in caplog.records if record.levelno == logging.ERROR]  # once, not per call
    assert "line 9" in error.getMessage()
    calendar_file.unlink()
    assert is_workday(date(2027, 1, 1)) is True  # taken away: the year is unknown again
