"""Pushes end to end: the real worker, python-telegram-bot and the WeChat client against the stand-ins.

Exactly once per recipient, across a worker killed with SIGKILL and
restarted (on SQLite, and on PostgreSQL + Redis where the restarted worker
takes over once the dead one's heartbeat expired), and across two workers on
PostgreSQL + Redis whose combined rate stays under the channel's limit; 429s
and blocked members handled. A push Telegram answers too late for is
uncertain: listed by ``outbox status``, not resent unless asked to.

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
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import time_machine
from sqlmodel import col, func, select

from bot.app import App
from bot.cli import main
from bot.cli_outbox import UNCERTAIN_LISTED
from bot.delivery.liveness import Heartbeat, SingleWorkerLock
from bot.delivery.runner import run_worker
from bot.settings import Settings, load_settings
from models.accounts import ChatAccount
from models.base import utcnow
from models.members import Member
from models.outbox import NewPush, Outbox, OutboxStatus, PushKind, claimants, enqueue, uncertain_rows
from models.units import UnitTree
from tests.bot.delivery.helpers import TEST_REGISTRY, TOPIC
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, drop_postgres_schema, postgres_engine
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.wechat_stub import WeChatStub

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WORKER_CODE = (
    "import sys, handlers.modules, tests.bot.delivery.helpers as h; "
    "handlers.modules.REGISTRY = h.TEST_REGISTRY; "
    "from bot.cli import main; "
    "sys.exit(main(['run', '--only', 'worker']))"
)
FIRST_CHAT = 5_000_000
IN_FLIGHT = 8
# Short enough that a killed worker's pushes are taken back within a test, never so short that the
# live worker (renewing every third of it) is taken for dead.
HEARTBEAT_TTL = 1
# The worker gives up on an answer after READ_TIMEOUT; the stand-in answers LATE, long after.
READ_TIMEOUT = 0.5
LATE = 30.0


def delivery_app(settings: Settings) -> App:
    """The app with the delivery tests' own push topic beside the modules'."""
    return App(settings, registry=TEST_REGISTRY)


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
    app = delivery_app(
        load_settings(**delivery_settings(stub, tmp_path / "data", telegram_push_per_second=400))
    )
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
        app = delivery_app(
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
    app = delivery_app(load_settings(**settings))
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
def shared_backends() -> Iterator[tuple[str, str]]:
    """A throwaway PostgreSQL schema (its URL) and Redis with no rate state left from earlier runs."""
    if not (TEST_DATABASE_URL and TEST_REDIS_URL):
        pytest.skip("needs UNIONBOT_TEST_DATABASE_URL and UNIONBOT_TEST_REDIS_URL")
    schema = f"unionbot_e2e_{uuid.uuid4().hex[:12]}"
    postgres_engine(TEST_DATABASE_URL, schema).dispose()
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.delete(*(client.keys("unionbot:rate:*") or ["-"]))
    try:
        yield f"{TEST_DATABASE_URL}?options=-csearch_path%3D{schema}", TEST_REDIS_URL
    finally:
        client.close()
        drop_postgres_schema(TEST_DATABASE_URL, schema)


async def test_two_workers_on_postgresql_and_redis_share_the_work_and_the_limit(
    stub: TelegramStub, tmp_path: Path, shared_backends: tuple[str, str]
) -> None:
    database_url, redis_url = shared_backends
    rate = 250
    stub.limit_flood(rate, 1.0)
    settings = delivery_settings(
        stub,
        tmp_path / "data",
        telegram_push_per_second=rate,
        database_url=database_url,
        redis_url=redis_url,
    )
    app = delivery_app(load_settings(**settings))
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
    app = delivery_app(load_settings())
    app.prepare()
    running = SingleWorkerLock(app.engine)  # the first worker
    running.acquire()
    try:
        assert main(["run", "--only", "worker"]) == 2
    finally:
        running.release()
        app.engine.dispose()
    assert "Another delivery worker is already using this database" in capsys.readouterr().err


def chats(app: App) -> dict[int, int]:
    """Each member's Telegram chat, by member id."""
    with app.sessions() as session:
        return {
            member_id: int(chat)
            for member_id, chat in session.exec(select(ChatAccount.member_id, ChatAccount.external_id))
            if member_id is not None
        }


def chats_by_status(app: App) -> dict[OutboxStatus, set[int]]:
    """The Telegram chat of each push, by the push's status."""
    chat_of = chats(app)
    found: dict[OutboxStatus, set[int]] = {}
    with app.sessions() as session:
        for status, member_id in session.exec(select(Outbox.status, Outbox.member_id)):
            found.setdefault(OutboxStatus(status), set()).add(chat_of[member_id])
    return found


def listed_uncertain(app: App) -> list[Outbox]:
    """The uncertain pushes as ``outbox status`` finds them (the same query, the same limit)."""
    with app.sessions() as session:
        return list(uncertain_rows(session, limit=UNCERTAIN_LISTED))


async def heartbeat_gone(app: App, worker_id: str, *, timeout: float) -> None:
    """Wait until the workers would count ``worker_id`` as dead: its heartbeat expired in the store."""
    observer = Heartbeat(app.store, "test-observer", HEARTBEAT_TTL)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while observer.alive(worker_id):
        if loop.time() > deadline:
            raise TimeoutError(f"the heartbeat of {worker_id} still there after {timeout} s")
        await asyncio.sleep(0.05)


async def test_a_worker_killed_on_postgresql_and_redis_is_taken_over_once_its_heartbeat_expires(
    stub: TelegramStub, tmp_path: Path, shared_backends: tuple[str, str]
) -> None:
    """Where several workers may run, none holds a lock the OS drops: the dead one is known only
    by its heartbeat expiring in Redis. The next worker then takes back its claimed pushes, and
    the ones it had on their way turn uncertain instead of going out twice."""
    database_url, redis_url = shared_backends
    rate, count = 400, 300
    stub.limit_flood(rate, 1.0)
    settings = delivery_settings(
        stub,
        tmp_path / "data",
        telegram_push_per_second=rate,
        database_url=database_url,
        redis_url=redis_url,
        delivery_heartbeat_ttl=HEARTBEAT_TTL,
    )
    app = delivery_app(load_settings(**settings))
    app.prepare()
    seed(app, count)
    env = worker_env(settings)
    first = await start_worker(env)
    await stub.wait_for("sendMessage", count=100, timeout=60)
    first.kill()  # SIGKILL: no chance to record or give anything back
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    with app.sessions() as session:
        [dead] = claimants(session)  # killed mid-batch: it left pushes behind
    await heartbeat_gone(app, dead, timeout=HEARTBEAT_TTL + 10)
    second = await start_worker(env)
    counts = await settled(app, timeout=60)
    await stop_worker(second)
    by_status = chats_by_status(app)
    uncertain = listed_uncertain(app)
    chat_of = chats(app)
    with app.sessions() as session:
        senders = set(session.exec(select(Outbox.claimed_by).where(Outbox.status == OutboxStatus.SENT)))
    app.engine.dispose()
    received = per_chat(stub)
    assert set(received.values()) == {1}, "a member got the push twice"
    assert counts[OutboxStatus.SENT] + counts[OutboxStatus.UNCERTAIN] == count
    assert len(uncertain) == counts[OutboxStatus.UNCERTAIN] <= IN_FLIGHT
    assert {row.claimed_by for row in uncertain} <= {dead}
    uncertain_chats = {chat_of[row.member_id] for row in uncertain}
    assert uncertain_chats == by_status.get(OutboxStatus.UNCERTAIN, set())
    served = by_status[OutboxStatus.SENT]
    assert served <= set(received), "recorded as sent, never arrived"
    assert served | uncertain_chats == {FIRST_CHAT + n for n in range(count)}
    assert set(received) - served <= uncertain_chats
    assert dead in senders
    assert len(senders) == 2, "the second worker, a new id, finished the work"
    assert stub.floods == 0


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any]) -> None:
    """Give ``python -m bot`` run in this process (``main``) the worker's settings, as the environment."""
    for name in list(os.environ):
        if name.startswith("UNIONBOT_") and not name.startswith("UNIONBOT_TEST_"):
            monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(f"UNIONBOT_{name.upper()}", str(value))


async def deliver_until_settled(app: App) -> Counter[OutboxStatus]:
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(app, stop))
    try:
        return await settled(app, timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=15)


async def test_a_push_telegram_answers_too_late_is_uncertain_and_resent_only_when_asked(
    stub: TelegramStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The message arrived, the answer did not come in time: the worker cannot know, so it must
    neither count it sent nor send it again (a duplicate), but tell the operator, who may resend."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    settings = delivery_settings(
        stub, tmp_path / "data", telegram_push_read_timeout=READ_TIMEOUT, default_locale="en"
    )
    use_settings(monkeypatch, settings)
    app = delivery_app(load_settings())
    app.prepare()
    seed(app, 20)
    everyone = {FIRST_CHAT + n for n in range(20)}
    late = FIRST_CHAT + 7
    stub.answer_late("sendMessage", chat_id=late, seconds=LATE)

    counts = await deliver_until_settled(app)
    assert counts == {OutboxStatus.SENT: 19, OutboxStatus.UNCERTAIN: 1}
    assert per_chat(stub) == Counter(dict.fromkeys(everyone, 1)), "the late one went out once, not again"
    assert chats_by_status(app)[OutboxStatus.UNCERTAIN] == {late}
    [row] = listed_uncertain(app)
    assert (row.channel, row.attempts) == ("telegram", 1)

    capsys.readouterr()
    assert main(["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert "no answer came back (it answered too late" in out  # not only "the worker stopped"
    assert "whether the members got them is unknown" in out
    assert "│ E7 " in out  # the 工号 of the member whose push is uncertain
    assert "outbox retry-failed KIND --uncertain" in out

    assert main(["outbox", "retry-failed", "notice"]) == 0  # failed ones only: not this one
    assert "Queued 0 pushes again" in capsys.readouterr().out
    assert main(["outbox", "retry-failed", "notice", "--uncertain"]) == 0
    assert "Queued 1 push again" in capsys.readouterr().out
    counts = await deliver_until_settled(app)
    assert counts == {OutboxStatus.SENT: 20}
    assert per_chat(stub) == Counter({**dict.fromkeys(everyone, 1), late: 2})


async def test_with_resend_uncertain_a_push_answered_too_late_goes_out_again(
    stub: TelegramStub, tmp_path: Path
) -> None:
    """UNIONBOT_RESEND_UNCERTAIN accepts a duplicate rather than a member left without the push:
    queued again after a pause (a slow Telegram is not hammered), never listed as uncertain."""
    app = delivery_app(
        load_settings(
            **delivery_settings(
                stub, tmp_path / "data", telegram_push_read_timeout=READ_TIMEOUT, resend_uncertain=True
            )
        )
    )
    app.prepare()
    seed(app, 5)
    late = FIRST_CHAT + 2
    stub.answer_late("sendMessage", chat_id=late, seconds=LATE)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(app, stop))
    try:
        await stub.wait_for("sendMessage", count=5, timeout=30)

        def queued_again() -> bool:
            with app.sessions() as session:
                row = session.exec(select(Outbox).where(Outbox.status == OutboxStatus.QUEUED)).first()
                return row is not None and row.attempts == 1

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not queued_again():
            assert loop.time() < deadline, f"not queued again: {dict(statuses(app))}"
            await asyncio.sleep(0.05)
        assert statuses(app) == {OutboxStatus.SENT: 4, OutboxStatus.QUEUED: 1}
        assert listed_uncertain(app) == []
        # Its next try is up to a quarter of a minute away (worker.retry_delay): the worker's clock moves on.
        with time_machine.travel(utcnow() + timedelta(seconds=16), tick=True):
            counts = await settled(app, timeout=15)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=15)
    assert counts == {OutboxStatus.SENT: 5}
    received = per_chat(stub)
    assert received[late] == 2
    assert [received[FIRST_CHAT + n] for n in (0, 1, 3, 4)] == [1, 1, 1, 1]
