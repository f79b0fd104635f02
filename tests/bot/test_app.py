"""Process-wide set-up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import configure_logging
from bot.settings import load_settings


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_request_urls_carrying_the_bot_token_are_never_logged(level: str) -> None:
    httpx = logging.getLogger("httpx")
    httpx.setLevel(logging.NOTSET)
    configure_logging(load_settings(log_level=level))
    assert httpx.level >= logging.WARNING


def test_the_terminal_chat_logs_to_its_file_and_nothing_to_the_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # a terminal's process: nobody else shows the log
    level = root.level
    settings = load_settings(data_dir=tmp_path / "data")
    try:
        configure_logging(settings)  # at start-up: stderr
        configure_logging(settings, log_file=settings.log_path)  # then the chat opens: the file alone
        logging.getLogger("models.workdays").warning("the holiday calendar does not cover 2027 yet")
        configure_logging(settings, log_file=settings.log_path)  # again: still one handler
        assert len(root.handlers) == 1
    finally:
        for handler in root.handlers:
            handler.close()
        root.setLevel(level)
    assert capfd.readouterr() == ("", "")
    assert (
        "WARNING models.workdays: the holiday calendar does not cover 2027 yet"
        in settings.log_path.read_text(encoding="utf-8")
    )
