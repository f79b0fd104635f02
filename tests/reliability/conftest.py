"""A throwaway redis-server for the outage tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.redis_server import REDIS_SERVER, ThrowawayRedis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    folder = tmp_path / "redis"
    folder.mkdir()
    with ThrowawayRedis(folder) as server:
        yield server
