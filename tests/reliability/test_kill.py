"""kill -9 during a large notice and during a scheduled job: nobody gets two, nobody is lost.

Real bot processes (``python -m bot run``, or ``run --only worker``) send through
the stand-in Telegram server (tests/reliability/harness.py). The kill comes at a
moment the test sees, not after a sleep: the stand-in holds its answers from the
message to 30 % of the recipients on, and once every connection of the worker has a request there
(four of them, the pusher's pool), those four are exactly the requests that may
have reached members. The process group is killed, a new one started, and in
the end every member has the notice exactly once, and the only uncertain rows
are among those held requests: no member who provably never got it is listed.

On SQLite one worker runs and the new one takes back the dead one's rows at
start; on PostgreSQL + Redis it does once the dead one's heartbeat (1 s here)
has expired.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlmodel import col, select

from bot.app import App
from bot.delivery.runner import PUSH_CONNECTIONS
from bot.settings import load_settings
from models.accounts import ChatAccount
from models.outbox import Outbox, OutboxStatus
from tests.conftest import DATABASES, TEST_DATABASE_URL, TEST_REDIS_URL, drop_postgres_schema, postgres_engine
from tests.reliability import roll_call
from tests.reliability.harness import (
    CHAIR_CHAT,
    BotProcess,
    HoldingStub,
    bot_code,
    bot_env,
    outbox_statuses,
    seed_union,
    send_notice,
    settled,
)

pytestmark = pytest.mark.slow

# 1,000 in `make test` (each test well under a minute); `make soak` runs them with 10,000.
RECIPIENTS = int(os.environ.get("UNIONBOT_KILL_RECIPIENTS", "1000"))
KILL_AT = RECIPIENTS * 3 // 10
# What a busy 2-core machine sends in a few seconds; the stand-in keeps up.
PER_SECOND = 1000


@pytest.fixture
async def stub() -> AsyncIterator[HoldingStub]:
    server = HoldingStub()
    await server.start()
    yield server
    server.release()
    await server.stop()


@pytest.fixture(params=DATABASES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """SQLite in the test's folder, or a PostgreSQL schema of its own with Redis (both needed)."""
    if request.param == "sqlite":
        yield {"database_url": f"sqlite:///{tmp_path / 'bot.db'}"}
        return
    if not TEST_REDIS_URL:
        pytest.skip("PostgreSQL with several workers needs UNIONBOT_TEST_REDIS_URL too")
    assert TEST_DATABASE_URL is not None
    schema = f"unionbot_kill_{uuid.uuid4().hex[:12]}"
    postgres_engine(TEST_DATABASE_URL, schema).dispose()
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.delete(*(client.keys("unionbot:rate:*") or ["-"]))
    try:
        yield {
            "database_url": f"{TEST_DATABASE_URL}?options=-csearch_path%3D{schema}",
            "redis_url": TEST_REDIS_URL,
        }
    finally:
        client.close()
        drop_postgres_schema(TEST_DATABASE_URL, schema)


def settings_for(stub: HoldingStub, tmp_path: Path, backend: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "data_dir": tmp_path / "data",
        "telegram_token": stub.token,
        "telegram_api_url": stub.url,
        "quiet_hours": "",
        "telegram_push_per_second": PER_SECOND,
        "delivery_heartbeat_ttl": 1,
        "scheduler": False,
        **backend,
        **extra,
    }


def prepared(settings: dict[str, Any]) -> App:
    app = App(load_settings(**settings))
    app.prepare()
    return app


async def kill_when_held(stub: HoldingStub, bot: BotProcess) -> list[int]:
    """Kill the bot once each of its connections has a request held at the stand-in; those chats."""
    held = await stub.wait_held(PUSH_CONNECTIONS, timeout=180)
    await bot.kill()
    stub.release()
    return held


def uncertain_chats(app: App, *conditions: Any) -> set[int]:
    """The Telegram chats of the members whose push is uncertain."""
    with app.sessions() as session:
        chats = session.exec(
            select(ChatAccount.external_id)
            .join(Outbox, col(Outbox.member_id) == col(ChatAccount.member_id))
            .where(
                col(Outbox.status) == OutboxStatus.UNCERTAIN,
                col(ChatAccount.channel) == "telegram",
                *conditions,
            )
        ).all()
    return {int(chat) for chat in chats}


def assert_once_or_uncertain(stub: HoldingStub, app: App, held: list[int], *conditions: Any) -> None:
    received = stub.per_chat()
    received.pop(CHAIR_CHAT, None)  # the progress message and the report
    assert len(received) == RECIPIENTS, "somebody got nothing"
    assert set(received.values()) == {1}, [chat for chat, count in received.items() if count > 1][:10]
    counts = outbox_statuses(app.sessions, *conditions)
    assert counts[OutboxStatus.SENT] + counts[OutboxStatus.UNCERTAIN] == RECIPIENTS, dict(counts)
    uncertain = uncertain_chats(app, *conditions)
    # Only requests that had reached the channel: at most the worker's connections, and each one held.
    assert len(uncertain) <= PUSH_CONNECTIONS
    assert uncertain <= set(held), (uncertain, held)


@pytest.mark.parametrize("mode", ["worker", "whole"])
async def test_a_process_killed_during_a_notice_to_thousands(
    stub: HoldingStub, tmp_path: Path, backend: dict[str, Any], mode: str
) -> None:
    settings = settings_for(stub, tmp_path, backend)
    app = prepared(settings)
    union = seed_union(app.sessions, RECIPIENTS)
    notice_id = send_notice(app.sessions, union)
    stub.hold_after(KILL_AT)
    args = ["run", "--only", "worker"] if mode == "worker" else ["run"]
    env = bot_env(settings)
    first = BotProcess(bot_code(args), env, tmp_path / "first.log")
    await first.start()
    held = await kill_when_held(stub, first)
    # What the kill froze: the held requests are the only rows marked as on their way.
    recipients = (col(Outbox.topic) == "notice", col(Outbox.subject_id) == notice_id)
    frozen = outbox_statuses(app.sessions, *recipients)
    assert frozen[OutboxStatus.SENDING] <= len(held), dict(frozen)

    second = BotProcess(bot_code(args), env, tmp_path / "second.log")
    await second.start()
    await settled(app.sessions, timeout=240)
    assert await second.stop() == 0, second.log_text()[-3000:]
    assert_once_or_uncertain(stub, app, held, *recipients)
    assert "正在发送" in str(stub.sent("sendMessage", chat_id=CHAIR_CHAT)[0]["text"])
    app.engine.dispose()


async def test_a_process_killed_during_a_scheduled_job_and_while_its_pushes_go_out(
    stub: HoldingStub, tmp_path: Path, backend: dict[str, Any]
) -> None:
    settings = settings_for(stub, tmp_path, backend, scheduler=True)
    app = prepared(settings)
    seed_union(app.sessions, RECIPIENTS - 1)  # the chair is a member too
    gate = tmp_path / "gate"
    gate.mkdir()
    code = bot_code(["run", "--only", "worker"], extra_module=roll_call.__name__, startup_delay=0.0)
    env = bot_env(settings)  # the roll call alone: the features' own jobs are off

    # 1. Killed in the middle of the job's transaction: nothing of it stays.
    first = BotProcess(code, {**env, roll_call.GATE: str(gate)}, tmp_path / "first.log")
    await first.start()
    await wait_for_file(gate / "started", first)
    await first.kill()
    assert outbox_statuses(app.sessions) == {}

    # 2. The job runs again at start-up, its pushes go out; killed while they do.
    stub.hold_after(KILL_AT)
    second = BotProcess(code, env, tmp_path / "second.log")
    await second.start()
    held = await kill_when_held(stub, second)

    # 3. Started again: the job's catch-up run queues nothing twice, the worker finishes.
    third = BotProcess(code, env, tmp_path / "third.log")
    await third.start()
    await settled(app.sessions, timeout=240)
    log = third.log_text()
    assert await third.stop() == 0, log[-3000:]
    # The second process's run was recorded (job_run), so the third need not run it again; if it
    # does catch up, it queues nothing twice.
    ran = [line for line in third.log_text().splitlines() if "scheduled job roll_call done:" in line]
    assert all("done: 0 pushes queued" in line for line in ran), ran
    received = stub.per_chat()
    assert len(received) == RECIPIENTS
    assert set(received.values()) == {1}
    counts = outbox_statuses(app.sessions)
    assert counts[OutboxStatus.SENT] + counts[OutboxStatus.UNCERTAIN] == RECIPIENTS, dict(counts)
    assert counts[OutboxStatus.UNCERTAIN] <= len(held)
    app.engine.dispose()


async def wait_for_file(path: Path, bot: BotProcess, timeout: float = 120) -> None:
    """Until the job says it is mid-run (it writes ``path``); fail early if the process died."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not path.exists():
        assert bot.process is not None
        if bot.process.returncode is not None or loop.time() > deadline:
            raise AssertionError(f"the job never started:\n{bot.log_text()[-3000:]}")
        await asyncio.sleep(0.05)
