"""Activities at a large union's scale: 200 members at once for 50 places, and what people wait for.

The union: a root 厂工会 with 40 workshops (``--workshops``) × 5 班组, 20,000
active members (``--members``) over the 班组, a CHAIR on the root, and 500
activities (``--activities``) over the last twelve months, each open to one
workshop or to the whole union, with sign-ups from about 30 % of their members
and attendance recorded for 70 % of those (written straight into the tables).
A fresh SQLite file in a temp dir, and/or a throwaway schema of the local
PostgreSQL (``--database-url``), dropped after.

Timed (median and p95, nearest rank, wall clock):

1. 200 members signing up at the same moment for 50 places (``sign_up`` with
   the waitlist asked for), from 16 threads each with its own connection: the
   whole burst, and each request. Checked: exactly 50 in and 150 waiting, their
   queue numbers 1–200.
2. ``open_activities_for``'s first page for a member (``--runs``).
3. ``participation_report`` at the root for the last quarter and the year (the
   活动统计 table), and ``participation_scores`` over the 40 workshops (the
   ranking's input).
4. ``enqueue_activity_reminders`` when the day's activities are due (the first
   run, rolled back, then a second that finds everything queued).

Run: ``.venv/bin/python bench/bench_activities.py [--database sqlite|postgresql|both]
[--database-url postgresql://postgres@127.0.0.1:5432/test] [--members 20000] [--activities 500] [--runs 20]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from common import fresh_database, machine, percentile, postgres_answers
from sqlmodel import col, insert, select

from models.activities import (
    Activity,
    ActivityDraft,
    ActivitySignup,
    ActivityUnit,
    SignupOutcome,
    SignupStatus,
    create_activity,
    open_activities_for,
    sign_up,
)
from models.activities.figures import participation_report, participation_scores
from models.activities.reminders import enqueue_activity_reminders
from models.db import SessionFactory, make_engine
from models.members import Member
from models.periods import Period, PeriodKind
from models.roles import Role, grant_role
from models.units import Unit, UnitTree

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def seed(sessions: SessionFactory, args: argparse.Namespace) -> None:
    chance = random.Random(args.seed)
    with sessions() as session:
        tree = UnitTree(session)
        root = tree.ensure("厂工会")
        teams: list[Unit] = []
        workshops: list[Unit] = []
        for w in range(1, args.workshops + 1):
            workshops.append(tree.ensure(f"厂工会/{w}车间"))
            teams.extend(tree.ensure(f"厂工会/{w}车间/{t}班") for t in range(1, 6))
        session.flush()
        rows = [
            {"employee_no": f"{100000 + n}", "name": f"会员{n}", "unit_id": chance.choice(teams).id}
            for n in range(args.members)
        ]
        session.execute(insert(Member), rows)
        assert root.id is not None
        chair = Member(employee_no="C0", name="主席", unit_id=root.id)
        session.add(chair)
        session.flush()
        grant_role(session, member=chair, role=Role.CHAIR, unit=root)
        members_of: dict[int, list[int]] = {}
        for member_id, unit_id in session.exec(select(Member.id, Member.unit_id)):
            members_of.setdefault(unit_id, []).append(member_id or 0)
        parent = {team.id: team.parent_id for team in teams}
        activity_rows = []
        for number in range(args.activities):
            starts = NOW - timedelta(days=chance.randint(-30, 365), hours=chance.randint(0, 8))
            activity_rows.append(
                {
                    "organiser_id": chair.id,
                    "title": f"活动{number}",
                    "description": "说明",
                    "place": "职工之家",
                    "starts_at": starts,
                    "signup_deadline": starts - timedelta(days=2),
                    "capacity": None,
                }
            )
        session.execute(insert(Activity), activity_rows)
        activities = session.exec(select(Activity.id)).all()
        unit_rows, signup_rows = [], []
        for activity_id in activities:
            whole = chance.random() < 0.2
            workshop = root if whole else chance.choice(workshops)
            unit_rows.append({"activity_id": activity_id, "unit_id": workshop.id})
            eligible = [
                m
                for team in teams
                if whole or parent[team.id] == workshop.id
                for m in members_of.get(team.id or 0, [])
            ]
            for queue_no, member_id in enumerate(chance.sample(eligible, int(len(eligible) * 0.3)), start=1):
                there = chance.random() < 0.7
                signup_rows.append(
                    {
                        "activity_id": activity_id,
                        "member_id": member_id,
                        "status": SignupStatus.SIGNED_UP,
                        "signed_up_at": NOW - timedelta(days=400),
                        "queue_no": queue_no,
                        "attended_at": NOW - timedelta(days=1) if there else None,
                    }
                )
        session.execute(insert(ActivityUnit), unit_rows)
        for start in range(0, len(signup_rows), 20_000):
            session.execute(insert(ActivitySignup), signup_rows[start : start + 20_000])
        session.commit()
        print(f"  seeded {args.members} members, {len(activities)} activities, {len(signup_rows)} sign-ups")


def timed(label: str, runs: int, action: Callable[[int], Any]) -> list[float]:
    took = []
    for run in range(runs):
        started = time.perf_counter()
        action(run)
        took.append((time.perf_counter() - started) * 1000)
    print(f"  {label}: p50 {percentile(took, 0.5):.1f} ms, p95 {percentile(took, 0.95):.1f} ms ({runs} runs)")
    return took


def burst(sessions: SessionFactory) -> bool:
    """200 at once for 50 places, 16 connections."""
    with sessions() as session:
        chair = session.exec(select(Member).where(Member.employee_no == "C0")).one()
        root = session.exec(select(Unit).where(col(Unit.parent_id).is_(None))).one()
        draft = ActivityDraft(
            title="热门演出票",
            description="五十张",
            place="大剧院",
            starts_at=NOW + timedelta(days=10),
            signup_deadline=NOW + timedelta(days=5),
            capacity=50,
            unit_ids=(root.id or 0,),
        )
        activity_id = create_activity(session, actor=chair, draft=draft, now=NOW).id
        ids = list(session.exec(select(Member.id).where(Member.employee_no != "C0").limit(200)))
    assert activity_id is not None
    gate = threading.Barrier(16)
    each: list[float] = []
    outcomes: list[SignupOutcome] = []
    lock = threading.Lock()

    def ask(member_id: int | None) -> None:
        started = time.perf_counter()
        with sessions() as session:
            actor = session.get(Member, member_id)
            assert actor is not None
            outcome = sign_up(session, actor=actor, activity_id=activity_id, now=NOW, waitlist=True)
        with lock:
            each.append((time.perf_counter() - started) * 1000)
            outcomes.append(outcome)

    def worker(chunk: list[int | None]) -> None:
        gate.wait()
        for member_id in chunk:
            ask(member_id)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(worker, [ids[i::16] for i in range(16)]))
    whole = (time.perf_counter() - started) * 1000
    print(
        f"  200 sign-ups at once for 50 places, 16 connections: {whole:.0f} ms in all; "
        f"each p50 {percentile(each, 0.5):.1f} ms, p95 {percentile(each, 0.95):.1f} ms"
    )
    with sessions() as session:
        rows = session.exec(select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)).all()
        ordered = sorted(rows, key=lambda row: row.queue_no)
        ok = (
            outcomes.count(SignupOutcome.SIGNED_UP) == 50
            and outcomes.count(SignupOutcome.WAITLISTED) == 150
            and [row.queue_no for row in ordered] == list(range(1, 201))
            and {row.status for row in ordered[:50]} == {SignupStatus.SIGNED_UP}
        )
    print(f"  check: 50 in, 150 waiting, in commit order: {'yes' if ok else 'NO'}")
    return ok


def measure(url: str, args: argparse.Namespace) -> bool:
    engine = make_engine(url)
    sessions = SessionFactory(engine)
    try:
        ok = burst(sessions)
        with sessions() as session:
            member = session.exec(select(Member).where(Member.employee_no == "100001")).one()
            chair = session.exec(select(Member).where(Member.employee_no == "C0")).one()
            root = session.exec(select(Unit).where(col(Unit.parent_id).is_(None))).one()
            workshops = session.exec(select(Unit).where(Unit.parent_id == root.id)).all()
        timed("open_activities_for, first page", args.runs, lambda _: _list(sessions, member))
        quarter = Period.quarter_of(NOW.astimezone(ZONE).date()).previous().bounds(ZONE)
        year = Period(2026, PeriodKind.YEAR).bounds(ZONE)
        for label, (start, end) in (("last quarter", quarter), ("the year", year)):

            def report(_: int, start: datetime = start, end: datetime = end) -> None:
                _report(sessions, chair, root, start, end)

            timed(f"participation_report at the root, {label}", max(3, args.runs // 4), report)
        subtrees = {w.id or 0: frozenset({w.id or 0}) for w in workshops}
        timed(
            "participation_scores, 40 workshops, last quarter",
            max(3, args.runs // 4),
            lambda _: _scores(sessions, quarter, subtrees),
        )
        timed("enqueue_activity_reminders (rolled back)", 5, lambda _: _reminders(sessions, commit=False))
        return ok
    finally:
        engine.dispose()


def _list(sessions: SessionFactory, member: Member) -> None:
    with sessions() as session:
        open_activities_for(session, member=member, now=NOW)


def _report(sessions: SessionFactory, chair: Member, root: Unit, start: datetime, end: datetime) -> None:
    with sessions() as session:
        participation_report(session, actor=chair, unit=root, start=start, end=end)


def _scores(
    sessions: SessionFactory, bounds: tuple[datetime, datetime], subtrees: dict[int, frozenset[int]]
) -> None:
    with sessions() as session:
        participation_scores(session, start=bounds[0], end=bounds[1], subtrees=subtrees)


def _reminders(sessions: SessionFactory, *, commit: bool) -> None:
    with sessions() as session:
        enqueue_activity_reminders(session, now=NOW, remind_before=(timedelta(hours=24), timedelta(hours=1)))
        if not commit:
            session.rollback()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default=None)
    parser.add_argument("--database-url", default=POSTGRES_URL)
    parser.add_argument("--workshops", type=int, default=40)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--activities", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    postgres = postgres_answers(args.database_url)
    choice = args.database or ("both" if postgres else "sqlite")
    databases = ["sqlite", "postgresql"] if choice == "both" else [choice]
    print(machine(databases, args.database_url, ["openpyxl"]))
    ok = True
    with tempfile.TemporaryDirectory() as name:
        for kind in databases:
            print(f"== {kind}")
            started = time.perf_counter()
            with fresh_database(
                kind,
                Path(name),
                args.database_url,
                seed=lambda sessions: seed(sessions, args),
                schema_prefix="bench_activities",
            ) as db:
                print(f"  seeding took {time.perf_counter() - started:.1f} s")
                url = db.url if db.schema is None else f"{db.url}?options=-csearch_path%3D{db.schema}"
                ok = measure(url, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
