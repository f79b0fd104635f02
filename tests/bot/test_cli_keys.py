"""``python -m bot keys``: a fresh key, and the rotation to it as the union office runs it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import SQLModel, col, select

from bot.cli import main
from models import sealed
from models.db import SessionFactory, make_engine
from models.members import Member
from tests.factories import make_member

OLD, NEW = bytes(range(32)), bytes(range(2, 34))


def _text(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SessionFactory]:
    """A migrated SQLite file of its own, members' phones sealed under the old key, and a sealed photo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'unionbot.db'}")
    monkeypatch.setenv("UNIONBOT_DATA_KEY", _text(OLD))
    monkeypatch.delenv("UNIONBOT_DATA_KEY_OLD", raising=False)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'unionbot.db'}")
    SQLModel.metadata.create_all(engine)  # tables whose migration is not written yet
    factory = SessionFactory(engine)
    sealed.use_key(OLD)
    with factory() as session:
        for number in range(5):
            make_member(session, employee_no=f"20{number:02}", phone=f"1380000000{number}")
    media = tmp_path / "data" / "media" / "hardship"
    media.mkdir(parents=True)
    (media / "bill.jpg").write_bytes(sealed.seal_bytes(b"a hospital bill", "hardship.document"))
    yield factory
    engine.dispose()


def _phones(factory: SessionFactory) -> list[str | None]:
    with factory() as session:
        return [member.phone for member in session.exec(select(Member).order_by(col(Member.id)))]


def test_generate_prints_a_key_the_settings_accept(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(base64.urlsafe_b64decode(key)) == 32


def test_rotate_re_seals_everything_and_then_the_old_key_can_go(
    database: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("UNIONBOT_DATA_KEY", _text(NEW))
    monkeypatch.setenv("UNIONBOT_DATA_KEY_OLD", _text(OLD))
    assert main(["keys", "rotate", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "member.phone：共重新加密 5 项" in out
    assert "媒体文件：共重新加密 1 项" in out
    assert "密钥轮换已完成" in out

    sealed.use_key(NEW)
    assert _phones(database) == [f"1380000000{number}" for number in range(5)]
    bill = tmp_path / "data" / "media" / "hardship" / "bill.jpg"
    assert sealed.unseal_bytes(bill.read_bytes(), "hardship.document") == b"a hospital bill"

    assert main(["keys", "rotate"]) == 0  # run again: nothing left to do
    assert "member.phone：此前已完成" in capsys.readouterr().out


def test_rotate_without_the_key_that_sealed_a_value_stops_and_names_the_field(
    database: SessionFactory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONBOT_DATA_KEY", _text(NEW))
    assert main(["keys", "rotate"]) == 1
    captured = capsys.readouterr()
    assert "UNIONBOT_DATA_KEY_OLD" in captured.out + captured.err
    assert "member.phone" in captured.err
    assert "1380000000" not in captured.out + captured.err


def test_an_old_key_that_is_no_key_stops_with_the_settings_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DATA_KEY_OLD", f"{_text(OLD)},not-a-key")
    assert main(["keys", "rotate"]) == 2
    assert "UNIONBOT_DATA_KEY_OLD" in capsys.readouterr().err
