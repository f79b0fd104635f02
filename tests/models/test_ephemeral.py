"""The short-lived store behaves the same in memory and on Redis."""

from __future__ import annotations

from models.ephemeral import EphemeralStore


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
