"""How the suggestion features behave at a large union's scale: what a member or a cadre waits for.

The union: a root 厂工会 with 40 workshops (``--workshops``) × 5 班组, 20,000
active members (``--members``) spread over the 班组, a CHAIR on the root and on
each workshop (``models.roles.grant_role``), and 20,000 suggestions
(``--suggestions``) submitted over the last 12 months, written straight into
the table (tracking numbers, stored terms from ``models.similarity.index_terms``,
each at the stage its simulated history has reached by now: due dates,
decisions, implementations, values, replies, a few merges and awards) plus
10,000 supports. A fresh SQLite file in a temp dir, and/or a throwaway schema
of the local PostgreSQL (``--database-url``), dropped after; its tables are
ANALYZEd after the load, as autovacuum would have done long since
(``--skip-analyze``: not, as right after a bulk load or a restore).

Timed, each call in a session of its own as a handler opens one (median and
p95, nearest rank, of wall clock and of this process's CPU, ``time.process_time``):

1. ``similar_suggestions`` for 50 members (``--queries``), each with a whole
   title and measure: what a member waits for after typing them.
2. ``review_queue``'s first page for a workshop chair and for the root chair,
   and ``queue_counts`` for both (``--runs`` each).
3. ``enqueue_deadline_pushes``: the day's first run (repeated in transactions
   rolled back, then once committed) and a second run (nothing new).
4. ``figures_report`` at the root for the current quarter and the last whole
   one (the chat table), and ``write_workbook`` for the same (the .xlsx).
5. ``submit_suggestion`` for 200 new suggestions (``--submissions``), committed
   one by one.

Then a few seeded suggestions go through the real cadre actions (register,
decide, start, record the effect) and a just-submitted one must come back as
the best hint for its own text, so the seeded rows are known to be what the
code expects. ``--profile`` prints cProfile's top functions for one call of
each. No goal; exit status 1 only if a check fails.

Run: ``.venv/bin/python bench/bench_suggestions.py [--database sqlite|postgresql|both]
[--database-url postgresql://postgres@127.0.0.1:5432/test] [--suggestions 20000] [--members 20000]
[--queries 50] [--runs 20] [--submissions 200] [--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from bench_similarity import BENEFITS, MEASURES, PROBLEMS, SUBJECTS
from common import fresh_database, machine, percentile, postgres_answers
from sqlmodel import Session, col, select

from handlers.core.i18n import Catalogues
from handlers.suggestions.workbook import write_workbook
from models.base import utcnow
from models.db import SessionFactory, make_engine
from models.members import Member, MemberStatus
from models.outbox import Outbox
from models.periods import Period
from models.roles import Role, grant_role
from models.suggestions import (
    DEFAULT_CATEGORIES,
    NUMBER_PREFIX,
    Award,
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    SuggestionStatus,
    SuggestionSupport,
    decide_suggestion,
    record_effect,
    register_suggestion,
    review_queue,
    similar_suggestions,
    start_implementation,
    submit_suggestion,
)
from models.suggestions.deadlines import enqueue_deadline_pushes
from models.suggestions.figures import figures_report
from models.suggestions.queries import queue_counts
from models.suggestions.similarity import index_terms, warm_up
from models.units import UnitTree, get_unit
from models.workdays import add_workdays, is_workday, previous_workday

REPO = Path(__file__).resolve().parents[1]
ANALYZED = ("unit", "member", "role_grant", "suggestion", "suggestion_support", "outbox")
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ZONE = ZoneInfo("Asia/Shanghai")
TEAMS = ("甲班", "乙班", "丙班", "丁班", "戊班")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华红建国志海林"
# More subjects than bench_similarity's 20, so the stored terms vary as a big union's do.
EXTRA_SUBJECTS = (
    ("数控机床", "刀具寿命"),
    ("注塑机", "模具温度"),
    ("包装线", "纸箱规格"),
    ("废料", "分类回收"),
    ("安全帽", "佩戴检查"),
    ("停车场", "夜间照明"),
    ("防暑降温", "绿豆汤"),
    ("交接班", "记录本"),
    ("油漆房", "通风"),
    ("压缩空气", "泄漏"),
    ("变压器", "无功补偿"),
    ("锅炉", "燃烧效率"),
    ("蒸汽管道", "保温层"),
    ("来料检验", "抽样方案"),
    ("工装夹具", "快换"),
    ("电梯", "维保"),
    ("班前会", "安全提示"),
    ("网络", "无线覆盖"),
    ("职工食堂", "菜品价格"),
    ("托儿所", "接送时间"),
)
ALL_SUBJECTS = SUBJECTS + EXTRA_SUBJECTS
TITLE_ENDS = ("改造", "问题", "管理", "改进", "的建议", "优化", "整治")
OPINIONS = ("经初评，建议有一定价值，转技术部门评审。", "建议可行，同意采纳，由车间负责实施。")
REPLIES = ("感谢您的建议，已安排实施，完成后会告知效果。", "经研究暂不采纳，原因已写明，欢迎继续提建议。")
AWARDS = ((Award.GOLD, 200_000), (Award.SILVER, 100_000), (Award.ENCOURAGEMENT, 20_000))

T = TypeVar("T")


# ----------------------------------------------------------------------------- the union


def text_of(chance: random.Random, place: str) -> tuple[str, str]:
    """A title and a measure, put together the way members write them."""
    a, b = chance.choice(ALL_SUBJECTS)
    title = f"{place}{a}{chance.choice(TITLE_ENDS)}"
    measures = "，".join(m.format(a=a, b=b) for m in chance.sample(MEASURES, chance.randint(1, 3)))
    problem = chance.choice(PROBLEMS).format(a=a, b=b)
    return title, f"{place}{problem}。{measures}，{chance.choice(BENEFITS)}"


def days(chance: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=chance.uniform(low, high))


def local(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def bench_now() -> datetime:
    """10:00 in the union's zone on the latest working day: the deadline job only runs on working days."""
    day = local(utcnow())
    if not is_workday(day):
        day = previous_workday(day)
    return datetime.combine(day, clock(10), tzinfo=ZONE).astimezone(ZoneInfo("UTC"))


@dataclass
class Union:
    """What the timings need from the seeded union: who acts, and where."""

    now: datetime
    root_id: int = 0
    root_chair: int = 0
    workshop_chairs: dict[int, int] = field(default_factory=dict)  # workshop unit id → member id
    members: list[int] = field(default_factory=list)  # ordinary members (no role)
    team_of: dict[int, int] = field(default_factory=dict)  # member id → 班组 unit id
    workshop_of_team: dict[int, int] = field(default_factory=dict)
    place_of_team: dict[int, str] = field(default_factory=dict)


def seed(sessions: SessionFactory, args: argparse.Namespace, union: Union) -> None:
    chance = random.Random(args.seed)
    now = union.now
    with sessions() as session:
        tree = UnitTree(session)
        root = tree.ensure("厂工会")
        assert root.id is not None
        union.root_id = root.id
        teams: list[int] = []
        for w in range(1, args.workshops + 1):
            workshop = tree.ensure(f"厂工会/第{w}车间")
            assert workshop.id is not None
            union.workshop_chairs[workshop.id] = 0
            for team_name in TEAMS:
                team_unit = tree.ensure(f"厂工会/第{w}车间/{team_name}")
                assert team_unit.id is not None
                teams.append(team_unit.id)
                union.workshop_of_team[team_unit.id] = workshop.id
                union.place_of_team[team_unit.id] = f"第{w}车间"

    member_ids: list[int] = []
    for start in range(0, args.members, 5000):
        chunk = range(start, min(args.members, start + 5000))
        with sessions() as session:
            session.execute(
                sa.insert(Member),
                [
                    {
                        "employee_no": f"S{n:06d}",
                        "name": chance.choice(SURNAMES) + "".join(chance.sample(GIVEN, chance.randint(1, 2))),
                        "unit_id": teams[n % len(teams)],
                        "status": MemberStatus.ACTIVE,
                        "monthly_dues_fen": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in chunk
                ],
            )
            found = session.execute(
                sa.select(col(Member.id), col(Member.unit_id)).where(
                    col(Member.employee_no).in_([f"S{n:06d}" for n in chunk])
                )
            ).all()
            for member_id, unit_id in found:
                member_ids.append(member_id)
                union.team_of[member_id] = unit_id

    # The chair of each workshop works in its first 班组; the root's chair in the first workshop's.
    by_team: dict[int, list[int]] = {}
    for member_id in sorted(member_ids):
        by_team.setdefault(union.team_of[member_id], []).append(member_id)
    cadres: set[int] = set()
    with sessions() as session:
        for workshop_id in union.workshop_chairs:
            team = next(t for t in teams if union.workshop_of_team[t] == workshop_id)
            chair = session.get(Member, by_team[team][0])
            unit = get_unit(session, workshop_id)
            assert chair is not None
            assert chair.id is not None
            grant_role(session, member=chair, role=Role.CHAIR, unit=unit)
            union.workshop_chairs[workshop_id] = chair.id
            cadres.add(chair.id)
        top = session.get(Member, by_team[teams[0]][1])
        assert top is not None
        assert top.id is not None
        grant_role(session, member=top, role=Role.CHAIR, unit=get_unit(session, union.root_id))
        union.root_chair = top.id
        cadres.add(top.id)
    union.members = [m for m in sorted(member_ids) if m not in cadres]

    policy = SuggestionPolicy()
    rows: list[dict[str, Any]] = []
    started = [now - days(chance, 0, 365) for _ in range(args.suggestions)]
    started.sort()
    adopted_ids: list[int] = []
    for number, submitted_at in enumerate(started, 1):
        proposer = chance.choice(union.members)
        team = union.team_of[proposer]
        title, measure = text_of(chance, union.place_of_team[team])
        row = lifecycle(
            chance, submitted_at, now, policy, union.workshop_chairs[union.workshop_of_team[team]]
        )
        row.update(
            id=number,
            number=f"{NUMBER_PREFIX}-{local(submitted_at).year}-{number:06d}",
            proposer_id=proposer,
            unit_id=team,
            category=chance.choice(DEFAULT_CATEGORIES),
            title=title,
            measure=measure,
            benefit=None,
            benefit_fen=None,
            anonymous=chance.random() < 0.1,
            version=1,
            merged_into_id=(chance.randint(1, number - 1) if number > 1 else None)
            if row["status"] is SuggestionStatus.MERGED
            else None,
            terms=index_terms(title, measure),
            submitted_at=submitted_at,
        )
        if row["status"] is SuggestionStatus.MERGED and row["merged_into_id"] is None:
            row["status"] = SuggestionStatus.CLOSED
        if row["adopted"]:
            adopted_ids.append(number)
        rows.append(row)
    for start in range(0, len(rows), 2000):
        with sessions() as session:
            session.execute(sa.insert(Suggestion), rows[start : start + 2000])
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Ids were given: the sequence must move past them for submit_suggestion's rows.
            session.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('suggestion', 'id'), "
                    "(SELECT max(id) FROM suggestion))"
                )
            )
    supportable = [
        r["id"] for r in rows if r["status"] not in (SuggestionStatus.MERGED, SuggestionStatus.CLOSED)
    ]
    proposer_of = {r["id"]: r["proposer_id"] for r in rows}
    pairs: set[tuple[int, int]] = set()
    while supportable and len(pairs) < args.suggestions // 2:
        suggestion_id, member_id = chance.choice(supportable), chance.choice(union.members)
        if member_id != proposer_of[suggestion_id]:
            pairs.add((suggestion_id, member_id))
    supports = [{"suggestion_id": s, "member_id": m, "created_at": now} for s, m in sorted(pairs)]
    for start in range(0, len(supports), 5000):
        with sessions() as session:
            session.execute(sa.insert(SuggestionSupport), supports[start : start + 5000])
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql" and not args.skip_analyze:
            # A table that grew over a year has had autovacuum's statistics for long; one
            # filled a second ago has none, and the planner's guesses then are far off.
            # Only this schema's tables (on the search path): other sessions share the database.
            for table in ANALYZED:
                session.execute(sa.text(f"ANALYZE {table}"))


def lifecycle(
    chance: random.Random, submitted_at: datetime, now: datetime, policy: SuggestionPolicy, chair: int
) -> dict[str, Any]:
    """The row's columns at ``now``, from a simulated history: each step happens only if its time has come.

    Stage lengths in calendar days, a little beyond the 3/15/30 working days at
    the slow end, and one suggestion in ten stalls at some step, so that some of
    the open ones are overdue, as in life.
    """
    row: dict[str, Any] = {
        "status": SuggestionStatus.SUBMITTED,
        "adopted": None,
        "due_on": add_workdays(local(submitted_at), policy.register_days),
        "department": None,
        "reviewer_id": None,
        "opinion": None,
        "reply": None,
        "value_fen": None,
        "award": None,
        "prize_fen": None,
        "registered_at": None,
        "decided_at": None,
        "implementation_started_on": None,
        "implemented_on": None,
        "answered_at": None,
        "awarded_at": None,
        "closed_at": None,
        "updated_at": submitted_at,
    }

    # One in ten is forgotten at some step and stays there: the overdue ones the job chases.
    stalls_at = chance.randint(1, 5) if chance.random() < 0.1 else None
    steps = iter(range(1, 99))

    def reached(moment: datetime) -> bool:
        if moment > now or next(steps) == stalls_at:
            return False
        row["updated_at"] = moment
        return True

    registered_at = submitted_at + days(chance, 0.1, 6)
    if not reached(registered_at):
        return row
    if chance.random() < 0.04:  # a duplicate, merged at registration
        row.update(
            status=SuggestionStatus.MERGED,
            due_on=None,
            opinion="与已有建议重复，已合并办理。",
            reply="与已有建议重复，已合并办理。",
            answered_at=registered_at,
            closed_at=registered_at,
        )
        return row
    row.update(
        status=SuggestionStatus.REGISTERED,
        registered_at=registered_at,
        department="设备动力部",
        reviewer_id=chair,
        due_on=add_workdays(local(registered_at), policy.decide_days),
    )
    reviewed_at = registered_at + days(chance, 1, 12)
    if not reached(reviewed_at):
        return row
    row.update(status=SuggestionStatus.FIRST_REVIEWED, opinion=OPINIONS[0])
    if chance.random() < 0.5:
        reviewed_at += days(chance, 1, 12)
        if not reached(reviewed_at):
            return row
        row.update(status=SuggestionStatus.PANEL_REVIEWED, opinion=OPINIONS[0])
    decided_at = reviewed_at + days(chance, 0.5, 14)
    if not reached(decided_at):
        return row
    adopted = chance.random() < 0.6
    row.update(
        adopted=adopted,
        decided_at=decided_at,
        opinion=OPINIONS[1] if adopted else "经评审，目前条件不具备，暂不采纳。",
        status=SuggestionStatus.ADOPTED if adopted else SuggestionStatus.NOT_ADOPTED,
        due_on=add_workdays(local(decided_at), policy.implement_days) if adopted else None,
    )
    answered_at = decided_at + days(chance, 0, 4)
    if reached(answered_at):
        row.update(reply=REPLIES[0] if adopted else REPLIES[1], answered_at=answered_at)
    if not adopted:
        closed_at = answered_at + days(chance, 0, 3)
        if reached(closed_at):
            row.update(status=SuggestionStatus.CLOSED, closed_at=closed_at)
        return row
    started_at = decided_at + days(chance, 3, 50)
    if not reached(started_at):
        return row
    row.update(status=SuggestionStatus.IMPLEMENTING, implementation_started_on=local(started_at), due_on=None)
    finished_at = started_at + days(chance, 7, 90)
    if not reached(finished_at):
        return row
    value = int(min(chance.lognormvariate(8.5, 1.3), 2_000_000)) * 100 if chance.random() < 0.7 else 0
    row.update(status=SuggestionStatus.IMPLEMENTED, implemented_on=local(finished_at), value_fen=value)
    if value and chance.random() < 0.15:
        award, prize = chance.choice(AWARDS)
        awarded_at = finished_at + days(chance, 1, 30)
        if reached(awarded_at):
            row.update(award=award, prize_fen=prize, awarded_at=awarded_at)
    closed_at = finished_at + days(chance, 1, 20)
    if row["reply"] is not None and chance.random() < 0.8 and reached(closed_at):
        row.update(status=SuggestionStatus.CLOSED, closed_at=closed_at)
    return row


# ----------------------------------------------------------------------------- timing


@dataclass
class Figure:
    label: str
    wall: list[float]
    cpu: list[float]
    note: str = ""


def timed(action: Callable[[], T]) -> tuple[T, float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - start, time.process_time() - start_cpu


def repeat(label: str, runs: int, action: Callable[[int], Any], note: str = "") -> tuple[Figure, Any]:
    wall: list[float] = []
    cpu: list[float] = []
    result: Any = None
    for n in range(runs):
        result, w, c = timed(lambda n=n: action(n))  # type: ignore[misc]
        wall.append(w)
        cpu.append(c)
    return Figure(label, wall, cpu, note), result


def profile(label: str, action: Callable[[], Any], top: int = 8) -> None:
    """The project's own functions by cumulative time, then everything by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    print(f"--- profile: {label}")
    for order, restriction in (("cumulative", "models/"), ("tottime", "")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(order)
        stats.print_stats(*([restriction] if restriction else []), top)
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        print(f"by {order}{' (models/ only)' if restriction else ''}:")
        print("\n".join(line.replace(f"{REPO}/", "") for line in lines[start:]))


def measure(
    engine: sa.Engine, union: Union, args: argparse.Namespace, workdir: Path
) -> tuple[list[Figure], bool]:
    sessions = SessionFactory(engine)
    policy = SuggestionPolicy()
    now = union.now
    today = policy.today(now)
    chance = random.Random(args.seed + 1)
    figures: list[Figure] = []
    ok = True

    def as_member(member_id: int, session: Session) -> Member:
        member = session.get(Member, member_id)
        assert member is not None
        return member

    # 1. similar suggestions
    queries = []
    for _ in range(args.queries):
        member_id = chance.choice(union.members)
        title, measure = text_of(chance, union.place_of_team[union.team_of[member_id]])
        # As the form asks after the measure: the measure alone, and with the title.
        queries.append((member_id, (measure, f"{title}\n{measure}")))

    def similar(n: int) -> int:
        member_id, text = queries[n]
        with sessions() as session:
            return len(similar_suggestions(session, actor=as_member(member_id, session), fields=text))

    figure, _ = repeat("similar_suggestions (title + measure)", args.queries, similar)
    figures.append(figure)
    with sessions() as session:
        total = session.execute(sa.select(sa.func.count()).select_from(Suggestion)).scalar_one()
        candidates = session.execute(
            sa.select(sa.func.count())
            .select_from(Suggestion)
            .where(
                col(Suggestion.status).notin_(
                    [SuggestionStatus.MERGED, SuggestionStatus.CLOSED, SuggestionStatus.NOT_ADOPTED]
                )
            )
        ).scalar_one()
    figure.note = f"{candidates:,} of {total:,} rows ranked"

    # 2. the review queue
    workshop_chair = next(iter(union.workshop_chairs.values()))
    for who, member_id in (("workshop chair", workshop_chair), ("root chair", union.root_chair)):

        def queue(n: int, member_id: int = member_id) -> int:
            with sessions() as session:
                found, _page = review_queue(session, actor=as_member(member_id, session), today=today)
                return found

        figure, found = repeat(f"review_queue page 1, {who}", args.runs, queue)
        figure.note = f"{found:,} open"
        figures.append(figure)

        def overdue(n: int, member_id: int = member_id) -> int:
            with sessions() as session:
                return queue_counts(session, actor=as_member(member_id, session), today=today).overdue

        figure, found = repeat(f"queue_counts, {who}", args.runs, overdue)
        figure.note = f"{found:,} overdue"
        figures.append(figure)

    # 3. the deadline job
    def first_rolled_back(n: int) -> int:
        with Session(engine, expire_on_commit=False) as session:
            added = enqueue_deadline_pushes(session, now=now, policy=policy)
            session.rollback()
            return added

    figure, added = repeat("enqueue_deadline_pushes, first run (rolled back)", 5, first_rolled_back)
    figure.note = f"{added:,} pushes"
    figures.append(figure)

    def first_committed(n: int) -> int:
        with sessions() as session:
            return enqueue_deadline_pushes(session, now=now, policy=policy)

    figure, added = repeat("enqueue_deadline_pushes, first run (committed)", 1, first_committed)
    with sessions() as session:
        per_member = session.execute(
            sa.select(col(Outbox.member_id), sa.func.count()).group_by(col(Outbox.member_id))
        ).all()
    queued = sum(n for _, n in per_member)
    most = max((n for _, n in per_member), default=0)
    root_share = sum(n for m, n in per_member if m == union.root_chair)
    figure.note = (
        f"{added:,} new ({queued:,} in the outbox) for {len(per_member)} cadres; "
        f"the root chair {root_share:,}, the most to one {most:,}"
    )
    figures.append(figure)
    figure, again = repeat("enqueue_deadline_pushes, second run", 5, first_committed)
    figure.note = f"{again:,} new"
    if again:
        ok = False
        print(f"CHECK FAILED: the second run queued {again} pushes")
    figures.append(figure)

    # 4. figures and the workbook
    t = Catalogues().get("zh_CN")
    current = Period.quarter_of(today)
    for period in (current, current.previous()):

        def report(n: int, period: Period = period) -> Any:
            with sessions() as session:
                return figures_report(
                    session,
                    actor=as_member(union.root_chair, session),
                    unit_id=None,
                    period=period,
                    today=today,
                    policy=policy,
                )

        figure, result = repeat(f"figures_report {period.key}, root", args.runs, report)
        figure.note = f"{result.total.submitted:,} submitted, {len(result.rows)} rows"
        figures.append(figure)

        def workbook(n: int, period: Period = period) -> Path:
            with sessions() as session:
                return write_workbook(
                    session,
                    actor=as_member(union.root_chair, session),
                    period=period,
                    unit_id=None,
                    policy=policy,
                    path=workdir / f"{period.key}.xlsx",
                    today=today,
                    t=t,
                )

        figure, path = repeat(f"write_workbook {period.key}, root", max(3, args.runs // 4), workbook)
        figure.note = f"{path.stat().st_size / 1024:,.0f} KB"
        figures.append(figure)

    if args.profile:
        member_id, text = queries[0]
        with sessions() as session:
            actor = as_member(member_id, session)
            profile("similar_suggestions", lambda: similar_suggestions(session, actor=actor, fields=text))
        with sessions() as session:
            actor = as_member(union.root_chair, session)
            profile("review_queue, root chair", lambda: review_queue(session, actor=actor, today=today))
        with sessions() as session:
            actor = as_member(union.root_chair, session)
            profile(
                f"figures_report {current.previous().key}, root",
                lambda: figures_report(
                    session, actor=actor, unit_id=None, period=current.previous(), today=today, policy=policy
                ),
            )
        with Session(engine) as session:
            profile(
                "enqueue_deadline_pushes (a second run)",
                lambda: enqueue_deadline_pushes(session, now=now, policy=policy),
            )
            session.rollback()
        with sessions() as session:
            actor = as_member(union.root_chair, session)
            profile(
                f"write_workbook {current.previous().key}",
                lambda: write_workbook(
                    session,
                    actor=actor,
                    period=current.previous(),
                    unit_id=None,
                    policy=policy,
                    path=workdir / "profiled.xlsx",
                    today=today,
                    t=t,
                ),
            )

    # 5. submissions
    drafts = []
    for _ in range(args.submissions):
        member_id = chance.choice(union.members)
        title, measure = text_of(chance, union.place_of_team[union.team_of[member_id]])
        drafts.append(
            (
                member_id,
                SuggestionDraft(category=chance.choice(DEFAULT_CATEGORIES), title=title, measure=measure),
            )
        )
    submitted: list[tuple[int, str]] = []

    def submit(n: int) -> None:
        member_id, draft = drafts[n]
        with sessions() as session:
            suggestion = submit_suggestion(
                session, actor=as_member(member_id, session), draft=draft, policy=policy, now=now
            )
            assert suggestion.id is not None
            assert suggestion.number is not None
            submitted.append((suggestion.id, suggestion.number))

    figure, _ = repeat("submit_suggestion (committed)", args.submissions, submit)
    figure.note = f"{submitted[0][1]} … {submitted[-1][1]}"
    figures.append(figure)

    ok = check(sessions, union, policy, submitted, drafts) and ok
    return figures, ok


def check(
    sessions: SessionFactory,
    union: Union,
    policy: SuggestionPolicy,
    submitted: Sequence[tuple[int, str]],
    drafts: Sequence[tuple[int, SuggestionDraft]],
) -> bool:
    """Seeded rows go through the real cadre actions; a new suggestion is the best hint for its own text."""
    now = union.now + timedelta(minutes=5)
    failures: list[str] = []
    expected_numbers = sorted(submitted)
    if [number for _, number in expected_numbers] != [
        f"{NUMBER_PREFIX}-{local(union.now).year}-{i:06d}" for i, _ in expected_numbers
    ]:
        failures.append("tracking numbers do not follow the ids")
    if expected_numbers and expected_numbers[0][0] <= 0:
        failures.append("ids")

    def one(status: SuggestionStatus) -> Suggestion | None:
        with sessions() as session:
            return session.exec(
                select(Suggestion)
                .where(Suggestion.status == status, col(Suggestion.id) < submitted[0][0])
                .order_by(col(Suggestion.id).desc())
            ).first()

    def chair_of(suggestion: Suggestion) -> int:
        return union.workshop_chairs[union.workshop_of_team[suggestion.unit_id]]

    steps: list[tuple[SuggestionStatus, Callable[[Session, Member, Suggestion], Suggestion]]] = [
        (
            SuggestionStatus.SUBMITTED,
            lambda s, actor, row: register_suggestion(
                s,
                actor=actor,
                suggestion_id=row.id or 0,
                expected_version=row.version,
                category=row.category,
                department="设备动力部",
                reviewer_id=None,
                policy=policy,
                now=now,
            ),
        ),
        (
            SuggestionStatus.PANEL_REVIEWED,
            lambda s, actor, row: decide_suggestion(
                s,
                actor=actor,
                suggestion_id=row.id or 0,
                expected_version=row.version,
                adopted=True,
                reason="效益明显，同意采纳。",
                policy=policy,
                now=now,
            ),
        ),
        (
            SuggestionStatus.ADOPTED,
            lambda s, actor, row: start_implementation(
                s,
                actor=actor,
                suggestion_id=row.id or 0,
                expected_version=row.version,
                started_on=policy.today(now),
                notes="已安排施工。",
                policy=policy,
                now=now,
            ),
        ),
        (
            SuggestionStatus.IMPLEMENTING,
            lambda s, actor, row: record_effect(
                s,
                actor=actor,
                suggestion_id=row.id or 0,
                expected_version=row.version,
                value_fen=1_234_500,
                implemented_on=policy.today(now),
                notes="每月节电约一千度。",
                policy=policy,
                now=now,
            ),
        ),
    ]
    for status, action in steps:
        row = one(status)
        if row is None:
            failures.append(f"no seeded suggestion is {status.value}")
            continue
        try:
            with sessions() as session:
                chair = session.get(Member, chair_of(row))
                assert chair is not None
                done = action(session, chair, row)
                after = done.status
            print(f"check: {row.number} {status.value} → {after.value} by its workshop chair")
        except Exception as error:
            failures.append(f"{row.number} ({status.value}): {error!r}")

    (new_id, new_number), (proposer_id, draft) = submitted[-1], drafts[-1]
    other = next(m for m in union.members if m != proposer_id)
    with sessions() as session:
        member = session.get(Member, other)
        assert member is not None
        fields = (draft.measure, f"{draft.title}\n{draft.measure}")
        hints = similar_suggestions(session, actor=member, fields=fields)
    if not hints or hints[0].id != new_id:
        # A seeded twin may tie with it (the same pieces); only a miss altogether is a failure.
        if not any(hint.id == new_id for hint in hints):
            failures.append(f"{new_number} is not among the hints for its own text: {hints}")
        else:
            print(f"check: {new_number} is among the hints for its own text (a seeded twin ties)")
    else:
        print(f"check: {new_number} is the best hint for its own text (score {hints[0].score:.2f})")
    for failure in failures:
        print(f"CHECK FAILED: {failure}")
    return not failures


# ----------------------------------------------------------------------------- report


def ms(values: Sequence[float], share: float | None = None) -> str:
    value = statistics.median(values) if share is None else percentile(values, share)
    return f"{value * 1000:9.1f}"


def table(database: str, seeded: str, figures: Sequence[Figure]) -> None:
    print(f"\n{database}: {seeded}")
    print(f"{'figure':<52} {'runs':>4} {'p50 ms':>9} {'p95 ms':>9} {'CPU p50':>9} {'CPU p95':>9}  note")
    for figure in figures:
        print(
            f"{figure.label:<52} {len(figure.wall):>4} {ms(figure.wall)} {ms(figure.wall, 0.95)} "
            f"{ms(figure.cpu)} {ms(figure.cpu, 0.95)}  {figure.note}"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        default=None,
        help="both when PostgreSQL answers at --database-url, else sqlite",
    )
    parser.add_argument(
        "--database-url", default=POSTGRES_URL, help=f"PostgreSQL ({POSTGRES_URL}); a throwaway schema"
    )
    parser.add_argument("--workshops", type=int, default=40)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--suggestions", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=50, help="similar_suggestions calls (50)")
    parser.add_argument("--runs", type=int, default=20, help="repeats of the queue and figures calls (20)")
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", action="store_true", help="cProfile one call of each")
    parser.add_argument(
        "--skip-analyze",
        action="store_true",
        help="PostgreSQL: leave the fresh tables without statistics (as right after a bulk load)",
    )
    args = parser.parse_args(argv)
    postgres = postgres_answers(args.database_url)
    choice = args.database or ("both" if postgres else "sqlite")
    databases = ["sqlite", "postgresql"] if choice == "both" else [choice]
    if "postgresql" in databases and not postgres:
        parser.error(f"nothing answers at {args.database_url}")
    print(machine(databases, args.database_url, ["jieba", "openpyxl"]))
    _, took, _cpu = timed(warm_up)
    print(f"warm_up (jieba): {took:.2f} s")
    ok = True
    with tempfile.TemporaryDirectory() as name:
        workdir = Path(name)
        for kind in databases:
            union = Union(now=bench_now())
            started = time.perf_counter()
            with fresh_database(
                kind,
                workdir,
                args.database_url,
                seed=lambda sessions, union=union: seed(sessions, args, union),  # type: ignore[misc]
                schema_prefix="unionbot_bench_sugg",
            ) as db:
                seeded = (
                    f"{args.workshops} workshops × {len(TEAMS)} 班组, {args.members:,} members, "
                    f"{args.suggestions:,} suggestions seeded in {time.perf_counter() - started:.0f} s; "
                    f"now = {union.now.astimezone(ZONE):%Y-%m-%d %H:%M} Asia/Shanghai"
                )
                print(f"{kind}: {seeded}", flush=True)
                if db.schema is not None:
                    engine = make_engine(db.url, connect_args={"options": f"-csearch_path={db.schema}"})
                else:
                    engine = make_engine(db.url)
                try:
                    figures, passed = measure(engine, union, args, workdir)
                finally:
                    engine.dispose()
                ok = ok and passed
                table(kind, seeded, figures)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
