"""Calling the ephemeral store from an event loop without stalling it.

The store's interface is synchronous. In process (no Redis configured) a call
is a dictionary lookup, cheaper than any hop to a thread; a Redis call waits
for the network, so it goes to a thread and the loop serves others meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from models.ephemeral import EphemeralStore, MemoryStore

T = TypeVar("T")


async def call_store(store: EphemeralStore, call: Callable[[], T]) -> T:
    """``call`` (a store operation) done at once in process, or on a thread for Redis."""
    if isinstance(store, MemoryStore):
        return call()
    return await asyncio.to_thread(call)
