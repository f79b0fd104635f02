"""Process-wide set-up."""

from __future__ import annotations

import logging

import pytest

from bot.app import configure_logging
from bot.settings import load_settings


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_request_urls_carrying_the_bot_token_are_never_logged(level: str) -> None:
    httpx = logging.getLogger("httpx")
    httpx.setLevel(logging.NOTSET)
    configure_logging(load_settings(log_level=level))
    assert httpx.level >= logging.WARNING
