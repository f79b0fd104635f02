"""How fast the outbox takes a big push, and how close a worker keeps to the channel's limit.

1. **Enqueue**: 100,000 members (``--recipients``), each with a Telegram
   account, are written to a fresh migrated SQLite file; then one push per
   member is enqueued in one transaction with ``models.outbox.enqueue`` (what
   a notice to the whole union does). Timed: the enqueue and its commit.
   With ``--database postgresql`` the same happens in a throwaway schema of
   the local PostgreSQL (127.0.0.1:5432, database ``test``), dropped after.
2. **Dispatch**: one delivery worker (``--workers N``: N of them), as
   ``python -m bot run --only worker`` runs it, each in a process of its own,
   sends them to the stand-in Telegram Bot
   API (``tests/e2e/telegram_stub.py``, in this process) with
   ``UNIONBOT_TELEGRAM_PUSH_PER_SECOND`` = ``--limit`` (1,000). The stand-in
   enforces that limit itself (``limit_flood``: 429 beyond it, 50 ms of
   jitter forgiven) and one a second per chat. With ``--redis`` the workers
   share that limit through Redis (``RedisRates``, db 12, which no test and no
   other benchmark uses; only the ``unionbot:rate:*`` keys are cleared). More
   than one worker needs both PostgreSQL and Redis: on SQLite the claims are
   not shared (no SKIP LOCKED) and without Redis each worker would keep the
   whole limit to itself.

Reported: enqueue seconds and rows/s; achieved send rate (sends from the
first to the last arrival at the stand-in) as a fraction of the limit; 429s
provoked; duplicates (a chat that got more than one message); pushes not
sent; each worker's peak memory (VmHWM), CPU seconds and CPU per push it
sent (its pushes counted by ``Outbox.claimed_by``, which holds its pid).

Goals (issue #5): achieved rate ≥ 0.95 of the limit, zero 429s, zero
duplicates. Exit status 1 while a goal is missed.

Options for a regression check (``make bench-check``, bench/check.py):

- ``--renderer notice``: the pushes are one real notice's (the notices module's
  renderer and after-batch hook, which read the notice, its unit and its report),
  not the delivery tests' renderer, which reads nothing;
- ``--bare``: after the worker, in the same run, a **bare sender** sends as many
  messages to a stand-in without flood limits: a process of its own doing what
  python-telegram-bot's documentation does, ``await bot.send_message(chat_id, text)``,
  ``--in-flight`` at a time, over the worker's own HTTP client (``push_bot``), no
  database. Reported: the bare sender's CPU per message over the worker's CPU per
  push (what the worker costs on top of sending, whatever the machine's speed; CPU
  rather than rate, since the worker's rate is capped by ``--limit``);
- ``--json PATH``: the figures, for a script.

Run: ``.venv/bin/python bench/bench_delivery.py [--recipients 100000] [--limit 1000]
[--in-flight 64] [--batch 500] [--database sqlite|postgresql] [--redis] [--workers 1]
[--client push|httpx] [--renderer test|notice] [--bare] [--json PATH]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
from common import machine, own_cpu
from sqlmodel import col

from bot import database
from models.accounts import ChatAccount
from models.base import utcnow
from models.db import SessionFactory, make_engine
from models.members import Member, MemberStatus
from models.notices import TOPIC as NOTICE_TOPIC
from models.notices import Notice, NoticeCategory, TargetKind
from models.outbox import NewPush, Outbox, OutboxStatus, PushKind, enqueue
from models.units import UnitTree
from tests.bot.delivery.helpers import TOPIC
from tests.conftest import drop_postgres_schema, postgres_engine
from tests.e2e.telegram_stub import TelegramStub

REPO = Path(__file__).resolve().parents[1]
FIRST_CHAT = 7_000_000
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Not 15 (make test) nor 13 (bench_wechat_webhook.py, which flushes its db).
REDIS_URL = "redis://127.0.0.1:6379/12"
RATE_KEYS = "unionbot:rate:*"
WORKER_CODE = (
    "import sys, handlers.modules, tests.bot.delivery.helpers as h; "
    "handlers.modules.REGISTRY = h.TEST_REGISTRY; "
    "{client}"
    "from bot.cli import main; "
    "sys.exit(main(['run', '--only', 'worker']))"
)
# The Bot API client the worker pushes through (--client): "push" is the worker's own (PushRequest, on
# aiohttp since issue #15; the hand-written h11 client it replaced was measured against it from the
# commit before, bench/RESULTS.md); "httpx" puts python-telegram-bot's default in its place, built with
# the same arguments (push_bot's).
CLIENTS = {
    "push": "",
    "httpx": (
        "import bot.channels.telegram.push as p, telegram.request as r; "
        "p.PushRequest = lambda connections, pool_timeout, read_timeout, **_: r.HTTPXRequest("
        "connection_pool_size=connections, pool_timeout=pool_timeout, read_timeout=read_timeout); "
    ),
}
# The bare sender: this file's bare_send in a process of its own (argv: API root, token, count, in flight).
BARE_CODE = (
    "import asyncio, sys; sys.path.insert(0, 'bench'); import bench_delivery as b; "
    "asyncio.run(b.bare_send(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))"
)


def seed_members(sessions: SessionFactory, count: int) -> list[int]:
    now = utcnow()
    with sessions() as session:
        unit_id = UnitTree(session).ensure("厂工会/一车间").id
    ids: list[int] = []
    for start in range(0, count, 5000):
        chunk = range(start, min(count, start + 5000))
        with sessions() as session:
            session.execute(
                sa.insert(Member),
                [
                    {
                        "employee_no": f"B{n}",
                        "name": f"会员{n}",
                        "unit_id": unit_id,
                        "status": MemberStatus.ACTIVE,
                        "monthly_dues_fen": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in chunk
                ],
            )
            rows = session.execute(
                sa.select(col(Member.id), col(Member.employee_no)).where(
                    col(Member.employee_no).in_([f"B{n}" for n in chunk])
                )
            ).all()
            by_no = {employee_no: member_id for member_id, employee_no in rows}
            session.execute(
                sa.insert(ChatAccount),
                [
                    {
                        "channel": "telegram",
                        "external_id": str(FIRST_CHAT + n),
                        "member_id": by_no[f"B{n}"],
                        "active": True,
                        "created_at": now,
                    }
                    for n in chunk
                ],
            )
            ids.extend(by_no[f"B{n}"] for n in chunk)
    return ids


def seed_notice(sessions: SessionFactory) -> int:
    """A notice to the whole union, as its author composed it; the pushes are enqueued apart."""
    now = utcnow()
    with sessions() as session:
        unit = UnitTree(session).ensure("厂工会")
        assert unit.id is not None
        # The author has no chat account: their progress messages fail as "no account" rather
        # than land in a recipient's chat, where they would count as duplicates.
        author = Member(employee_no="AUTHOR", name="作者", unit_id=unit.id, monthly_dues_fen=0)
        session.add(author)
        session.flush()
        assert author.id is not None
        notice = Notice(
            author_id=author.id,
            unit_id=unit.id,
            category=NoticeCategory.NOTICE,
            title="关于疗休养报名的通知",
            body="各位会员：请于本周五前报名。" * 5,
            target_kind=TargetKind.UNITS,
            target_unit_ids=[unit.id],
            send_at=now,
        )
        session.add(notice)
        session.flush()
        assert notice.id is not None
        return notice.id


async def bare_send(api_root: str, token: str, count: int, in_flight: int) -> None:
    """Send ``count`` messages to chats FIRST_CHAT… as python-telegram-bot's documentation does."""
    from bot.channels.telegram.push import push_bot  # the worker's own HTTP client

    bot = push_bot(api_root, token, connections=in_flight)
    await bot.initialize()
    chats = iter(range(FIRST_CHAT, FIRST_CHAT + count))

    async def sender() -> None:
        for chat_id in chats:
            await bot.send_message(chat_id=chat_id, text=f"关于疗休养报名的通知\nbench:1:{chat_id}")

    try:
        await asyncio.gather(*(sender() for _ in range(in_flight)))
    finally:
        await bot.shutdown()


def peak_memory_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Dispatch:
    sent: int
    seconds: float
    rate: float
    floods: int
    duplicates: int
    missing: int
    peak_mb: dict[int, float]  # by worker pid
    cpu: dict[int, float]  # CPU seconds, by worker pid
    stand_in_cpu: float
    # The workers' CPU seconds from the first message's arrival on, and the messages sent meanwhile:
    # the cost per push without the start-up, for runs short enough for it to count.
    steady_cpu: float
    steady_sent: int


def sent_so_far(stub: TelegramStub) -> int:
    return sum(1 for call in stub.calls if call.method == "sendMessage" and call.status == 200)


def clear_rate_keys(url: str) -> None:
    """Forget the shared limit's state from an earlier run (a rate reservation ahead in time)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(RATE_KEYS))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextmanager
def fresh_database(kind: str, data_dir: Path, postgres_url: str) -> Iterator[tuple[str, sa.Engine]]:
    """An empty database: (the worker's URL, an engine on it); a PostgreSQL schema is dropped after."""
    if kind == "sqlite":
        url = f"sqlite:///{data_dir / 'unionbot.db'}"
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()
        return
    schema = f"unionbot_bench_delivery_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = postgres_engine(postgres_url, schema)  # creates the schema
    try:
        # The worker connects with the same search_path, as the e2e two-worker test does.
        yield f"{postgres_url}?options=-csearch_path%3D{schema}", engine
    finally:
        engine.dispose()
        drop_postgres_schema(postgres_url, schema)


async def dispatch(
    args: argparse.Namespace, data_dir: Path, count: int, database_url: str | None
) -> Dispatch:
    async with TelegramStub() as stub:
        stub.limit_flood(args.limit, 1.0)
        env = {key: value for key, value in os.environ.items() if not key.startswith("UNIONBOT_")}
        env.update(
            {
                "PTB_TIMEDELTA": "true",
                "PYTHONPATH": str(REPO),
                "UNIONBOT_DATA_DIR": str(data_dir),
                "UNIONBOT_TELEGRAM_TOKEN": stub.token,
                "UNIONBOT_TELEGRAM_API_URL": stub.url,
                "UNIONBOT_TELEGRAM_PUSH_PER_SECOND": str(args.limit),
                "UNIONBOT_DELIVERY_IN_FLIGHT": str(args.in_flight),
                "UNIONBOT_DELIVERY_BATCH": str(args.batch),
                "UNIONBOT_QUIET_HOURS": "",
                "UNIONBOT_LOG_LEVEL": "WARNING",
            }
        )
        if database_url is not None:
            env["UNIONBOT_DATABASE_URL"] = database_url
        if args.redis:
            env["UNIONBOT_REDIS_URL"] = REDIS_URL
        if args.workers > 1:
            # Workers started together on a fresh data folder race to create data.key
            # (O_EXCL: the loser dies with FileExistsError); one key given to all avoids it.
            env["UNIONBOT_DATA_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        stand_in_cpu = own_cpu()
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", WORKER_CODE.format(client=CLIENTS[args.client]), cwd=REPO, env=env
            )
            for _ in range(args.workers)
        ]
        peak = {worker.pid: 0 for worker in workers}
        cpu = {worker.pid: 0.0 for worker in workers}

        def watch() -> None:
            for worker in workers:
                if worker.returncode is None:
                    try:
                        peak[worker.pid] = max(peak[worker.pid], peak_memory_kb(worker.pid))
                        cpu[worker.pid] = cpu_seconds(worker.pid)
                    except FileNotFoundError:  # exited since; its last reading stands
                        pass

        done = asyncio.get_running_loop().create_task(
            stub.wait_for("sendMessage", count=count, timeout=count / 50)
        )
        first = asyncio.get_running_loop().create_task(
            stub.wait_for("sendMessage", count=1, timeout=count / 50)
        )
        steady: tuple[float, int] | None = None  # (CPU, messages sent) at the first arrival
        try:
            while not done.done():
                watch()
                if steady is None and first.done():
                    steady = (sum(cpu.values()), sent_so_far(stub))
                if any(worker.returncode is not None for worker in workers):
                    # A dead worker's share would only go out through the others' reclaim,
                    # and figures from fewer workers than asked for are not the figures.
                    raise RuntimeError("a worker exited during the run (its error is above)")
                await asyncio.wait({done} if steady is not None else {done, first}, timeout=1.0)
            watch()
            await done
            end = (sum(cpu.values()), sent_so_far(stub))
            await asyncio.sleep(0.5)  # a duplicate, if any, would arrive now
        finally:
            done.cancel()
            first.cancel()
            for worker in workers:
                if worker.returncode is None:
                    worker.terminate()
            for worker in workers:
                await worker.wait()
        arrivals = sorted(
            call.at for call in stub.calls if call.method == "sendMessage" and call.status == 200
        )
        per_chat = Counter(int(params["chat_id"]) for params in stub.sent("sendMessage"))
        span = arrivals[-1] - arrivals[0]
        return Dispatch(
            sent=len(arrivals),
            seconds=span,
            rate=(len(arrivals) - 1) / span,
            floods=stub.floods,
            duplicates=sum(n - 1 for n in per_chat.values() if n > 1),
            missing=count - len(per_chat),
            peak_mb={pid: kb / 1024 for pid, kb in peak.items()},
            cpu=cpu,
            stand_in_cpu=own_cpu() - stand_in_cpu,
            steady_cpu=end[0] - (steady or (0.0, 0))[0],
            steady_sent=end[1] - (steady or (0.0, 0))[1],
        )


@dataclass
class Bare:
    sent: int
    rate: float
    cpu: float  # CPU seconds of the bare sender's process from the first arrival on
    cpu_sent: int  # messages sent meanwhile


async def bare_dispatch(args: argparse.Namespace, count: int) -> Bare:
    """The bare sender against a stand-in of its own, without flood limits: its rate and CPU."""
    async with TelegramStub() as stub:
        env = {**os.environ, "PTB_TIMEDELTA": "true", "PYTHONPATH": str(REPO)}
        sender = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            BARE_CODE,
            stub.url,
            stub.token,
            str(count),
            str(args.in_flight),
            cwd=REPO,
            env=env,
        )
        done = asyncio.get_running_loop().create_task(
            stub.wait_for("sendMessage", count=count, timeout=count / 50)
        )
        first = asyncio.get_running_loop().create_task(
            stub.wait_for("sendMessage", count=1, timeout=count / 50)
        )
        exited = asyncio.get_running_loop().create_task(sender.wait())

        async def reached(target: asyncio.Task[Any], what: str) -> None:
            await asyncio.wait({target, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not target.done():  # exited: what it sent may still be on its way in
                await asyncio.wait({target}, timeout=2.0)
            if not target.done():
                raise RuntimeError(f"the bare sender exited before {what} (its error is above)")

        try:
            await reached(first, "its first message")
            steady = (cpu_seconds(sender.pid), sent_so_far(stub))
            await reached(done, "sending everything")
            end = (cpu_seconds(sender.pid), sent_so_far(stub))
        finally:
            done.cancel()
            first.cancel()
            await asyncio.wait_for(exited, timeout=30)
        arrivals = sorted(
            call.at for call in stub.calls if call.method == "sendMessage" and call.status == 200
        )
        return Bare(
            sent=len(arrivals),
            rate=(len(arrivals) - 1) / (arrivals[-1] - arrivals[0]),
            cpu=end[0] - steady[0],
            cpu_sent=end[1] - steady[1],
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--limit", type=float, default=1000)
    # Rows in flight = rate × the time each spends between its SENDING mark and its recorded
    # outcome (two group commits and a request, 40-60 ms here): 1,000/s needs about 50-60 of
    # them. Fewer capped the rate below the limit with CPU to spare (bench/RESULTS.md).
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="sqlite (a file, the default) or postgresql (a throwaway schema on 127.0.0.1:5432/test)",
    )
    parser.add_argument("--redis", action="store_true", help=f"share the limit through Redis ({REDIS_URL})")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (1; more need PostgreSQL and Redis)"
    )
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="push",
        help="the worker's Bot API client: push (the worker's own, default) or httpx",
    )
    parser.add_argument(
        "--renderer",
        choices=("test", "notice"),
        default="test",
        help="test: the delivery tests' renderer, which reads nothing (the default); notice: a real notice's",
    )
    parser.add_argument("--bare", action="store_true", help="then the bare sender, and the ratio to it")
    parser.add_argument("--json", type=Path, help="write the figures to this file as well")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("need --workers ≥ 1")
    if args.workers > 1 and not (args.database == "postgresql" and args.redis):
        # The worker refuses too, but only after the seeding; say why up front.
        parser.error(
            "--workers > 1 needs --database postgresql and --redis: SQLite cannot share the claims "
            "(no SKIP LOCKED, one writer), and without Redis each worker would use the whole limit"
        )
    libraries = ["python-telegram-bot", "aiohttp", *(["redis"] if args.redis else [])]
    print(machine([args.database], args.postgres_url, libraries))
    if args.redis:
        clear_rate_keys(REDIS_URL)
    with tempfile.TemporaryDirectory() as workdir:
        data_dir = Path(workdir) / "data"
        data_dir.mkdir(mode=0o700)  # as the bot makes it (it warns about a folder others can read)
        with fresh_database(args.database, data_dir, args.postgres_url) as (url, engine):
            database.upgrade(engine)
            sessions = SessionFactory(engine)
            member_ids = seed_members(sessions, args.recipients)
            topic, subject = (TOPIC, 1)
            if args.renderer == "notice":
                topic, subject = NOTICE_TOPIC, seed_notice(sessions)
            started = time.perf_counter()
            with sessions() as session:
                added = enqueue(
                    session,
                    [
                        NewPush(
                            key=f"bench:1:{member_id}",
                            member_id=member_id,
                            kind=PushKind.NOTICE,
                            topic=topic,
                            subject_id=subject,
                        )
                        for member_id in member_ids
                    ],
                )
            enqueue_seconds = time.perf_counter() - started
            if args.database == "postgresql":
                # enqueue's count is the driver's rowcount, which psycopg's batched
                # executemany leaves at -1 (so 0); the fresh outbox holds exactly the new rows.
                with sessions() as session:
                    added = session.execute(sa.select(sa.func.count()).select_from(Outbox)).scalar_one()
            engine.dispose()
            rows_per_second = added / enqueue_seconds
            print(f"enqueue: {added:,} pushes in {enqueue_seconds:.2f} s ({rows_per_second:,.0f} rows/s)")
            try:
                result = asyncio.run(
                    dispatch(args, data_dir, args.recipients, url if args.database == "postgresql" else None)
                )
            finally:
                if args.redis:
                    clear_rate_keys(REDIS_URL)
            with SessionFactory(engine)() as session:
                by_worker = session.execute(
                    sa.select(col(Outbox.claimed_by), sa.func.count())
                    .where(col(Outbox.status) == OutboxStatus.SENT)
                    .group_by(col(Outbox.claimed_by))
                ).all()
    recorded = sum(n for _, n in by_worker)
    # claimed_by is "host:pid:random"; the pid ties a worker's sends to its CPU reading.
    sent_by_pid = Counter(
        {int(str(claimed_by).split(":")[-2]): n for claimed_by, n in by_worker if claimed_by}
    )
    fraction = result.rate / args.limit
    setup = f"in flight {args.in_flight}, batch {args.batch}, client {args.client}"
    if args.database != "sqlite" or args.redis or args.workers > 1:
        setup += f"; {args.database}{' + Redis' if args.redis else ''}, {args.workers} worker(s)"
    print(
        f"dispatch: {result.sent:,.0f} sent in {result.seconds:.1f} s = {result.rate:,.0f}/s "
        f"= {fraction:.3f} of the {args.limit:,.0f}/s limit ({setup})"
    )
    print(
        f"429s provoked: {result.floods:.0f}; duplicates: {result.duplicates:.0f}; "
        f"not sent: {result.missing:.0f}; recorded sent: {recorded:,}"
    )
    stand_in = f"the stand-in's CPU {result.stand_in_cpu:.1f} s"
    if args.workers == 1:
        [(pid, peak)] = result.peak_mb.items()
        cpu = result.cpu[pid]
        print(
            f"worker: peak memory {peak:.0f} MB, CPU {cpu:.1f} s "
            f"({cpu / result.sent * 1000:.2f} ms a push); {stand_in}"
        )
    else:
        for number, (pid, peak) in enumerate(result.peak_mb.items(), 1):
            cpu, pushes = result.cpu[pid], sent_by_pid[pid]
            per_push = f"{cpu / pushes * 1000:.2f} ms a push it recorded sent" if pushes else "no push"
            print(
                f"worker {number} (pid {pid}, {pushes:,} sent): peak memory {peak:.0f} MB, "
                f"CPU {cpu:.1f} s ({per_push})"
            )
        print(
            f"{stand_in}; workers' CPU together {sum(result.cpu.values()) / result.sent * 1000:.2f} ms a push"
        )
    figures: dict[str, object] = {
        "database": args.database,
        "renderer": args.renderer,
        "sent": result.sent,
        "rate": result.rate,
        "limit": args.limit,
        "worker_cpu_ms_per_push": result.steady_cpu / max(result.steady_sent, 1) * 1000,
    }
    if args.bare:
        bare = asyncio.run(bare_dispatch(args, args.recipients))
        bare_cpu = bare.cpu / max(bare.cpu_sent, 1) * 1000
        ratio = bare_cpu / float(figures["worker_cpu_ms_per_push"])  # type: ignore[arg-type]
        print(
            f"bare sender: {bare.sent:,} sent at {bare.rate:,.0f}/s, CPU {bare_cpu:.2f} ms a message; "
            f"its CPU per message over the worker's per push: {ratio:.2f}"
        )
        figures.update(bare_rate=bare.rate, bare_cpu_ms_per_push=bare_cpu, ratio=ratio)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    met = fraction >= 0.95 and result.floods == 0 and result.duplicates == 0 and result.missing == 0
    print("goals met" if met else "GOAL MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
