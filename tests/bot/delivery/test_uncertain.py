"""A worker that dies leaves uncertain only the pushes whose requests may have reached the channel.

Rows waiting for their rate slot are merely claimed: a worker killed then has
sent nothing for them, and they are queued again, not listed as uncertain. The
test stops the world at the moment one request is on its way and fifteen more
wait for the rate limit, declares the worker dead as a restarted one would, and
lets everything go on: the one in flight settles with its true outcome, the
fifteen find themselves taken back and send nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import select

from bot.delivery.rates import Stopped
from bot.delivery.results import Acquire, Job, Outcome, SendResult, Target
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from handlers.core.i18n import Catalogues
from models.db import SessionFactory
from models.ephemeral import MemoryStore
from models.outbox import Outbox, OutboxStatus, recover
from tests.bot.delivery.helpers import TEST_REGISTRY, member_with, queue

IN_FLIGHT = 16


class GatedRates:
    """A rate limit that lets the first request through and holds every other until the gate opens."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.granted = 0
        self.waiting = 0
        self.all_waiting = asyncio.Event()

    async def acquire(self, channel: str, chat: str, stop: asyncio.Event | None = None) -> None:
        if self.granted:
            self.waiting += 1
            if self.waiting == IN_FLIGHT - 1:
                self.all_waiting.set()
            await self.gate.wait()
            if stop is not None and stop.is_set():
                raise Stopped
        self.granted += 1

    async def pause(self, channel: str, seconds: float) -> None:
        return None

    async def close(self) -> None:
        return None


@dataclass
class HeldPusher:
    """Telegram whose first answer takes until the test says so."""

    channel: str = "telegram"
    requests: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    answer: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, job: Job, target: Target, acquire: Acquire) -> SendResult:
        await acquire()
        self.requests.append(job.key)
        self.arrived.set()
        await self.answer.wait()
        return SendResult(Outcome.SENT, external_ref="1")


def statuses(db: SessionFactory) -> Counter[OutboxStatus]:
    with db() as session:
        return Counter(OutboxStatus(status) for status in session.exec(select(Outbox.status)).all())


async def test_rows_waiting_for_their_rate_slot_are_not_uncertain_when_the_worker_dies(
    db: SessionFactory,
) -> None:
    with db() as session:
        queue(session, [member_with(session, str(n), telegram=100 + n) for n in range(40)])
    rates, telegram = GatedRates(), HeldPusher()
    worker = DeliveryWorker(
        sessions=db,
        store=MemoryStore(),
        rates=rates,
        pushers={"telegram": telegram},
        catalogues=Catalogues(),
        config=WorkerConfig(batch=40, in_flight=IN_FLIGHT),
        pushes=TEST_REGISTRY.pushes,
    )
    running = asyncio.create_task(worker.run_once())
    await asyncio.wait_for(telegram.arrived.wait(), 30)
    await asyncio.wait_for(rates.all_waiting.wait(), 30)

    # The moment a kill -9 would freeze: one request out, fifteen waiting for a slot, the rest claimed.
    assert statuses(db) == {OutboxStatus.SENDING: 1, OutboxStatus.CLAIMED: 39}
    with db() as session:
        taken = recover(session, workers={worker.worker_id}, resend_uncertain=False, now=worker.clock())
        channels = session.exec(select(Outbox.channel).where(Outbox.status == OutboxStatus.UNCERTAIN)).all()
    assert (taken.uncertain, taken.requeued) == (1, 39)
    assert channels == ["telegram"]  # where it may have arrived: outbox status lists it

    # The "dead" worker goes on: its waiting rows were taken back and must not go out.
    rates.gate.set()
    telegram.answer.set()
    await asyncio.wait_for(running, 30)
    assert len(telegram.requests) == 1
    assert statuses(db) == {OutboxStatus.SENT: 1, OutboxStatus.QUEUED: 39}
