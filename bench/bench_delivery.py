"""How fast the outbox takes a big push, and how close a worker keeps to the channel's limit.

1. **Enqueue**: 100,000 members (``--recipients``), each with a Telegram
   account, are written to a fresh migrated SQLite file; then one push per
   member is enqueued in one transaction with ``models.outbox.enqueue`` (what
   a notice to the whole union does). Timed: the enqueue and its commit.
2. **Dispatch**: one delivery worker, as ``python -m bot run --only worker``
   runs it, in a process of its own, sends them to the stand-in Telegram Bot
   API (``tests/e2e/telegram_stub.py``, in this process) with
   ``UNIONBOT_TELEGRAM_PUSH_PER_SECOND`` = ``--limit`` (1,000). The stand-in
   enforces that limit itself (``limit_flood``: 429 beyond it, 50 ms of
   jitter forgiven) and one a second per chat.

Reported: enqueue seconds and rows/s; achieved send rate (sends from the
first to the last arrival at the stand-in) as a fraction of the limit; 429s
provoked; duplicates (a chat that got more than one message); pushes not
sent; the worker's peak memory (VmHWM) and CPU seconds.

Goals (issue #5): achieved rate ≥ 0.95 of the limit, zero 429s, zero
duplicates. Exit status 1 while a goal is missed.

Run: ``.venv/bin/python bench/bench_delivery.py [--recipients 100000] [--limit 1000]
[--in-flight 32] [--batch 500]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from common import machine, own_cpu
from sqlmodel import col

from bot import database
from models.accounts import ChatAccount
from models.base import utcnow
from models.db import SessionFactory, make_engine
from models.members import Member, MemberStatus
from models.outbox import NewPush, Outbox, OutboxStatus, PushKind, enqueue
from models.units import UnitTree
from tests.bot.delivery.helpers import TOPIC
from tests.e2e.telegram_stub import TelegramStub

REPO = Path(__file__).resolve().parents[1]
FIRST_CHAT = 7_000_000
WORKER_CODE = (
    "import sys, tests.bot.delivery.helpers; from bot.cli import main; "
    "sys.exit(main(['run', '--only', 'worker']))"
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


def peak_memory_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def dispatch(args: argparse.Namespace, data_dir: Path, count: int) -> dict[str, float]:
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
        stand_in_cpu = own_cpu()
        worker = await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER_CODE, cwd=REPO, env=env)
        peak = 0
        cpu = 0.0

        def watch() -> None:
            nonlocal peak, cpu
            peak = max(peak, peak_memory_kb(worker.pid))
            cpu = cpu_seconds(worker.pid)

        done = asyncio.get_running_loop().create_task(
            stub.wait_for("sendMessage", count=count, timeout=count / 50)
        )
        while not done.done():
            watch()
            await asyncio.wait({done}, timeout=1.0)
        watch()
        await done
        await asyncio.sleep(0.5)  # a duplicate, if any, would arrive now
        worker.terminate()
        await worker.wait()
        arrivals = sorted(
            call.at for call in stub.calls if call.method == "sendMessage" and call.status == 200
        )
        per_chat = Counter(int(params["chat_id"]) for params in stub.sent("sendMessage"))
        span = arrivals[-1] - arrivals[0]
        return {
            "sent": len(arrivals),
            "seconds": span,
            "rate": (len(arrivals) - 1) / span,
            "floods": stub.floods,
            "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
            "missing": count - len(per_chat),
            "peak_mb": peak / 1024,
            "cpu": cpu,
            "stand_in_cpu": own_cpu() - stand_in_cpu,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--limit", type=float, default=1000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    print(machine(["sqlite"], "", ["python-telegram-bot"]))
    with tempfile.TemporaryDirectory() as workdir:
        data_dir = Path(workdir) / "data"
        data_dir.mkdir()
        engine = make_engine(f"sqlite:///{data_dir / 'unionbot.db'}")
        database.upgrade(engine)
        sessions = SessionFactory(engine)
        member_ids = seed_members(sessions, args.recipients)
        started = time.perf_counter()
        with sessions() as session:
            added = enqueue(
                session,
                [
                    NewPush(
                        key=f"bench:1:{member_id}",
                        member_id=member_id,
                        kind=PushKind.NOTICE,
                        topic=TOPIC,
                        subject_id=1,
                    )
                    for member_id in member_ids
                ],
            )
        enqueue_seconds = time.perf_counter() - started
        engine.dispose()
        print(f"enqueue: {added:,} pushes in {enqueue_seconds:.2f} s ({added / enqueue_seconds:,.0f} rows/s)")
        result = asyncio.run(dispatch(args, data_dir, args.recipients))
        engine = make_engine(f"sqlite:///{data_dir / 'unionbot.db'}")
        with SessionFactory(engine)() as session:
            recorded = session.execute(
                sa.select(sa.func.count()).select_from(Outbox).where(col(Outbox.status) == OutboxStatus.SENT)
            ).scalar_one()
        engine.dispose()
    fraction = result["rate"] / args.limit
    print(
        f"dispatch: {result['sent']:,.0f} sent in {result['seconds']:.1f} s = {result['rate']:,.0f}/s "
        f"= {fraction:.3f} of the {args.limit:,.0f}/s limit (in flight {args.in_flight}, batch {args.batch})"
    )
    print(
        f"429s provoked: {result['floods']:.0f}; duplicates: {result['duplicates']:.0f}; "
        f"not sent: {result['missing']:.0f}; recorded sent: {recorded:,}"
    )
    print(
        f"worker: peak memory {result['peak_mb']:.0f} MB, CPU {result['cpu']:.1f} s "
        f"({result['cpu'] / result['sent'] * 1000:.2f} ms a push); "
        f"the stand-in's CPU {result['stand_in_cpu']:.1f} s"
    )
    met = fraction >= 0.95 and result["floods"] == 0 and result["duplicates"] == 0 and result["missing"] == 0
    print("goals met" if met else "GOAL MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
