"""``python -m bot audit list`` as the union office reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlmodel import SQLModel

from bot.cli import main
from models.audit import record_audit
from models.db import SessionFactory, make_engine
from tests.factories import make_member


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SessionFactory]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'unionbot.db'}")
    monkeypatch.delenv("UNIONBOT_TIMEZONE", raising=False)
    monkeypatch.delenv("UNIONBOT_DEFAULT_LOCALE", raising=False)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'unionbot.db'}")
    SQLModel.metadata.create_all(engine)  # tables whose migration is not written yet
    factory = SessionFactory(engine)
    with factory() as session:
        cadre = make_member(session, employee_no="2001", name="李委员")
        other = make_member(session, employee_no="2002", name="王委员")
        with time_machine.travel(datetime(2026, 12, 1, 1, tzinfo=UTC), tick=False):
            record_audit(
                session, actor=cadre, action="hardship.case.open", subject="hardship_case:3", channel="wechat"
            )
        with time_machine.travel(datetime(2026, 12, 3, 1, tzinfo=UTC), tick=False):
            record_audit(
                session,
                actor=other,
                action="hardship.case.open",
                subject="hardship_case:4",
                channel="telegram",
                allowed=False,
            )
    yield factory
    engine.dispose()


def test_lists_newest_first_in_the_union_time_zone(
    database: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "list"]) == 0
    out = capsys.readouterr().out
    assert out.index("hardship_case:4") < out.index("hardship_case:3")
    assert "2026-12-01 09:00:00" in out
    assert "拒绝" in out
    assert "允许" in out


def test_filters_by_member_and_date(database: SessionFactory, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "list", "--member", "2001"]) == 0
    out = capsys.readouterr().out
    assert "hardship_case:3" in out
    assert "hardship_case:4" not in out
    assert main(["audit", "list", "--since", "2026-12-02"]) == 0
    out = capsys.readouterr().out
    assert "hardship_case:4" in out
    assert "hardship_case:3" not in out
    assert main(["audit", "list", "--member", "9999"]) == 0
    assert "没有查阅记录。" in capsys.readouterr().out


def test_a_date_that_does_not_read_is_refused(
    database: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "list", "--since", "上周"]) == 2
    assert "2026-12-01" in capsys.readouterr().err
