"""The short-lived store behaves the same in memory and on Redis, and goes on while Redis is away."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from models.ephemeral import (
    EphemeralStore,
    FallbackStore,
    MemoryStore,
    RedisStore,
    StoreUnreachable,
    shared_only,
)
from tests.reliability.redis_server import REDIS_SERVER, FakeClock, ThrowawayRedis


def test_counters_count_and_can_be_forgotten(store: EphemeralStore) -> None:
    assert store.incr("k", 60) == 1
    assert store.incr("k", 60) == 2
    store.delete("k")
    assert store.get("k") is None
    assert store.incr("k", 60) == 1


def test_set_only_if_absent_lets_one_caller_win(store: EphemeralStore) -> None:
    assert store.set("once", "a", 60, only_if_absent=True)
    assert not store.set("once", "b", 60, only_if_absent=True)
    assert store.get("once") == "a"
    store.set("once", "c", 60)
    assert store.get("once") == "c"


# -- Redis away and back ---------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    with ThrowawayRedis(tmp_path) as server:
        yield server


def _warnings(caplog: pytest.LogCaptureFixture, fragment: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and fragment in r.getMessage()
    ]


def test_with_redis_away_the_store_goes_on_in_memory_and_hands_everything_back(
    redis_server: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    store = FallbackStore(RedisStore.from_url(redis_server.url, "t:"), clock=clock)
    shared = redis_server.client()
    assert store.set("seen:before", "1", 600, only_if_absent=True)
    assert shared.get("t:seen:before") == "1"

    redis_server.stop()
    assert store.set("seen:during", "1", 600, only_if_absent=True)  # no error: memory stands in
    assert not store.set("seen:during", "1", 600, only_if_absent=True)  # and de-duplicates
    assert store.incr("tries", 900) == 1
    assert store.incr("tries", 900) == 2
    store.set("answer", "您好", 600)
    assert store.get("answer") == "您好"
    clock.advance(30)
    for n in range(50):
        store.set(f"seen:{n}", "1", 600, only_if_absent=True)
    assert len(_warnings(caplog, "Redis is unreachable")) == 1  # one warning, not one per call
    clock.advance(31)
    store.get("answer")
    assert len(_warnings(caplog, "Redis is unreachable")) == 2  # a minute later, one more

    redis_server.start()  # back, and empty
    shared.set("t:tries", "5")  # another process counted meanwhile
    shared.set("t:answer", "旧的")
    assert store.get("answer") == "您好"  # not tried yet: still in memory until the retry is due
    assert shared.get("t:seen:during") is None
    clock.advance(5)
    assert not store.set("seen:during", "1", 600, only_if_absent=True)  # remembered across the switch
    assert shared.get("t:seen:during") == "1"
    assert 590 <= shared.ttl("t:seen:during") <= 600
    assert shared.get("t:tries") == "7"  # the counts add up
    assert shared.get("t:answer") == "您好"  # a value written during the outage is the newer one
    assert store.standin.drain() == []  # everything is on Redis now
    assert _warnings(caplog, "Redis answers again")
    shared.close()


def test_keys_forgotten_while_redis_was_away_are_forgotten_there_too(redis_server: ThrowawayRedis) -> None:
    clock = FakeClock()
    store = FallbackStore(RedisStore.from_url(redis_server.url, "t:"), clock=clock)
    shared = redis_server.client()
    redis_server.stop()
    store.delete("lock")
    store.set("claim", "a", 60)
    store.delete("claim")
    redis_server.start()
    shared.set("t:lock", "another process's")  # what Redis held when we could not reach it
    clock.advance(5)
    assert store.get("lock") is None
    assert store.get("claim") is None
    assert shared.get("t:lock") is None
    shared.close()


def test_a_failed_hand_back_keeps_the_stand_in_for_the_next_try(redis_server: ThrowawayRedis) -> None:
    clock = FakeClock()
    store = FallbackStore(RedisStore.from_url(redis_server.url, "t:"), clock=clock)
    redis_server.stop()
    store.set("seen:1", "1", 600, only_if_absent=True)
    clock.advance(5)
    assert not store.set("seen:1", "1", 600, only_if_absent=True)  # the retry failed: still in memory
    redis_server.start()
    clock.advance(5)
    assert not store.set("seen:1", "1", 600, only_if_absent=True)
    shared = redis_server.client()
    assert shared.get("t:seen:1") == "1"
    shared.close()


def test_questions_about_other_processes_are_never_answered_from_memory(redis_server: ThrowawayRedis) -> None:
    store = FallbackStore(RedisStore.from_url(redis_server.url, "t:"))
    assert shared_only(store) is store.shared
    memory = MemoryStore()
    assert shared_only(memory) is memory
    redis_server.stop()
    with pytest.raises(StoreUnreachable):
        shared_only(store).get("delivery:worker:other")


def test_the_memory_store_does_not_keep_expired_keys_nobody_reads() -> None:
    store = MemoryStore()
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        for n in range(5000):
            store.set(f"tg:update:{n}", "1", 60, only_if_absent=True)
        traveller.shift(timedelta(seconds=61))
        for n in range(5000, 10_000):
            store.set(f"tg:update:{n}", "1", 60, only_if_absent=True)
        assert len(store.drain()) == 5000
