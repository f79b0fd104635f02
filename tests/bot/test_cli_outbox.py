"""``python -m bot outbox status|retry-failed`` as an admin uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.cli import main
from bot.settings import load_settings
from models.base import utcnow
from models.outbox import Outbox, OutboxStatus, PushKind, claim, mark_sending, record_failed, recover
from tests.bot.delivery.helpers import member_with, queue


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> App:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "en")
    for name in ("UNIONBOT_REDIS_URL", "UNIONBOT_DATABASE_URL", "UNIONBOT_TELEGRAM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    built = App(load_settings())
    built.prepare()
    return built


def test_status_counts_per_kind_and_lists_the_uncertain(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "status"]) == 0
    assert "There are no pushes in the queue." in capsys.readouterr().out
    with app.sessions() as session:
        members = [member_with(session, f"10{n}", telegram=n) for n in range(4)]
        queue(session, members, kind=PushKind.REMINDER)
    now = utcnow()
    with app.sessions() as session:
        rows = claim(session, worker_id="gone", now=now, limit=2)
        ids = [row.id for row in rows if row.id is not None]
        record_failed(session, ids[0], worker_id="gone", channel="telegram", error="blocked")
        mark_sending(session, ids[1:], worker_id="gone")
        recover(session, workers={"gone"}, resend_uncertain=False, now=now)
    assert main(["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert "Reminder" in out
    assert "Waiting" in out
    assert "Uncertain" in out
    assert "whether the members got them is unknown" in out
    assert "│ 101 " in out  # the employee number of the uncertain one


def test_retry_failed_queues_a_kinds_failed_pushes_again(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    with app.sessions() as session:
        queue(session, [member_with(session, "1", telegram=1)], kind=PushKind.NOTICE)
    now = utcnow()
    with app.sessions() as session:
        [row] = claim(session, worker_id="w", now=now, limit=1)
        assert row.id is not None
        record_failed(session, row.id, worker_id="w", channel=None, error="no active account")
    assert main(["outbox", "retry-failed", "reminder"]) == 0
    assert "Queued 0 pushes again" in capsys.readouterr().out
    assert main(["outbox", "retry-failed", "notice"]) == 0
    assert "Queued 1 push again (Notices)." in capsys.readouterr().out
    with app.sessions() as session:
        assert session.exec(select(Outbox.status)).one() is OutboxStatus.QUEUED
