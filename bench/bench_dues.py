"""会费: the monthly dues job on a union of 100,000 members in 2,000 units with 24 months of dues.

Generated data, in a fresh migrated database (an SQLite file, and a throwaway
schema on PostgreSQL, dropped afterwards): one 厂工会, ``units / 20`` workshops
each with 19 班组, the members spread over the 班组 with a 月会费 of 15–40 元,
a 收缴员 in every 班组 and a chair on every workshop; 24 months of dues posted
and paid but about 2 % of them (the arrears), each payment an entry in the
ledger. "Now" is the reminder day of the month after them, so the job opens a
new month and every member owes at least that one.

Measured, each in its own right:

* **the job** (``enqueue_dues_reminders``: open the month, select, queue a
  reminder per member and a digest per collector and chair), in a process of
  its own so its peak memory (max RSS) is the job's; goal < 20 s for 100,000
  reminders and < 300 MB;
* **the selection** of the month's reminders alone (``owing_members``), once the
  month is open: goal < 2 s; median of five;
* the job again (the idempotent path: nothing new), and the ranking's dues
  score for a quarter over every workshop.

Run ``python bench/bench_dues.py`` (both sizes, both databases when PostgreSQL
answers at ``--database-url``), or ``--members 10000 --units 200`` for one size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from common import fresh_database, machine, postgres_answers

from models.db import SessionFactory, make_engine
from models.dues.figures import dues_collection, months_in
from models.dues.months import add_months, months_between
from models.dues.reminders import enqueue_dues_reminders, owing_members
from models.dues.tables import DuesPolicy
from models.units import subtree_ids

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/wt_dues"
NOW = datetime(2027, 1, 5, 1, 0, tzinfo=UTC)  # Tuesday 5 January 2027, 09:00 in Shanghai
CURRENT = 202701
MONTHS = 24
TEAMS = 19
ARREARS_IN = 50  # one member-month in 50 unpaid
POLICY = DuesPolicy()


def seed(sessions: SessionFactory, members: int, units: int, chance: random.Random) -> None:
    """Units, members, roles, 24 months of charges and payments, in bulk statements."""
    workshops = max(1, units // (TEAMS + 1))
    unit_rows = [{"id": 1, "name": "厂工会", "parent_id": None, "id_path": "/1/", "created_at": NOW}]
    teams: list[int] = []
    next_id = 2
    for w in range(workshops):
        workshop = next_id
        unit_rows.append(
            {
                "id": workshop,
                "name": f"第{w + 1}车间",
                "parent_id": 1,
                "id_path": f"/1/{workshop}/",
                "created_at": NOW,
            }
        )
        next_id += 1
        for t in range(TEAMS):
            unit_rows.append(
                {
                    "id": next_id,
                    "name": f"{t + 1}班",
                    "parent_id": workshop,
                    "id_path": f"/1/{workshop}/{next_id}/",
                    "created_at": NOW,
                }
            )
            teams.append(next_id)
            next_id += 1
    member_rows = [
        {
            "id": number,
            "employee_no": f"E{number:06d}",
            "name": f"会员{number}",
            "unit_id": teams[(number - 1) % len(teams)],
            "status": "active",
            "monthly_dues_fen": chance.randrange(1500, 4001, 50),
            "created_at": NOW,
            "updated_at": NOW,
        }
        for number in range(1, members + 1)
    ]
    grants = [
        {"member_id": index + 1, "role": "treasurer", "unit_id": team, "granted_at": NOW}
        for index, team in enumerate(teams)
    ]
    grants += [
        {"member_id": len(teams) + w + 1, "role": "chair", "unit_id": row["id"], "granted_at": NOW}
        for w, row in enumerate(unit_rows[1 :: TEAMS + 1])
    ]
    grants.append({"member_id": members, "role": "chair", "unit_id": 1, "granted_at": NOW})
    months = list(months_between(add_months(CURRENT, -MONTHS), add_months(CURRENT, -1)))
    with sessions() as session:
        meta = sa.MetaData()
        unit, member, grant = (
            sa.Table(name, meta, autoload_with=session.connection())
            for name in ("unit", "member", "role_grant")
        )
        session.execute(unit.insert(), unit_rows)
        for start in range(0, len(member_rows), 5000):
            session.execute(member.insert(), member_rows[start : start + 5000])
        session.execute(grant.insert(), grants)
        month_list = " UNION ALL ".join(f"SELECT {month} AS month" for month in months)
        # One member-month in ARREARS_IN unpaid, spread by a hash of member and month.
        session.execute(
            sa.text(
                "INSERT INTO dues_month (member_id, month, unit_id, due_fen, paid_fen, owing) "
                f"SELECT m.id, mo.month, m.unit_id, m.monthly_dues_fen, "
                f"CASE WHEN (m.id * 7 + mo.month * 13) % {ARREARS_IN} = 0"
                " THEN 0 ELSE m.monthly_dues_fen END, "
                f"(m.id * 7 + mo.month * 13) % {ARREARS_IN} = 0 "
                f"FROM member m CROSS JOIN ({month_list}) mo WHERE m.monthly_dues_fen > 0"
            )
        )
        session.execute(
            sa.text(
                "INSERT INTO dues_entry (member_id, month, amount_fen, kind, source, recorded_at) "
                "SELECT member_id, month, paid_fen, 'payment', 'import', :at"
                " FROM dues_month WHERE paid_fen > 0"
            ),
            {"at": NOW},
        )
        session.execute(
            sa.text(
                "INSERT INTO dues_period (month, opened_at) VALUES "
                + ", ".join(f"({m}, :at)" for m in months)
            ),
            {"at": NOW},
        )
        session.execute(sa.text("ANALYZE"))


def job_in_child(url: str, schema: str | None) -> dict[str, float]:
    """Run the job in a fresh process: its time, what it queued, and its peak memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--job", url, *([schema] if schema else [])],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def memory() -> dict[str, float]:
    """This process's memory in MB from /proc: the peak (VmHWM), and now the anonymous and file-backed parts.

    Not ``getrusage``: Linux carries its maximum over from the parent across ``exec``, so a
    child started by the benchmark would report the benchmark's own peak.
    """
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            found[name] = int(value.split()[0]) / 1024
    return found


class AnonymousPeak:
    """The highest anonymous (private) memory of this process while running, sampled every 20 ms.

    With SQLite, the peak RSS also counts the database file's pages that SQLite reads through
    its memory map (models/db.py): page cache the kernel shares and drops at will, not the
    job's own memory. This is the part that is.
    """

    def __init__(self) -> None:
        self.peak = memory()["RssAnon"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, memory()["RssAnon"])

    def __enter__(self) -> AnonymousPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, memory()["RssAnon"])


def run_job(url: str, schema: str | None) -> None:
    """The child's side of :func:`job_in_child`."""
    engine = (
        make_engine(url, connect_args={"options": f"-csearch_path={schema}"}) if schema else make_engine(url)
    )
    sessions = SessionFactory(engine)
    before = memory()
    started = time.perf_counter()
    with AnonymousPeak() as anonymous, sessions() as session:
        added = enqueue_dues_reminders(session, now=NOW, policy=POLICY)
    took = time.perf_counter() - started
    after = memory()
    engine.dispose()
    figures = {
        "seconds": took,
        "queued": added,
        "rss_before_mb": before["VmRSS"],
        "rss_peak_mb": after["VmHWM"],
        "anon_peak_mb": anonymous.peak,
        "file_mb": after["RssFile"],
    }
    print(json.dumps(figures))


def measure(url: str, schema: str | None) -> dict[str, float]:
    figures: dict[str, float] = {}
    job = job_in_child(url, schema)
    figures.update({f"job_{key}": value for key, value in job.items()})
    engine = (
        make_engine(url, connect_args={"options": f"-csearch_path={schema}"}) if schema else make_engine(url)
    )
    sessions = SessionFactory(engine)
    try:
        times = []
        for _ in range(5):
            with sessions() as session:
                started = time.perf_counter()
                owing = owing_members(session, current=CURRENT, optional=True)
                times.append(time.perf_counter() - started)
        figures["select_seconds"] = statistics.median(times)
        figures["select_members"] = len(owing)
        figures["select_member_months"] = sum(len(months) for months in owing.values())
        with sessions() as session:
            started = time.perf_counter()
            figures["rerun_queued"] = enqueue_dues_reminders(session, now=NOW, policy=POLICY)
            figures["rerun_seconds"] = time.perf_counter() - started
        with sessions() as session:
            from models.units import Unit

            workshops = session.execute(sa.select(Unit).where(Unit.parent_id == 1)).scalars().all()  # type: ignore[arg-type]
            subtrees = {unit.id or 0: frozenset(subtree_ids(session, [unit])) for unit in workshops}
            quarter = months_in(datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
            started = time.perf_counter()
            scores = dues_collection(session, quarter, subtrees)
            figures["score_seconds"] = time.perf_counter() - started
            figures["score_units"] = len(scores)
    finally:
        engine.dispose()
    return figures


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--job":
        run_job(argv[1], argv[2] if len(argv) > 2 else None)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default=None)
    parser.add_argument(
        "--database-url", default=POSTGRES_URL, help=f"PostgreSQL ({POSTGRES_URL}); a throwaway schema"
    )
    parser.add_argument("--members", type=int, action="append", help="members (100000 and 10000)")
    parser.add_argument("--units", type=int, action="append", help="units, one per --members (2000 and 200)")
    args = parser.parse_args(argv)
    sizes = list(zip(args.members or [10_000, 100_000], args.units or [200, 2_000], strict=True))
    postgres = postgres_answers(args.database_url)
    choice = args.database or ("both" if postgres else "sqlite")
    databases = ["sqlite", "postgresql"] if choice == "both" else [choice]
    print(machine(databases, args.database_url, ["openpyxl"]), flush=True)
    ok = True
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print(
        "| database | members | units | seeded s | job s | queued | job RSS MB: before → peak"
        " | of which file-mapped | job's own (anonymous) peak MB | select s | members owing | owed months"
        " | re-run s | quarter score s |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as name:
        for members, units in sizes:
            for kind in databases:
                started = time.perf_counter()
                with fresh_database(
                    kind,
                    Path(name),
                    args.database_url,
                    seed=lambda sessions, m=members, u=units: seed(sessions, m, u, random.Random(2026)),  # type: ignore[misc]
                    schema_prefix="unionbot_bench_dues",
                ) as db:
                    seeded = time.perf_counter() - started
                    f = measure(db.url, db.schema)
                cells = [
                    kind,
                    f"{members:,}",
                    f"{units:,}",
                    f"{seeded:.0f}",
                    f"{f['job_seconds']:.2f}",
                    f"{f['job_queued']:,.0f}",
                    f"{f['job_rss_before_mb']:.0f} → {f['job_rss_peak_mb']:.0f}",
                    f"{f['job_file_mb']:.0f}",
                    f"{f['job_anon_peak_mb']:.0f}",
                    f"{f['select_seconds']:.2f}",
                    f"{f['select_members']:,.0f}",
                    f"{f['select_member_months']:,.0f}",
                    f"{f['rerun_seconds']:.2f}",
                    f"{f['score_seconds']:.2f}",
                ]
                print("| " + " | ".join(cells) + " |", flush=True)
                if members >= 100_000:
                    ok = (
                        ok
                        and f["job_seconds"] < 20
                        and f["select_seconds"] < 2
                        and f["job_anon_peak_mb"] < 300
                    )
                ok = ok and f["rerun_queued"] == 0
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
