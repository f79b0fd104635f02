"""PostgreSQL connections killed mid-run: chat answers again at once, the worker finishes, nothing twice.

Each test has a schema of its own and connects under an application name of its
own; ``pg_terminate_backend`` ends exactly those connections (never another
test's or another database's). The kill comes at a moment the test controls:
chat between two messages; the worker while each of its connections has a
request held at the stand-in Telegram server, so its next writes are the
outcomes of requests that did go out.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.app import App
from bot.delivery.runner import PUSH_CONNECTIONS, supervise_worker
from bot.settings import load_settings
from models.db import SessionFactory, make_engine
from models.ephemeral import MemoryStore
from models.outbox import OutboxStatus
from tests.conftest import TEST_DATABASE_URL, drop_postgres_schema, postgres_engine
from tests.e2e.test_wechat import CUSTOM_SEND, MEMBER, Running, running
from tests.factories import make_member
from tests.reliability.harness import CHAIR_CHAT, HoldingStub, seed_union, send_notice, settled

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not TEST_DATABASE_URL, reason="pg_terminate_backend: needs UNIONBOT_TEST_DATABASE_URL"
    ),
]

RECIPIENTS = 300


@dataclass(frozen=True)
class Own:
    """A schema and an application name of the test's own, and a way to kill its connections."""

    schema: str
    name: str

    @property
    def url(self) -> str:
        assert TEST_DATABASE_URL is not None
        return f"{TEST_DATABASE_URL}?options=-csearch_path%3D{self.schema}&application_name={self.name}"

    def checking_engine(self) -> sa.Engine:
        """Another connection to the same schema, under another name: the test's own look."""
        assert TEST_DATABASE_URL is not None
        return make_engine(TEST_DATABASE_URL, connect_args={"options": f"-csearch_path={self.schema}"})

    def kill_connections(self) -> int:
        assert TEST_DATABASE_URL is not None
        admin = make_engine(TEST_DATABASE_URL)
        try:
            with admin.begin() as connection:
                killed = connection.execute(
                    sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE application_name = :name AND datname = current_database()"
                        " AND pid <> pg_backend_pid()"
                    ),
                    {"name": self.name},
                ).scalar_one()
        finally:
            admin.dispose()
        return int(killed)


@pytest.fixture
def own() -> Iterator[Own]:
    assert TEST_DATABASE_URL is not None
    token = uuid.uuid4().hex[:12]
    schema = f"unionbot_pgkill_{token}"
    postgres_engine(TEST_DATABASE_URL, schema).dispose()
    yield Own(schema, f"unionbot-pgkill-{token}")
    drop_postgres_schema(TEST_DATABASE_URL, schema)


@pytest.fixture
async def stub() -> AsyncIterator[HoldingStub]:
    server = HoldingStub()
    await server.start()
    yield server
    server.release()
    await server.stop()


async def ask(run: Running, text: str, *, event: str | None = None) -> str:
    """What the member reads back: the passive reply, or (on a machine too busy for WeChat's
    few seconds) the customer-service message that follows it. A 500 fails the test."""
    before = len(run.stub.sent(CUSTOM_SEND))
    if event is not None:
        reply = await run.client.send_event(MEMBER, event)
    else:
        reply = await run.client.send_text(MEMBER, text)
    assert reply.status == 200, reply.body
    if reply.content:
        return reply.content
    calls = await run.stub.wait_for(CUSTOM_SEND, count=before + 1, timeout=60)
    return str(calls[before].body["text"]["content"])


async def test_chat_answers_again_right_after_its_connections_are_killed(own: Own, tmp_path: Path) -> None:
    engine = make_engine(own.url)
    SQLModel.metadata.create_all(engine)
    db = SessionFactory(engine)
    with db() as session:
        make_member(session)
    try:
        async with running(db, MemoryStore(), tmp_path / "media", mode="plain") as run:
            assert "请输入您的工号" in await ask(run, "", event="subscribe")
            await ask(run, "1001")
            assert "绑定成功" in await ask(run, "1234")
            assert "工号：1001" in await ask(run, "/me")

            assert own.kill_connections() >= 1
            answers = [await ask(run, "/me") for _ in range(3)]
            # At most the first message meets the dead connection and gets a kind "try again"
            # (never a 500: WeChat would say the account cannot serve); the rest are served.
            served = ["工号：1001" in answer for answer in answers]
            assert served[1:] == [True, True], answers
            if not served[0]:
                assert "稍后" in answers[0], answers[0]
    finally:
        engine.dispose()


async def test_the_worker_finishes_a_notice_when_its_connections_are_killed(
    own: Own, stub: HoldingStub, tmp_path: Path
) -> None:
    app = App(
        load_settings(
            data_dir=tmp_path / "data",
            database_url=own.url,
            telegram_token=stub.token,
            telegram_api_url=stub.url,
            quiet_hours="",
            telegram_push_per_second=500,
        )
    )
    app.prepare()
    union = seed_union(app.sessions, RECIPIENTS)
    send_notice(app.sessions, union)
    stub.hold_after(RECIPIENTS // 3)
    stop = asyncio.Event()
    worker = asyncio.create_task(supervise_worker(app, stop))
    checking = SessionFactory(own.checking_engine())
    try:
        await stub.wait_held(PUSH_CONNECTIONS, timeout=120)
        assert own.kill_connections() >= 1  # the worker's, and its lock's
        stub.release()
        counts = await settled(checking, timeout=120)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 60)
        checking.engine.dispose()
        app.engine.dispose()
    received = stub.per_chat()
    received.pop(CHAIR_CHAT, None)
    assert len(received) == RECIPIENTS
    assert set(received.values()) == {1}
    # The outcomes of the held requests were written on a new connection: nothing left uncertain.
    assert counts[OutboxStatus.SENT] == RECIPIENTS + 1, dict(counts)  # and the progress message
