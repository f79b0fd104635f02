"""How hardship case work answers at a large union's scale: the cadre's queue and a campaign's list.

The union: a root 厂工会 with 40 workshops (``--workshops``) × 5 班组, 20,000
active members (``--members``) over the 班组, a CHAIR on the root and one on the
first workshop, and 2,000 hardship cases (``--cases``) at every stage, a tenth
urgent, with due dates around today, their sensitive fields sealed as the real
ones are. Two 送温暖 campaigns on the root: one for members with open cases, one
a holiday gift to everyone, with 300 and 5,000 gifts recorded. A fresh SQLite
file and/or a throwaway PostgreSQL schema (``--database-url``), migrated, filled
and ANALYZEd; dropped after.

Timed, each call in a session of its own as a handler opens one (median and p95
of wall-clock milliseconds, nearest rank, ``--runs`` each, after one warm-up):

1. ``case_queue``'s first page and ``queue_counts``, for the root chair and the
   workshop chair: what 帮扶办理 shows first;
2. ``qualifiers``' first page (the listing audited, as in chat) of each campaign,
   for both chairs: what 对象名单 shows first;
3. ``campaign_totals`` of the holiday campaign at the root (no goal: a figure).

Goal: under 200 ms at p95 for 1 and 2 on both databases; exit status 1 if missed.

Run: ``.venv/bin/python bench/bench_hardship.py [--database sqlite|postgresql|both]
[--database-url postgresql://postgres@127.0.0.1:5432/test] [--members 20000] [--cases 2000] [--runs 30]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import fresh_database, machine, percentile, postgres_answers
from sqlmodel import Session, SQLModel, select

from models.db import SessionFactory, make_engine
from models.hardship.campaigns import (
    CampaignBasis,
    CaseStages,
    HardshipCampaign,
    campaign_totals,
    qualifiers,
)
from models.hardship.cases import CaseStatus, Deadline, HardshipCase, HardshipCategory, HardshipDisbursement
from models.hardship.queries import case_queue, queue_counts
from models.members import Member
from models.roles import Role, grant_role
from models.units import UnitTree

GOAL_MS = 200.0
NOW = datetime(2026, 12, 7, 2, tzinfo=UTC)
TODAY = date(2026, 12, 7)
STORY = "家中老人重病住院，医药费负担沉重，爱人下岗，孩子正在读高中。"


def seed(factory: SessionFactory, *, workshops: int, members: int, cases: int) -> None:
    rng = random.Random(7)
    SQLModel.metadata.create_all(factory.engine)  # tables a migration may not have reached yet
    with factory() as session:
        tree = UnitTree(session)
        teams = [tree.ensure(f"厂工会/{w + 1}车间/{t + 1}班") for w in range(workshops) for t in range(5)]
        root = tree.ensure("厂工会")
        session.flush()
        rows = [
            {
                "employee_no": f"{n:06d}",
                "name": f"职工{n}",
                "unit_id": teams[n % len(teams)].id,
                "status": "active",
            }
            for n in range(members)
        ]
        for start in range(0, len(rows), 5000):
            session.execute(sa.insert(Member), rows[start : start + 5000])
        chair = Member(employee_no="C0", name="厂主席", unit_id=root.id or 0)
        workshop_chair = Member(employee_no="C1", name="车间主席", unit_id=teams[0].id or 0)
        session.add_all([chair, workshop_chair])
        session.flush()
        grant_role(session, member=chair, role=Role.CHAIR, unit=root)
        grant_role(session, member=workshop_chair, role=Role.CHAIR, unit=tree.ensure("厂工会/1车间"))
        ids = list(
            session.exec(select(Member.id).where(Member.employee_no != "C0", Member.employee_no != "C1"))
        )
        statuses = list(CaseStatus)
        case_rows = []
        for n in range(cases):
            member_id = ids[(n * 7919) % len(ids)]
            status = statuses[n % len(statuses)]
            submitted = NOW - timedelta(days=rng.randint(0, 300))
            case_rows.append(
                {
                    "member_id": member_id,
                    "unit_id": teams[(member_id or 0) % len(teams)].id,
                    "category": list(HardshipCategory)[n % len(HardshipCategory)],
                    "help_wanted": ["relief"],
                    "urgent": n % 10 == 0,
                    "story": STORY,
                    "household": "4",
                    "income": "320000",
                    "status": status,
                    "deadline": None if status is CaseStatus.CLOSED else Deadline.VISIT,
                    "due_on": None
                    if status is CaseStatus.CLOSED
                    else TODAY + timedelta(days=rng.randint(-10, 20)),
                    "contact_due_on": submitted.date() + timedelta(days=1),
                    "visit_due_on": submitted.date() + timedelta(days=7),
                    "consent_at": submitted,
                    "submitted_at": submitted,
                    "updated_at": submitted,
                    "version": 1,
                }
            )
        session.execute(sa.insert(HardshipCase), case_rows)
        campaigns = []
        for name, basis in (("元旦春节送温暖", CampaignBasis.CASES), ("节日慰问品", CampaignBasis.UNITS)):
            campaign = HardshipCampaign(
                name=name,
                unit_id=root.id or 0,
                starts_on=TODAY - timedelta(days=30),
                ends_on=TODAY + timedelta(days=30),
                budget_fen=10_000_000_00,
                basis=basis,
                stages=CaseStages.OPEN if basis is CampaignBasis.CASES else None,
                unit_ids=[root.id or 0] if basis is CampaignBasis.UNITS else [],
                standard_fen=500_00,
                fund="工会经费",
                created_by_id=chair.id or 0,
            )
            session.add(campaign)
            campaigns.append(campaign)
        session.flush()
        gifts = [
            {
                "member_id": ids[n],
                "campaign_id": campaigns[1].id,
                "given_on": TODAY,
                "amount_fen": 200_00,
                "fund": "工会经费",
                "handled_by_id": chair.id,
                "recorded_at": NOW,
            }
            for n in range(min(5000, len(ids) // 4))
        ]
        open_members = list(
            session.exec(
                select(HardshipCase.member_id).where(HardshipCase.status != CaseStatus.CLOSED).limit(300)
            )
        )
        gifts += [
            {
                "member_id": member_id,
                "campaign_id": campaigns[0].id,
                "given_on": TODAY,
                "amount_fen": 500_00,
                "fund": "工会经费",
                "handled_by_id": chair.id,
                "recorded_at": NOW,
            }
            for member_id in dict.fromkeys(open_members)
        ]
        session.execute(sa.insert(HardshipDisbursement), gifts)
    engine = factory.engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # This schema's tables only, by name (the search path is the schema): never the whole database.
            tables = (
                "unit",
                "member",
                "role_grant",
                "hardshipcase",
                "hardshipcampaign",
                "hardshipdisbursement",
            )
            connection.execute(sa.text(f"ANALYZE {', '.join(tables)}"))
        else:
            connection.exec_driver_sql("ANALYZE")


def _first_page(session: Session, *, actor: Member, campaign_id: int) -> Any:
    """对象名单's first page as chat shows it: who is still to be given, ten at a time (audited)."""
    return qualifiers(session, actor=actor, campaign_id=campaign_id, limit=10, not_given_only=True)


def timed(factory: SessionFactory, runs: int, call: Callable[[Session], Any]) -> tuple[float, float]:
    samples = []
    for index in range(runs + 1):
        with factory() as session:
            started = time.perf_counter()
            call(session)
            session.flush()
            elapsed = (time.perf_counter() - started) * 1000
        if index:
            samples.append(elapsed)
    return percentile(samples, 0.5), percentile(samples, 0.95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workshops", type=int, default=40)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not postgres_answers(args.database_url):
        print(f"PostgreSQL does not answer at {args.database_url}: skipped", file=sys.stderr)
        kinds.remove("postgresql")
    print(machine(kinds, args.database_url, ["openpyxl"]))
    print(f"{args.members} members, {args.cases} cases, {args.workshops} × 5 teams; {args.runs} runs each")
    missed = False
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:

            def fill(factory: SessionFactory) -> None:
                seed(factory, workshops=args.workshops, members=args.members, cases=args.cases)

            with fresh_database(
                kind, Path(workdir), args.database_url, seed=fill, schema_prefix="bench_hardship"
            ) as db:
                options = {"options": f"-csearch_path={db.schema}"} if db.schema is not None else None
                engine = make_engine(db.url, connect_args=options) if options else make_engine(db.url)
                results = _run(SessionFactory(engine), args.runs)
                print(f"\n{kind}: p50 / p95 ms")
                for label, p50, p95, goal in results:
                    mark = ""
                    if goal and p95 >= GOAL_MS:
                        mark = f"  MISSED (goal {GOAL_MS:.0f} ms)"
                        missed = True
                    print(f"  {label}: {p50:.1f} / {p95:.1f}{mark}")
    return 1 if missed else 0


def _run(factory: SessionFactory, runs: int) -> list[tuple[str, float, float, bool]]:
    results = []
    with factory() as session:
        chair = session.exec(select(Member).where(Member.employee_no == "C0")).one()
        workshop = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        campaigns = {c.basis: c.id or 0 for c in session.exec(select(HardshipCampaign))}
    for who, actor in (("root chair", chair), ("workshop chair", workshop)):
        queue = lambda s, a=actor: case_queue(s, actor=a, today=TODAY)  # noqa: E731
        counts = lambda s, a=actor: queue_counts(s, actor=a, today=TODAY)  # noqa: E731
        results.append((f"case_queue first page, {who}", *timed(factory, runs, queue), True))
        results.append((f"queue_counts, {who}", *timed(factory, runs, counts), True))
        for basis, label in (
            (CampaignBasis.CASES, "cases campaign"),
            (CampaignBasis.UNITS, "holiday campaign"),
        ):
            listing = partial(_first_page, actor=actor, campaign_id=campaigns[basis])
            results.append((f"qualifiers first page, {label}, {who}", *timed(factory, runs, listing), True))
    totals = lambda s: campaign_totals(s, actor=chair, campaign_id=campaigns[CampaignBasis.UNITS])  # noqa: E731
    results.append(
        ("campaign_totals, holiday campaign, root chair", *timed(factory, max(5, runs // 3), totals), False)
    )
    factory.engine.dispose()
    return results


if __name__ == "__main__":
    sys.exit(main())
