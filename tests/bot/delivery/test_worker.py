"""The delivery worker with fake channels: who gets what, once, in which language, and when."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from bot.delivery.liveness import SingleWorkerLock, WorkerAlreadyRunning
from bot.delivery.rates import ChannelLimit, MemoryRates
from bot.delivery.results import Outcome, SendResult
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from handlers.core.i18n import Catalogues
from models.accounts import ChatAccount
from models.db import SessionFactory, make_engine
from models.ephemeral import MemoryStore
from models.outbox import Outbox, OutboxStatus, claim, mark_sending
from tests.bot.delivery.helpers import (
    TEST_REGISTRY,
    WITHDRAWN_SUBJECT,
    FakePusher,
    FakeTime,
    member_with,
    queue,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LIMITS = {"telegram": ChannelLimit(10_000), "wechat": ChannelLimit(10_000)}
CATALOGUES = Catalogues()


def worker(
    db: SessionFactory, *pushers: FakePusher, config: WorkerConfig | None = None, **options: object
) -> DeliveryWorker:
    return DeliveryWorker(
        sessions=db,
        store=MemoryStore(),
        rates=MemoryRates(LIMITS, clock=(fake := FakeTime()), sleep=fake.sleep),
        pushers={pusher.channel: pusher for pusher in pushers},
        catalogues=CATALOGUES,
        config=config or WorkerConfig(),
        pushes=TEST_REGISTRY.pushes,
        **options,  # type: ignore[arg-type]
    )


def rows(db: SessionFactory) -> list[Outbox]:
    with db() as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)))  # type: ignore[arg-type]


@time_machine.travel(NOW, tick=False)
async def test_each_member_gets_the_push_once_in_their_language(db: SessionFactory) -> None:
    with db() as session:
        members = [
            member_with(session, "1", telegram=11, locale="en"),
            member_with(session, "2", telegram=12, locale="zh_TW"),
            member_with(session, "3", telegram=13),
        ]
        queue(session, members)
    telegram = FakePusher("telegram")
    assert await worker(db, telegram).run_once() == 3
    assert await worker(db, telegram).run_once() == 0
    texts = {chat: text.split("\n")[0] for _, chat, text in telegram.sent}
    assert texts == {"11": "Main menu", "12": "主選單", "13": "主菜单"}
    assert {row.status for row in rows(db)} == {OutboxStatus.SENT}
    assert {row.external_ref for row in rows(db)} == {"m1"}


@time_machine.travel(NOW, tick=False)
async def test_the_preferred_channel_only_and_the_other_when_it_refuses(db: SessionFactory) -> None:
    with db() as session:
        keen = member_with(session, "1", telegram=11, wechat="w1", seen=NOW, preferred="wechat")
        blocked = member_with(session, "2", telegram=12, wechat="w2", seen=NOW, preferred="telegram")
        queue(session, [keen, blocked])
    telegram = FakePusher("telegram", answers={"12": SendResult(Outcome.UNREACHABLE, error="blocked")})
    wechat = FakePusher("wechat")
    await worker(db, telegram, wechat).run_once()
    assert [chat for _, chat, _ in wechat.sent] == ["w1", "w2"]
    assert telegram.sent == []
    assert telegram.tried == [("test:1:" + str(blocked.id), "12")]
    assert [(row.status, row.channel) for row in rows(db)] == [
        (OutboxStatus.SENT, "wechat"),
        (OutboxStatus.SENT, "wechat"),
    ]


@time_machine.travel(NOW, tick=False)
async def test_429_waits_as_told_and_a_member_nobody_can_reach_fails(db: SessionFactory) -> None:
    with db() as session:
        flooded = member_with(session, "1", telegram=11)
        blocked = member_with(session, "2", telegram=12)
        nowhere = member_with(session, "3")
        queue(session, [flooded, blocked, nowhere])
    telegram = FakePusher(
        "telegram",
        answers={
            "11": SendResult(Outcome.RETRY, retry_after=600, pause=True, error="429 flood control"),
            "12": SendResult(Outcome.UNREACHABLE, error="blocked"),
        },
    )
    await worker(db, telegram).run_once()
    flood_row, blocked_row, nowhere_row = rows(db)
    assert flood_row.status is OutboxStatus.QUEUED
    assert flood_row.next_attempt_at >= NOW + timedelta(seconds=600)
    assert flood_row.attempts == 1
    # The error leads with the code a cadre's report counts by (models.outbox.FailureCode).
    assert (blocked_row.status, blocked_row.error) == (OutboxStatus.FAILED, "blocked: telegram: blocked")
    assert (nowhere_row.status, nowhere_row.error) == (OutboxStatus.FAILED, "no_account: no active account")


@time_machine.travel(NOW, tick=False)
async def test_no_answer_is_uncertain_and_not_sent_again(db: SessionFactory) -> None:
    with db() as session:
        queue(session, [member_with(session, "1", telegram=11)])
    telegram = FakePusher("telegram", answers={"11": SendResult(Outcome.UNCERTAIN, error="no answer")})
    await worker(db, telegram).run_once()
    assert [row.status for row in rows(db)] == [OutboxStatus.UNCERTAIN]
    await worker(db, telegram).run_once()
    assert len(telegram.tried) == 1


@time_machine.travel(NOW, tick=False)
async def test_a_withdrawn_subject_is_not_sent(db: SessionFactory) -> None:
    with db() as session:
        queue(session, [member_with(session, "1", telegram=11)], subject=WITHDRAWN_SUBJECT)
    telegram = FakePusher("telegram")
    await worker(db, telegram).run_once()
    assert telegram.tried == []
    assert [row.status for row in rows(db)] == [OutboxStatus.WITHDRAWN]


@time_machine.travel(NOW, tick=False)
async def test_a_blocked_account_deactivated_elsewhere_is_not_tried(db: SessionFactory) -> None:
    with db() as session:
        member = member_with(session, "1", telegram=11, wechat="w1", seen=NOW)
        account = session.exec(select(ChatAccount).where(ChatAccount.channel == "telegram")).one()
        account.active = False
        queue(session, [member])
    telegram, wechat = FakePusher("telegram"), FakePusher("wechat")
    await worker(db, telegram, wechat).run_once()
    assert telegram.tried == []
    assert [chat for _, chat, _ in wechat.sent] == ["w1"]


QUIET = WorkerConfig(quiet_window=(time(22, 0), time(7, 30)), zone=ZoneInfo("Asia/Shanghai"))


@time_machine.travel(datetime(2026, 11, 23, 15, 0, tzinfo=UTC), tick=False)  # 23:00 in Shanghai
async def test_quiet_hours_hold_pushes_until_morning_but_not_urgent_ones(db: SessionFactory) -> None:
    with db() as session:
        calm = member_with(session, "1", telegram=11)
        queue(session, [calm], subject=1)
        queue(session, [member_with(session, "2", telegram=12)], subject=2, urgent=True)
    telegram = FakePusher("telegram")
    await worker(db, telegram, config=QUIET).run_once()
    assert [chat for _, chat, _ in telegram.sent] == ["12"]
    waiting = rows(db)[0]
    assert waiting.status is OutboxStatus.QUEUED
    assert waiting.next_attempt_at == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 07:30 in Shanghai
    with time_machine.travel(datetime(2026, 11, 23, 23, 30, tzinfo=UTC), tick=False):
        await worker(db, telegram, config=QUIET).run_once()
    assert [chat for _, chat, _ in telegram.sent] == ["12", "11"]


@time_machine.travel(NOW, tick=False)
async def test_a_restarted_worker_takes_back_what_a_killed_one_held(db: SessionFactory) -> None:
    with db() as session:
        queue(session, [member_with(session, str(n), telegram=10 + n) for n in range(4)])
    with db() as session:
        held = claim(session, worker_id="killed", now=NOW, limit=3)
    with db() as session:
        mark_sending(session, [row.id for row in held[:1] if row.id is not None], worker_id="killed")
    telegram = FakePusher("telegram")
    await worker(db, telegram).run_once()
    statuses = [row.status for row in rows(db)]
    assert statuses == [OutboxStatus.UNCERTAIN, *[OutboxStatus.SENT] * 3]
    assert len(telegram.sent) == 3


async def test_run_delivers_until_stopped_and_gives_back_the_rest(db: SessionFactory) -> None:
    with db() as session:
        queue(session, [member_with(session, str(n), telegram=100 + n) for n in range(30)])
    telegram = FakePusher("telegram")
    stop = asyncio.Event()
    slow = DeliveryWorker(
        sessions=db,
        store=MemoryStore(),
        rates=MemoryRates({"telegram": ChannelLimit(50)}),
        pushers={"telegram": telegram},
        catalogues=CATALOGUES,
        config=WorkerConfig(batch=10, in_flight=2),
        pushes=TEST_REGISTRY.pushes,
    )
    running = asyncio.create_task(slow.run(stop))
    while len(telegram.sent) < 5:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    statuses = [row.status for row in rows(db)]
    assert statuses.count(OutboxStatus.SENT) == len(telegram.sent)
    assert set(statuses) == {OutboxStatus.SENT, OutboxStatus.QUEUED}
    assert len({key for key, _, _ in telegram.sent}) == len(telegram.sent)


def test_only_one_worker_runs_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    first, second = SingleWorkerLock(engine), SingleWorkerLock(engine)
    first.acquire()
    with pytest.raises(WorkerAlreadyRunning):
        second.acquire()
    first.release()
    second.acquire()
    second.release()
    engine.dispose()
