"""月征集 at a large union's scale: the month's call queued for every member, and rendered.

The union: a root 厂工会 with ``--units`` 班组 (100 workshops × N teams), ``--members``
active members spread over them, 5 % of whom turned the call off, and one
suggestion this month in every other 班组 (so half of them get the second call).
A fresh SQLite file, and/or a throwaway schema of the local PostgreSQL
(``--database-url``), dropped after.

Timed (wall clock, and this process's peak resident memory):

1. ``enqueue_collection_calls`` for the month: the first run, committed (one
   outbox row per member), then a second run, which must queue nothing.
2. ``enqueue_second_calls``: the members of the units with nothing filed.
3. ``render_call`` for 200 members (``--renders``), 50 to a session as the
   delivery worker renders them (``RENDER_CHUNK``): the median per push.

Goal (issue #17): 100,000 reminders enqueued in under 20 s; memory under 300 MB.
Run: ``.venv/bin/python bench/bench_collection.py [--members 100000] [--units 2000]
[--database sqlite|postgresql|both] [--database-url postgresql://postgres@127.0.0.1:5432/test]``
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from common import fresh_database, machine, postgres_answers
from sqlmodel import col, select

from handlers.core.i18n import Catalogues
from handlers.suggestions.collection import render_call
from models.db import SessionFactory, make_engine
from models.members import Member, MemberStatus
from models.outbox import Outbox
from models.preferences import ReminderOptOut
from models.suggestions import Suggestion, SuggestionStatus
from models.suggestions.collection import (
    CALL_TOPIC,
    REMINDER_TOPIC,
    enqueue_collection_calls,
    enqueue_second_calls,
)
from models.units import Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = "2026-12"
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
WORKSHOPS = 100
RENDER_CHUNK = 50  # as bot/delivery/worker.py renders them


def seed(sessions: SessionFactory, members: int, units: int) -> None:
    rng = random.Random(17)
    teams_per_workshop = max(1, units // WORKSHOPS)
    with sessions() as session:
        root = Unit(name="厂工会")
        session.add(root)
        session.flush()
        root.id_path = f"/{root.id}/"
        team_ids: list[int] = []
        for w in range(WORKSHOPS):
            workshop = Unit(name=f"第{w + 1}车间", parent_id=root.id)
            session.add(workshop)
            session.flush()
            workshop.id_path = f"{root.id_path}{workshop.id}/"
            for t in range(teams_per_workshop):
                team = Unit(name=f"{t + 1}班", parent_id=workshop.id)
                session.add(team)
                session.flush()
                team.id_path = f"{workshop.id_path}{team.id}/"
                assert team.id is not None
                team_ids.append(team.id)
        table = Member.__table__  # type: ignore[attr-defined]
        rows = [
            {
                "employee_no": f"{100000 + n}",
                "name": f"会员{n}",
                # A roster is imported unit by unit: a 班组's members have neighbouring ids.
                "unit_id": team_ids[n * len(team_ids) // members],
                "status": MemberStatus.ACTIVE.value,
                "monthly_dues_fen": 2500,
            }
            for n in range(members)
        ]
        for start in range(0, len(rows), 5000):
            session.execute(sa.insert(table), rows[start : start + 5000])
        ids = list(session.exec(select(Member.id).order_by(col(Member.id))))
        off = rng.sample(ids, members // 20)
        session.execute(
            sa.insert(ReminderOptOut.__table__),  # type: ignore[attr-defined]
            [{"member_id": member_id, "topic": REMINDER_TOPIC, "at": NOW} for member_id in off],
        )
        by_unit = {
            unit_id: member_id
            for unit_id, member_id in session.execute(
                sa.select(col(Member.unit_id), sa.func.min(col(Member.id))).group_by(col(Member.unit_id))
            ).all()
        }
        filed = [
            {
                "proposer_id": by_unit[unit_id],
                "unit_id": unit_id,
                "category": "节能降耗",
                "title": "余热回收",
                "measure": "……",
                "anonymous": False,
                "status": SuggestionStatus.SUBMITTED.value,
                "version": 1,
                "terms": "",
                "submitted_at": datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
                "updated_at": NOW,
            }
            for unit_id in team_ids[::2]
            if unit_id in by_unit
        ]
        session.execute(sa.insert(Suggestion.__table__), filed)  # type: ignore[attr-defined]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(engine: sa.Engine, renders: int) -> dict[str, float]:
    sessions = SessionFactory(engine)
    figures: dict[str, float] = {}
    started = time.perf_counter()
    with sessions() as session:
        figures["queued"] = enqueue_collection_calls(session, month=MONTH, now=NOW)
    figures["call_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with sessions() as session:
        again = enqueue_collection_calls(session, month=MONTH, now=NOW)
    figures["rerun_s"] = time.perf_counter() - started
    if again:
        raise SystemExit(f"the second run queued {again} calls")
    started = time.perf_counter()
    with sessions() as session:
        figures["second"] = enqueue_second_calls(session, month=MONTH, now=NOW, zone=SHANGHAI)
    figures["second_s"] = time.perf_counter() - started
    translator = Catalogues().get("zh_CN")
    with sessions() as session:
        ids = [
            row_id
            for row_id in session.exec(
                select(Outbox.id).where(Outbox.topic == CALL_TOPIC).order_by(col(Outbox.id)).limit(renders)
            )
            if row_id is not None
        ]
    times: list[float] = []
    for start in range(0, len(ids), RENDER_CHUNK):
        chunk = ids[start : start + RENDER_CHUNK]
        started = time.perf_counter()
        with sessions() as session:
            for row_id in chunk:
                row = session.get(Outbox, row_id)
                assert row is not None
                push = render_call(session, row, translator, SHANGHAI)
                assert push is not None
        times.append((time.perf_counter() - started) / len(chunk))
    figures["render_ms"] = statistics.median(times) * 1000
    figures["peak_mb"] = peak_mb()
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not postgres_answers(args.database_url):
        print("PostgreSQL does not answer; SQLite only", file=sys.stderr)
        kinds = ["sqlite"]
    print(machine(kinds, args.database_url, []))
    print(f"{args.members:,} members in {args.units:,} units")
    print(
        "| database | calls queued | queue (s) | again (s) | second calls | second (s)"
        " | render (ms) | peak MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            with fresh_database(
                kind,
                Path(workdir),
                args.database_url,
                seed=lambda sessions: seed(sessions, args.members, args.units),
                schema_prefix="bench_collection",
            ) as db:
                engine = (
                    make_engine(db.url)
                    if db.schema is None
                    else postgres_engine_for(args.database_url, db.schema)
                )
                try:
                    f = measure(engine, args.renders)
                finally:
                    engine.dispose()
            print(
                f"| {kind} | {f['queued']:,.0f} | {f['call_s']:.2f} | {f['rerun_s']:.2f} | {f['second']:,.0f}"
                f" | {f['second_s']:.2f} | {f['render_ms']:.1f} | {f['peak_mb']:.0f} |"
            )
    return 0


def postgres_engine_for(url: str, schema: str) -> sa.Engine:
    """An engine on the schema ``fresh_database`` filled, without dropping it."""
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
