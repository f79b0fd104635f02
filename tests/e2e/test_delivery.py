"""Pushes end to end: the real worker, python-telegram-bot and the WeChat client against the stand-ins.

Exactly once per recipient, across a worker killed with SIGKILL and
restarted, and across two workers on PostgreSQL + Redis whose combined rate
stays under the channel's limit; 429s and blocked members handled.

A worker in a subprocess runs ``bot.cli.main(["run", "--only", "worker"])``
(what ``python -m bot run --only worker`` runs), after importing the tests'
push renderer: the stand-in topic must be known to the worker that renders it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlmodel import col, func, select

from bot.app import App
from bot.cli import main
from bot.delivery.liveness import SingleWorkerLock
from bot.delivery.runner import run_worker
from bot.settings import load_settings
from models.accounts import ChatAccount
from models.base import utcnow
from models.members import Member
from models.outbox import NewPush, Outbox, OutboxStatus, PushKind, enqueue
from models.units import UnitTree
from tests.bot.delivery.helpers import TOPIC
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, drop_postgres_schema, postgres_engine
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.wechat_stub import WeChatStub

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WORKER_CODE = (
    "import sys, tests.bot.delivery.helpers; from bot.cli import main; "
    "sys.exit(main(['run', '--only', 'worker']))"
)
FIRST_CHAT = 5_000_000
IN_FLIGHT = 8


@pytest.fixture
async def stub() -> AsyncIterator[TelegramStub]:
    server = TelegramStub()
    await server.start()
    yield server
    await server.stop()


def delivery_settings(stub: TelegramStub, data_dir: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "data_dir": data_dir,
        "telegram_token": stub.token,
        "telegram_api_url": stub.url,
        "quiet_hours": "",  # the tests run at any hour
        "delivery_in_flight": IN_FLIGHT,
        **overrides,
    }


def seed(app: App, count: int, *, first_chat: int = FIRST_CHAT, wechat_seen: bool = False) -> None:
    """``count`` members, each with a Telegram account (chat FIRST_CHAT + n), and a push queued for each."""
    with app.sessions() as session:
        unit_id = UnitTree(session).ensure("厂工会/一车间").id
        assert unit_id is not None
        members = [Member(employee_no=f"E{n}", name=f"会员{n}", unit_id=unit_id) for n in range(count)]
        session.add_all(members)
        session.flush()
        for n, member in enumerate(members):
            session.add(ChatAccount(channel="telegram", external_id=str(first_chat + n), member_id=member.id))
            if wechat_seen:
                session.add(
                    ChatAccount(
                        channel="wechat",
                        external_id=f"openid-{n}",
                        member_id=member.id,
                        last_seen_at=utcnow(),
                    )
                )
        session.flush()
        enqueue(
            session,
            [
                NewPush(key=f"e2e:{m.id}", member_id=m.id, kind=PushKind.NOTICE, topic=TOPIC, subject_id=1)  # type: ignore[arg-type]
                for m in members
            ],
        )


def statuses(app: App) -> Counter[OutboxStatus]:
    with app.sessions() as session:
        return Counter(
            {
                OutboxStatus(status): count
                for status, count in session.exec(
                    select(Outbox.status, func.count()).group_by(col(Outbox.status))
                ).all()
            }
        )


async def settled(app: App, *, timeout: float = 60) -> Counter[OutboxStatus]:
    """Wait until no push is waiting or on its way (re-checked every 50 ms); return the counts."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        counts = statuses(app)
        if not any(counts[s] for s in (OutboxStatus.QUEUED, OutboxStatus.CLAIMED, OutboxStatus.SENDING)):
            return counts
        if loop.time() > deadline:
            raise TimeoutError(f"pushes still open after {timeout} s: {dict(counts)}")
        await asyncio.sleep(0.05)


def per_chat(stub: TelegramStub) -> Counter[int]:
    return Counter(int(params["chat_id"]) for params in stub.sent("sendMessage"))


async def test_a_thousand_recipients_get_the_push_exactly_once(stub: TelegramStub, tmp_path: Path) -> None:
    stub.limit_flood(400, 1.0)
    app = App(load_settings(**delivery_settings(stub, tmp_path / "data", telegram_push_per_second=400)))
    app.prepare()
    seed(app, 1000)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(app, stop))
    await stub.wait_for("sendMessage", count=1000, timeout=60)
    counts = await settled(app)
    stop.set()
    await asyncio.wait_for(worker, timeout=15)
    assert counts == {OutboxStatus.SENT: 1000}
    received = per_chat(stub)
    assert len(received) == 1000
    assert set(received.values()) == {1}
    assert stub.floods == 0
    first, *_, last = [call.at for call in stub.calls if call.method == "sendMessage"]
    assert 999 / (last - first) <= 400 * 1.02


async def test_429_waits_and_a_blocked_member_gets_it_on_wechat(stub: TelegramStub, tmp_path: Path) -> None:
    async with WeChatStub(app_id="wx0123456789abcdef", secret="s") as wechat:
        app = App(
            load_settings(
                **delivery_settings(
                    stub,
                    tmp_path / "data",
                    wechat_app_id="wx0123456789abcdef",
                    wechat_app_secret="s",
                    wechat_api_url=wechat.url,
                )
            )
        )
        app.prepare()
        seed(app, 5, wechat_seen=True)
        with app.sessions() as session:  # Telegram first for everyone; the blocked one falls back
            for member in session.exec(select(Member)):
                member.preferred_channel = "telegram"
        stub.block_user(FIRST_CHAT + 3)
        stub.fail_next("sendMessage", status=429, retry_after=1)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(app, stop))
        counts = await settled(app, timeout=30)
        stop.set()
        await asyncio.wait_for(worker, timeout=15)
        assert counts == {OutboxStatus.SENT: 5}
        received = per_chat(stub)
        assert sorted(received) == [FIRST_CHAT + n for n in (0, 1, 2, 4)]
        assert set(received.values()) == {1}
        [fallback] = wechat.sent("/cgi-bin/message/custom/send")
        assert fallback.body["touser"] == "openid-3"
        assert len(wechat.sent("/cgi-bin/message/custom/send")) == 1
        with app.sessions() as session:
            blocked = session.exec(
                select(ChatAccount).where(ChatAccount.external_id == str(FIRST_CHAT + 3))
            ).one()
            assert blocked.active is False
        answered_429 = [call for call in stub.calls if call.status == 429]
        assert len(answered_429) == 1


def worker_env(settings: dict[str, Any]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("UNIONBOT_")}
    env["PTB_TIMEDELTA"] = "true"
    env["PYTHONPATH"] = str(REPO)
    for name, value in settings.items():
        env[f"UNIONBOT_{name.upper()}"] = str(value)
    return env


async def start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER_CODE, cwd=REPO, env=env, stderr=asyncio.subprocess.PIPE
    )


async def stop_worker(process: asyncio.subprocess.Process) -> bytes:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stderr


async def test_a_worker_killed_mid_batch_and_restarted_sends_nobody_two(
    stub: TelegramStub, tmp_path: Path
) -> None:
    stub.limit_flood(300, 1.0)
    settings = delivery_settings(stub, tmp_path / "data", telegram_push_per_second=300)
    app = App(load_settings(**settings))
    app.prepare()
    seed(app, 1000)
    env = worker_env(settings)
    first = await start_worker(env)
    await stub.wait_for("sendMessage", count=300, timeout=60)
    first.kill()  # SIGKILL: no chance to record or give anything back
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    second = await start_worker(env)
    counts = await settled(app, timeout=60)
    await stop_worker(second)
    received = per_chat(stub)
    assert set(received.values()) == {1}, "a member got the push twice"
    assert counts[OutboxStatus.SENT] + counts[OutboxStatus.UNCERTAIN] == 1000
    assert counts[OutboxStatus.UNCERTAIN] <= IN_FLIGHT
    assert counts[OutboxStatus.SENT] <= len(received) <= 1000
    assert stub.floods == 0


@pytest.fixture
def shared_backends() -> tuple[str, str]:
    if not (TEST_DATABASE_URL and TEST_REDIS_URL):
        pytest.skip("needs UNIONBOT_TEST_DATABASE_URL and UNIONBOT_TEST_REDIS_URL")
    return TEST_DATABASE_URL, TEST_REDIS_URL


async def test_two_workers_on_postgresql_and_redis_share_the_work_and_the_limit(
    stub: TelegramStub, tmp_path: Path, shared_backends: tuple[str, str]
) -> None:
    database, redis_url = shared_backends
    schema = f"unionbot_e2e_{uuid.uuid4().hex[:12]}"
    postgres_engine(database, schema).dispose()
    rate = 250
    stub.limit_flood(rate, 1.0)
    settings = delivery_settings(
        stub,
        tmp_path / "data",
        telegram_push_per_second=rate,
        database_url=f"{database}?options=-csearch_path%3D{schema}",
        redis_url=redis_url,
    )
    client = redis.Redis.from_url(redis_url)
    client.delete(*(client.keys("unionbot:rate:*") or ["-"]))
    try:
        app = App(load_settings(**settings))
        app.prepare()
        seed(app, 1000)
        env = worker_env(settings)
        workers = [await start_worker(env), await start_worker(env)]
        counts = await settled(app, timeout=90)
        for process in workers:
            await stop_worker(process)
        with app.sessions() as session:
            workers_seen = session.exec(select(func.count(func.distinct(Outbox.claimed_by)))).one()
        app.engine.dispose()
        assert counts == {OutboxStatus.SENT: 1000}
        received = per_chat(stub)
        assert len(received) == 1000
        assert set(received.values()) == {1}
        assert stub.floods == 0
        times = sorted(call.at for call in stub.calls if call.method == "sendMessage")
        assert 999 / (times[-1] - times[0]) <= rate * 1.02
        busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
        assert busiest <= rate * 1.05
        assert workers_seen == 2, "both workers took a share"
    finally:
        client.close()
        drop_postgres_schema(database, schema)


def test_a_second_worker_on_sqlite_is_refused_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "en")
    for name in (
        "UNIONBOT_REDIS_URL",
        "UNIONBOT_DATABASE_URL",
        "UNIONBOT_TELEGRAM_TOKEN",
        "UNIONBOT_WECHAT_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    app = App(load_settings())
    app.prepare()
    running = SingleWorkerLock(app.engine)  # the first worker
    running.acquire()
    try:
        assert main(["run", "--only", "worker"]) == 2
    finally:
        running.release()
        app.engine.dispose()
    assert "Another delivery worker is already using this database" in capsys.readouterr().err
