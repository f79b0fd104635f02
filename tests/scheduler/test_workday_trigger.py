"""Working days in a schedule: 1W, LW and L3W across 国庆, 春节, month ends and the year's end.

Pure trigger tests (``get_next_fire_time(None, now)``), with ``now`` as a server whose
clock runs in UTC hands it: the times come out at 09:00 in Shanghai, 01:00 UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import SettingsError, load_settings
from handlers.core.module import Job, JobContext, Module, RegistryError
from handlers.core.schedule import ScheduleError, parse_schedule
from handlers.modules import REGISTRY, registry
from models.workdays import use_calendar_file
from scheduler.jobs import build_trigger, last_fire_time, trigger

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def next_fire(line: str, now: datetime) -> datetime | None:
    return build_trigger(line, SHANGHAI).get_next_fire_time(None, now)


@pytest.fixture
def calendar_2027(tmp_path: Path) -> Iterator[None]:
    """The 2027 holidays as an admin imports them: 元旦 from Friday 1 to Sunday 3 January."""
    path = tmp_path / "holidays.csv"
    path.write_text(
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n2027-01-03,holiday,元旦\n",
        encoding="utf-8",
    )
    use_calendar_file(path)
    yield
    use_calendar_file(None)


def test_the_first_working_day_after_national_day_is_the_eighth() -> None:
    # 2026: 国庆 1–7 October; the call waits for Thursday the 8th, 01:00 UTC.
    fire = next_fire("0 9 1W * *", utc(2026, 9, 30, 12, 0))
    assert fire == shanghai(2026, 10, 8, 9, 0)
    assert fire is not None
    assert fire.astimezone(UTC) == utc(2026, 10, 8, 1, 0)
    # The second working day is Friday the 9th; the third the make-up Saturday the 10th.
    assert next_fire("0 9 2W * *", utc(2026, 9, 30, 12, 0)) == shanghai(2026, 10, 9, 9, 0)
    assert next_fire("0 9 3W * *", utc(2026, 9, 30, 12, 0)) == shanghai(2026, 10, 10, 9, 0)


def test_a_make_up_sunday_counts_as_a_working_day() -> None:
    # 元旦 2026 is 1–3 January and Sunday the 4th is worked: the month's first working day.
    assert next_fire("0 9 1W * *", utc(2025, 12, 31, 12, 0)) == shanghai(2026, 1, 4, 9, 0)


def test_spring_festival_moves_the_first_and_the_last_working_day() -> None:
    # 2022: 春节 31 January – 6 February, with Saturday 29 and Sunday 30 January worked.
    assert next_fire("0 9 LW * *", utc(2022, 1, 20, 0, 0)) == shanghai(2022, 1, 30, 9, 0)
    assert next_fire("0 9 1W * *", utc(2022, 1, 30, 2, 0)) == shanghai(2022, 2, 7, 9, 0)


def test_the_31st_and_the_last_working_day_at_the_years_end(calendar_2027: None) -> None:
    # Thursday 31 December 2026 is the year's last working day.
    assert next_fire("0 9 LW * *", utc(2026, 12, 7, 8, 0)) == shanghai(2026, 12, 31, 9, 0)
    assert next_fire("0 9 31 * *", utc(2026, 11, 1, 0, 0)) == shanghai(2026, 12, 31, 9, 0)
    # Just after it fired, the next first working day is in 2027, after the imported 元旦.
    assert next_fire("0 9 1W * *", utc(2026, 12, 31, 1, 0, 1)) == shanghai(2027, 1, 4, 9, 0)


def test_the_utc_clock_decides_nothing_the_unions_day_does() -> None:
    # 00:59 UTC on 8 October is 08:59 in Shanghai: today's 09:00 is still to come.
    assert next_fire("0 9 1W * *", utc(2026, 10, 8, 0, 59)) == shanghai(2026, 10, 8, 9, 0)
    # 01:01 UTC is past it: next month's first working day, Monday 2 November.
    assert next_fire("0 9 1W * *", utc(2026, 10, 8, 1, 1)) == shanghai(2026, 11, 2, 9, 0)
    # 16:30 UTC on 30 September is already 1 October in Shanghai, a holiday.
    assert next_fire("0 9 1W * *", utc(2026, 9, 30, 16, 30)) == shanghai(2026, 10, 8, 9, 0)


def test_counting_back_from_the_months_end() -> None:
    # December 2026: working days end Tuesday 29, Wednesday 30, Thursday 31.
    assert next_fire("0 9 L3W * *", utc(2026, 12, 1, 0, 0)) == shanghai(2026, 12, 29, 9, 0)
    # September 2026 ends on Wednesday 30, a working day; L2W is Tuesday 29.
    assert next_fire("0 9 L2W * *", utc(2026, 9, 1, 0, 0)) == shanghai(2026, 9, 29, 9, 0)


def test_several_days_and_the_previous_fire_time() -> None:
    chosen = build_trigger("30 8 1W,LW * *", SHANGHAI)
    first = chosen.get_next_fire_time(None, utc(2026, 11, 1, 0, 0))
    assert first == shanghai(2026, 11, 2, 8, 30)
    assert chosen.get_next_fire_time(first, first) == shanghai(2026, 11, 30, 8, 30)


def test_the_latest_missed_time_within_a_window() -> None:
    chosen = build_trigger("0 9 1W * *", SHANGHAI)
    assert last_fire_time(chosen, utc(2026, 10, 9, 3, 0), timedelta(days=3)) == shanghai(2026, 10, 8, 9, 0)
    assert last_fire_time(chosen, utc(2026, 10, 20, 3, 0), timedelta(days=3)) is None


@pytest.mark.parametrize(
    ("line", "wrong"),
    [
        ("0 9 1W * mon", "names working days ('1W') and weekdays ('mon'); leave the weekday *"),
        ("0 9 1W,15 * *", "mixes working days (1W, LW) with plain days in '1W,15'"),
        ("0 9 24W * *", "names working day '24W', but a month has working days 1 to 23"),
        ("0 9 W * *", "names no working day by 'W'"),
        ("0 9 1W *", "has no crontab line of five fields: '0 9 1W *'"),
    ],
)
def test_a_working_day_the_scheduler_cannot_read_is_refused(line: str, wrong: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse_schedule(line)
    assert str(refused.value).startswith(wrong)
    with pytest.raises(RegistryError) as clash:
        registry(Module(name="outings", jobs=(Job("remind", _job, line),)))
    assert str(clash.value).startswith(f"job 'remind' of module 'outings' {wrong}")


def _job(context: JobContext) -> int:
    return 0


def test_the_registry_takes_working_days() -> None:
    built = registry(Module(name="outings", jobs=(Job("remind", _job, "0 9 L2W * *"),)))
    assert "remind" in [job.id for job in built.jobs]


def test_each_jobs_time_is_a_setting_checked_at_start_up() -> None:
    settings = load_settings(job_schedules={"collect_call": "30 8 2W * *", "collect_again": "off"})
    jobs = {job.id: job for job in REGISTRY.jobs}
    chosen = trigger(jobs["collect_call"], SHANGHAI, settings.job_schedules)
    assert chosen is not None
    assert chosen.get_next_fire_time(None, utc(2026, 9, 30, 12, 0)) == shanghai(2026, 10, 9, 8, 30)
    assert trigger(jobs["collect_again"], SHANGHAI, settings.job_schedules) is None
    with pytest.raises(SettingsError) as unknown:
        load_settings(job_schedules={"collect": "0 9 1W * *"})
    assert str(unknown.value).startswith("UNIONBOT_JOB_SCHEDULES: no job is called 'collect'; the jobs are ")
    with pytest.raises(SettingsError) as wrong:
        load_settings(job_schedules={"collect_call": "0 25 1W * *"})
    assert str(wrong.value).startswith(
        "UNIONBOT_JOB_SCHEDULES: job 'collect_call' has a field out of range in '0 25 1W * *'"
    )
