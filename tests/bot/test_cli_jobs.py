"""``python -m bot jobs …``: the list, a run by hand, a dry run that writes nothing, and the month's theme."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from bot.cli import main
from models.db import SessionFactory, make_engine
from models.jobs import JobRun
from models.outbox import Outbox
from models.suggestions.collection import CollectionTheme
from models.workdays import use_calendar_file
from tests.conftest import TEST_DATA_KEY
from tests.factories import bind, make_member

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def jobs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    """``python -m bot jobs …`` on a database of the test's own; returns the exit code, stdout and stderr."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_DATA_DIR", "data")
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'unionbot.db'}")
    monkeypatch.setenv("UNIONBOT_DATA_KEY", base64.urlsafe_b64encode(TEST_DATA_KEY).decode())
    monkeypatch.delenv("UNIONBOT_JOB_SCHEDULES", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["jobs", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    use_calendar_file(None)


@pytest.fixture
def union(jobs: Run, tmp_path: Path) -> Iterator[SessionFactory]:
    """Three members, one reading English; the database migrated by a first command."""
    assert jobs("list")[0] == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'unionbot.db'}")
    sessions = SessionFactory(engine)
    with sessions() as session:
        for number, name, unit in (
            ("2101", "张伟", "厂工会/一车间/甲班"),
            ("2102", "陈静", "厂工会/一车间/甲班"),
            ("2201", "Li Lei", "厂工会/一车间/乙班"),
        ):
            member = make_member(session, employee_no=number, name=name, unit=unit, phone=None)
            account = bind(session, member)
            if number == "2201":
                account.locale = "en"
    yield sessions
    engine.dispose()


def counts(sessions: SessionFactory) -> tuple[int, int]:
    with sessions() as session:
        outbox = session.exec(select(func.count()).select_from(Outbox)).one()
        runs = session.exec(select(func.count()).select_from(JobRun)).one()
    return int(outbox), int(runs)


def test_the_list_names_each_job_its_schedule_and_its_runs(jobs: Run, union: SessionFactory) -> None:
    code, out, _err = jobs("list")
    assert code == 0
    for expected in ("suggestion_deadlines", "30 8 * * *", "collect_call", "0 9 1W * *", "collect_again"):
        assert expected in out
    assert "还没有运行过" in out
    assert jobs("run", "collect_call", "--period", "2026-12")[0] == 0
    out = jobs("list")[1]
    assert "（2026-12）" in out
    assert "排队 3 条推送" in out


def test_a_dry_run_shows_who_and_what_and_writes_nothing(jobs: Run, union: SessionFactory) -> None:
    code, out, _err = jobs("run", "collect_call", "--period", "2026-12", "--dry-run")
    assert code == 0
    assert "任务 collect_call，按 2026-12-01 09:00 的安排试运行：" in out
    assert "将发给 3 人。" in out
    assert "  2101 张伟（厂工会/一车间/甲班）" in out
    assert "  2201 Li Lei（厂工会/一车间/乙班）" in out
    assert "第一条“简体中文”消息，发给 2101 张伟：" in out
    assert "第一条“English”消息，发给 2201 Li Lei：" in out
    assert "【每月征集】2026年12月合理化建议征集开始了。" in out
    assert "1. 提建议" in out
    assert "这是试运行，没有写入任何数据，也没有发出任何消息。" in out
    assert counts(union) == (0, 0)
    # Run for real, then dry again: nobody is left to receive it.
    assert jobs("run", "collect_call", "--period", "2026-12")[1].strip().endswith("新排队 3 条推送。")
    assert counts(union) == (3, 1)
    assert "没有人会收到" in jobs("run", "collect_call", "--period", "2026-12", "--dry-run")[1]
    assert jobs("run", "collect_call", "--period", "2026-12")[1].strip().endswith("新排队 0 条推送。")
    assert counts(union) == (3, 2)


def test_wrong_uses_are_told_apart(jobs: Run, union: SessionFactory) -> None:
    code, _out, err = jobs("run", "collect")
    assert code == 2
    assert "没有叫“collect”的任务。" in err
    code, _out, err = jobs("run", "suggestion_deadlines", "--period", "2026-12")
    assert (code, err.strip()) == (2, "任务 suggestion_deadlines 不按月运行，不能指定 --period。")
    code, _out, err = jobs("run", "collect_call", "--period", "2026-13")
    assert code == 2


def test_the_theme_from_the_command_line(jobs: Run, union: SessionFactory) -> None:
    assert jobs("theme", "2026-12", "节能降耗") == (0, "已设置 2026-12 的征集主题：“节能降耗”。\n", "")
    with union() as session:
        assert session.exec(select(CollectionTheme.theme)).all() == ["节能降耗"]
    code, _out, err = jobs("theme", "2026-12", "节" * 21)
    assert code == 1
    assert "主题最多 20 个字" in err
    assert jobs("theme", "2026-12", "--clear")[0] == 0
    with union() as session:
        assert session.execute(sa.select(func.count()).select_from(CollectionTheme)).scalar() == 0
    assert jobs("theme", "2026-12")[0] == 2
