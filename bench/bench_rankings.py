"""The monthly ranking digest at a large union's scale: computing it, its charts, its memory.

The union: a root 厂工会 with 40 workshops × 49 班组 (2,001 units), 100,000 active
members spread over the 班组, a CHAIR on the root and on each workshop, 200,000
suggestions handed in over the last 24 months (each at the stage its simulated
history has reached: registered, decided, adopted or not, implementation started
and finished, a few awards, 10 % anonymous, some overdue), and 50,000 activity
sign-ups over 500 activities of the same 24 months. ``--scale 0.1`` makes it a
tenth of all that (10,000 members, 201 units…), to show how the cost grows. Rows
are written straight into the tables. A fresh SQLite file in a temp dir and/or a
throwaway schema of the local PostgreSQL (``--database-url``), dropped after.

Timed in a child process of its own (so its peak memory, VmHWM / ru_maxrss, is the
job's and not the seeding's), each in a fresh session as the job opens one:

1. ``compute_digest`` for last month: every unit ranked at its level by every
   registered score (the suggestions' three, the activities' one) and the 金点子
   points; goal < 5 s. Rolled back and run ``--runs`` times; median and max.
2. ``queue_monthly_digest``: 100,000 member pushes and the cadres' tables queued.
3. 100 distinct chart images (``--charts``): a member of each of 100 different
   units renders their digest as the delivery worker would, the chart drawn each
   time (no cache); goal < 10 s.
4. The child's peak memory; goal < 300 MB.

Run: ``.venv/bin/python bench/bench_rankings.py [--database sqlite|postgresql|both]
[--database-url postgresql://postgres@127.0.0.1:5432/test] [--scale 1] [--runs 3] [--charts 100]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from common import fresh_database, machine, postgres_answers

from models.db import SessionFactory

# The job's morning: 2 December 2026, 09:00 in Shanghai; November is ranked.
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
WORKSHOPS = 40
GROUPS = 49
MONTHS = 24


def seed(sessions: SessionFactory, scale: float, chance: random.Random) -> None:
    """The union, written straight into the tables with explicit ids (one bulk insert per table)."""
    workshops = max(2, round(WORKSHOPS * scale**0.5))
    groups = max(2, round(GROUPS * scale**0.5))
    members = int(100_000 * scale)
    suggestions = int(200_000 * scale)
    signups = int(50_000 * scale)
    activities = max(10, int(500 * scale))
    with sessions() as session:
        units: list[dict[str, Any]] = [{"id": 1, "name": "厂工会", "parent_id": None, "id_path": "/1/"}]
        leaves: list[int] = []
        next_id = 2
        for w in range(workshops):
            workshop = next_id
            units.append(
                {"id": workshop, "name": f"第{w + 1}车间", "parent_id": 1, "id_path": f"/1/{workshop}/"}
            )
            next_id += 1
            for g in range(groups):
                units.append(
                    {
                        "id": next_id,
                        "name": f"{g + 1}班",
                        "parent_id": workshop,
                        "id_path": f"/1/{workshop}/{next_id}/",
                    }
                )
                leaves.append(next_id)
                next_id += 1
        created = NOW - timedelta(days=800)
        session.execute(sa.text("SELECT 1"))
        insert(session, "unit", [{**unit, "created_at": created} for unit in units])
        people = [
            {
                "id": n,
                "employee_no": f"E{n:07d}",
                "name": f"会员{n}",
                "unit_id": leaves[n % len(leaves)],
                "status": "active",
                "monthly_dues_fen": 2500,
                "created_at": created,
                "updated_at": created,
            }
            for n in range(1, members + 1)
        ]
        insert(session, "member", people)
        grants = [{"member_id": 1, "role": "chair", "unit_id": 1, "granted_at": created}]
        grants += [
            {
                "member_id": 2 + w,
                "role": "chair",
                "unit_id": units[1 + w * (groups + 1)]["id"],
                "granted_at": created,
            }
            for w in range(workshops)
        ]
        insert(session, "role_grant", grants)
        rows = []
        for n in range(1, suggestions + 1):
            proposer = chance.randrange(1, members + 1)
            rows.append(suggestion_row(n, proposer, leaves[proposer % len(leaves)], chance))
        insert(session, "suggestion", rows)
        acts = []
        for n in range(1, activities + 1):
            starts = NOW - timedelta(days=chance.uniform(0, MONTHS * 30.4))
            acts.append(
                {
                    "id": n,
                    "organiser_id": 1,
                    "status": "cancelled" if n % 20 == 0 else "open",
                    "title": f"活动{n}",
                    "description": "职工活动",
                    "place": "厂区",
                    "starts_at": starts,
                    "signup_deadline": starts - timedelta(days=2),
                    "created_at": starts - timedelta(days=10),
                }
            )
        insert(session, "activity", acts)
        insert(session, "activity_unit", [{"activity_id": act["id"], "unit_id": 1} for act in acts])
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < signups:
            pairs.add((chance.randrange(1, activities + 1), chance.randrange(1, members + 1)))
        insert(
            session,
            "activity_signup",
            [
                {
                    "id": n,
                    "activity_id": activity,
                    "member_id": member,
                    "status": "cancelled" if n % 10 == 0 else "signed_up",
                    "signed_up_at": cast(datetime, acts[activity - 1]["starts_at"]) - timedelta(days=3),
                }
                for n, (activity, member) in enumerate(sorted(pairs), start=1)
            ],
        )
        if session.get_bind().dialect.name == "postgresql":
            for table in ("unit", "member", "role_grant", "suggestion", "activity", "activity_signup"):
                session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                )
            session.commit()
            session.connection().exec_driver_sql("ANALYZE")


def insert(session: Any, table: str, rows: list[dict[str, Any]]) -> None:
    metadata = sa.MetaData()
    target = sa.Table(table, metadata, autoload_with=session.connection())
    for start in range(0, len(rows), 2000):
        session.execute(sa.insert(target), rows[start : start + 2000])


def suggestion_row(n: int, proposer: int, unit_id: int, chance: random.Random) -> dict[str, Any]:
    submitted = NOW - timedelta(days=chance.uniform(0, MONTHS * 30.4))
    row: dict[str, Any] = {
        "id": n,
        "number": f"JY-{submitted.year}-{n:06d}",
        "proposer_id": proposer,
        "unit_id": unit_id,
        "category": "节能降耗",
        "title": f"建议{n}",
        "measure": "改进工艺，降低能耗。",
        "anonymous": chance.random() < 0.1,
        "adopted": None,
        "status": "submitted",
        "version": 1,
        "terms": "",
        "submitted_at": submitted,
        "updated_at": submitted,
        "due_on": None,
        "registered_at": None,
        "decided_at": None,
        "implementation_started_on": None,
        "implemented_on": None,
        "award": None,
        "awarded_at": None,
    }

    def reached(moment: datetime) -> bool:
        return moment < NOW

    registered = submitted + timedelta(days=chance.uniform(0.2, 7))
    if not reached(registered):
        row["due_on"] = (submitted + timedelta(days=5)).date()
        return row
    row.update(status="registered", registered_at=registered)
    decided = registered + timedelta(days=chance.uniform(2, 30))
    if not reached(decided):
        row["due_on"] = (registered + timedelta(days=21)).date()
        return row
    adopted = chance.random() < 0.45
    row.update(status="adopted" if adopted else "not_adopted", adopted=adopted, decided_at=decided)
    if not adopted:
        return row
    started = decided + timedelta(days=chance.uniform(3, 50))
    if not reached(started):
        row["due_on"] = (decided + timedelta(days=42)).date()
        return row
    row.update(status="implementing", implementation_started_on=started.date())
    finished = started + timedelta(days=chance.uniform(10, 90))
    if reached(finished):
        row.update(status="implemented", implemented_on=finished.date())
        if chance.random() < 0.1:
            awarded = finished + timedelta(days=chance.uniform(1, 40))
            if reached(awarded):
                row.update(award=chance.choice(["gold", "silver", "encouragement"]), awarded_at=awarded)
    return row


def child(url: str, schema: str | None, runs: int, charts: int) -> dict[str, Any]:
    """The job's work, timed, in this process of its own; returns the figures."""
    from handlers.core.context import CoreConfig
    from handlers.core.i18n import Catalogues
    from handlers.modules import REGISTRY
    from handlers.rankings import chart
    from handlers.rankings.inputs import points_input, score_inputs
    from handlers.rankings.text import member_digest
    from models.db import make_engine
    from models.members import Member
    from models.rankings.digests import compute_digest, find_digest, queue_monthly_digest
    from models.rankings.periods import DigestPeriod
    from models.rankings.tables import RankingPolicy

    # The parent's schema, as it is: the data lives there.
    engine = (
        make_engine(url, connect_args={"options": f"-csearch_path={schema}"}) if schema else make_engine(url)
    )
    sessions = SessionFactory(engine)
    config = CoreConfig(scores=REGISTRY.scores)
    policy = config.policy(RankingPolicy)
    month = DigestPeriod.month_of(date(2026, 11, 1))
    timings = []
    cpu = []
    for _ in range(runs):
        with sessions() as session:
            started = time.perf_counter()
            cpu_started = time.process_time()
            compute_digest(
                session,
                period=month,
                scores=score_inputs(config),
                points=points_input(config),
                policy=policy,
                now=NOW,
            )
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            session.rollback()
    with sessions() as session:
        digest, _computed = compute_digest(
            session,
            period=month,
            scores=score_inputs(config),
            points=points_input(config),
            policy=policy,
            now=NOW,
        )
        started = time.perf_counter()
        queued = queue_monthly_digest(session, digest=digest, now=NOW)
        queue_seconds = time.perf_counter() - started
    t = Catalogues().get("zh_CN")
    with tempfile.TemporaryDirectory() as folder, sessions() as session:
        chart.chart_dir = lambda: Path(folder)
        kept = find_digest(session, month)
        assert kept is not None
        digest = kept
        units = [
            row[0]
            for row in session.execute(
                sa.text("SELECT DISTINCT unit_id FROM member ORDER BY unit_id LIMIT :n"), {"n": charts}
            )
        ]
        readers = [
            session.execute(sa.select(Member).where(Member.unit_id == unit_id).limit(1)).scalar_one()
            for unit_id in units
        ]
        started = time.perf_counter()
        chart_cpu_started = time.process_time()
        drawn = 0
        for member in readers:
            shown = member_digest(session, t, digest, member)
            drawn += shown.chart is not None
        chart_seconds = time.perf_counter() - started
        chart_cpu = time.process_time() - chart_cpu_started
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            chart._font.cache_clear()
            profile = cProfile.Profile()
            profile.runcall(member_digest, session, t, digest, readers[0])
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumtime").print_stats(25)
        distinct = len(list(Path(folder).glob("*.png")))
    engine.dispose()
    # VmHWM, not ru_maxrss: Linux carries the parent's high-water mark through fork and exec into
    # ru_maxrss, and the parent held the whole seeded union.
    status = Path("/proc/self/status")
    peak_kb = (
        int(status.read_text().split("VmHWM:")[1].split()[0])
        if status.exists()
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    return {
        "compute": timings,
        "compute_cpu": cpu,
        "chart_cpu": chart_cpu,
        "queued": queued,
        "queue_seconds": queue_seconds,
        "charts": drawn,
        "distinct_charts": distinct,
        "chart_seconds": chart_seconds,
        "peak_mb": peak_kb / 1024,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default=None)
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL; a throwaway schema, dropped after",
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--charts", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", nargs=2, metavar=("URL", "SCHEMA"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        url, schema = args.child
        print(json.dumps(child(url, None if schema == "-" else schema, args.runs, args.charts)))
        return 0
    kinds = (
        [args.database]
        if args.database in ("sqlite", "postgresql")
        else ["sqlite", "postgresql"]
        if args.database == "both" or postgres_answers(args.database_url)
        else ["sqlite"]
    )
    print(machine(kinds, args.database_url, ("sqlalchemy", "matplotlib")))
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            started = time.perf_counter()
            with fresh_database(
                kind,
                Path(folder),
                args.database_url,
                seed=lambda sessions: seed(sessions, args.scale, random.Random(args.seed)),
                schema_prefix="bench_rankings",
            ) as db:
                seeded = time.perf_counter() - started
                command = [
                    sys.executable,
                    __file__,
                    "--child",
                    db.url,
                    db.schema or "-",
                    "--runs",
                    str(args.runs),
                    "--charts",
                    str(args.charts),
                ]
                answer = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
                figures = json.loads(answer.stdout.strip().splitlines()[-1])
            compute = figures["compute"]
            print(
                f"{kind} at scale {args.scale:g} (seeded in {seeded:.0f} s):\n"
                f"  monthly digest computed: median {statistics.median(compute):.2f} s,"
                f" max {max(compute):.2f} s (goal < 5 s); this process's CPU:"
                f" median {statistics.median(figures['compute_cpu']):.2f} s\n"
                f"  {figures['queued']:,} pushes queued in {figures['queue_seconds']:.2f} s\n"
                f"  {figures['charts']} members' digests with {figures['distinct_charts']} distinct charts:"
                f" {figures['chart_seconds']:.2f} s (goal < 10 s); CPU {figures['chart_cpu']:.2f} s\n"
                f"  the job's peak memory: {figures['peak_mb']:.0f} MB (goal < 300 MB)"
            )
            failed |= max(compute) >= 5 or figures["chart_seconds"] >= 10 or figures["peak_mb"] >= 300
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
