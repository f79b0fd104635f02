"""``python -m bot run`` runs the scheduled jobs beside the delivery worker, not in channel-only processes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from bot.app import App
from bot.cli_run import serve
from bot.settings import load_settings
from models.outbox import Outbox
from models.roles import Role
from models.suggestions import SuggestionDraft, SuggestionPolicy, submit_suggestion
from models.suggestions.deadlines import DUE_TOPIC
from tests.factories import HOSTILE_BODY, make_member

WEDNESDAY = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)  # a suggestion handed in: due Monday 23rd
FRIDAY = datetime(2026, 11, 20, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai, the reminder's day


async def test_run_only_worker_reminds_at_start_up_and_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("scheduler.runner.STARTUP_DELAY", timedelta(0))
    app = App(load_settings(data_dir=tmp_path / "data"))
    app.prepare()
    with app.sessions() as session:
        proposer = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班")
        make_member(session, employee_no="C1", name="李委员", roles=[(Role.COMMITTEE, "厂工会/一车间")])
        draft = SuggestionDraft(category="节能降耗", title="余热回收", measure=HOSTILE_BODY)
        submit_suggestion(session, actor=proposer, draft=draft, policy=SuggestionPolicy(), now=WEDNESDAY)

    def reminders() -> list[Outbox]:
        with app.sessions() as session:
            return list(session.exec(select(Outbox).where(Outbox.topic == DUE_TOPIC)))

    async def reminded() -> None:
        while not reminders():
            await asyncio.sleep(0.01)

    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="scheduler"), time_machine.travel(FRIDAY, tick=True):
        running = asyncio.create_task(serve(app, stop, only="worker"))
        await asyncio.wait_for(reminded(), timeout=15)
        stop.set()
        await asyncio.wait_for(running, timeout=15)
    assert [row.key.split(":")[0] for row in reminders()] == ["suggestion-due"]
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("scheduler started: suggestion_deadlines") for message in messages)
    assert "scheduler stopped" in messages


@pytest.mark.parametrize(
    ("only", "enabled", "started"),
    [(None, True, True), ("channels", True, False), ("worker", False, False)],
)
async def test_which_processes_run_the_scheduler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, only: str | None, enabled: bool, started: bool
) -> None:
    app = App(load_settings(data_dir=tmp_path / "data", scheduler=enabled))
    app.prepare()
    stop = asyncio.Event()
    stop.set()  # serve starts everything, then stops at once
    with caplog.at_level(logging.INFO, logger="scheduler"):
        await asyncio.wait_for(serve(app, stop, only=only), timeout=30)
    messages = [record.getMessage() for record in caplog.records]
    assert (
        any(message.startswith("scheduler started: suggestion_deadlines") for message in messages) is started
    )
    assert ("scheduler stopped" in messages) is started
