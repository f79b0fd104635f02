"""``python -m bot demo`` and ``console`` as typed in a terminal: the chat, and nothing but the chat.

Run on a SQLite file and, when configured, on PostgreSQL in a schema of the test's own.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from bot.app import App, configure_logging
from bot.cli import main
from bot.settings import Settings, load_settings
from models.workdays import use_calendar_file
from tests.conftest import DATABASES, TEST_DATABASE_URL, drop_postgres_schema, postgres_engine

# Monday 28 December 2026, 09:00 in Shanghai: a decision now has its deadline in 2027, a year the
# installed holiday calendar does not know yet.
DECEMBER = datetime(2026, 12, 28, 1, 0, tzinfo=UTC)
# The chair of 一车间 registers the oldest suggestion in her queue: category, department, herself.
DECISION = ["建议办理", "1", "1", "3", "设备科", "1", "1"]


@pytest.fixture(params=DATABASES)
def terminal(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Path]:
    """A working folder like an admin's: its own data folder and database, no stray .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_DATA_DIR", "data")
    for name in ("UNIONBOT_TIMEZONE", "UNIONBOT_REDIS_URL", "UNIONBOT_LOG_LEVEL", "UNIONBOT_HOLIDAYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    schema = None
    if request.param == "postgresql":
        assert TEST_DATABASE_URL
        schema = f"unionbot_console_{uuid.uuid4().hex[:12]}"
        postgres_engine(TEST_DATABASE_URL, schema).dispose()
        monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"{TEST_DATABASE_URL}?options=-csearch_path%3D{schema}")
    else:
        monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'unionbot.db'}")
    apps: list[App] = []

    class Recorded(App):
        """The command's App, so its database connections are closed when the test ends."""

        def __init__(self, settings: Settings) -> None:
            super().__init__(settings)
            apps.append(self)

    monkeypatch.setattr("bot.cli.App", Recorded)
    level = logging.getLogger().level
    yield tmp_path / "data"
    for app in apps:
        app.engine.dispose()
    # The process's log and holiday calendar go back to what they were before the command ran.
    configure_logging(load_settings(data_dir=tmp_path / "data"))
    logging.getLogger().setLevel(level)
    use_calendar_file(None)
    if schema is not None:
        assert TEST_DATABASE_URL
        drop_postgres_schema(TEST_DATABASE_URL, schema)


def type_lines(monkeypatch: pytest.MonkeyPatch, lines: list[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))


def test_a_cadres_decision_in_the_terminal_shows_no_log_line(
    terminal: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Issue #14: a WARNING about the missing 2027 holidays appeared in the middle of the chat."""
    type_lines(monkeypatch, DECISION)
    with time_machine.travel(DECEMBER, tick=False):
        assert main(["demo", "--role", "cadre"]) == 0
    out, err = capfd.readouterr()
    assert "已登记，由设备科承办。请在 2027-01-18 前作出采纳与否的决定。" in out
    assert "运行日志记在 data/unionbot.log，不会出现在对话里。" in out
    for line in (out + err).splitlines():
        for mark in ("WARNING", "INFO", "models.workdays"):
            assert mark not in line, line
    assert err == ""
    log = (terminal / "unionbot.log").read_text(encoding="utf-8")
    warnings = [line for line in log.splitlines() if "does not cover 2027" in line]
    assert len(warnings) == 1  # said once, in the file
    assert "python -m bot calendar import" in warnings[0]


def test_asked_for_the_log_the_terminal_shows_it(
    terminal: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    type_lines(monkeypatch, DECISION)
    # The test runner's own handlers keep stderr free of log lines; a terminal has none.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    with time_machine.travel(DECEMBER, tick=False):
        assert main(["demo", "--role", "cadre", "--log-stderr"]) == 0
    out, err = capfd.readouterr()
    assert "已登记，由设备科承办" in out
    assert "运行日志记在" not in out
    assert "WARNING models.workdays: the holiday calendar does not cover 2027" in err
    assert not (terminal / "unionbot.log").exists()
