"""How long a 10,000-row roster takes to import, from .csv and from .xlsx.

Each file goes through what ``python -m bot members import`` does on SQLite (read
the file, check every row, import committing chunk by chunk) into a fresh,
migrated SQLite file; then the same file is imported again, which must change
nothing. Goal: each import under 10 s on a 2-core machine. Also printed: the
longest the import held SQLite's write lock at once (between two commits), which
is the longest a member's message can wait for it.

Run: ``.venv/bin/python bench/bench_roster_import.py [ROWS]``
"""

from __future__ import annotations

import itertools
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from bot import database
from bot.roster_files import read_roster, write_roster
from models import sealed
from models.db import SessionFactory, make_engine
from models.roster import Batches, ImportResult, RosterRow, import_roster, validate_rows

GOAL_SECONDS = 10.0
WORKSHOPS = ("一车间", "二车间", "三车间", "机修车间", "动力车间", "运输大队", "质检中心", "仓储物流部")
TEAMS = ("甲班", "乙班", "丙班", "丁班", "维修班", "检修班")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟",
    "芳",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明辉",
    "超",
    "霞",
)

T = TypeVar("T")


def roster(rows: int) -> list[RosterRow]:
    """A plausible plant roster: 8 workshops × 6 teams, a role here and there."""
    return [_row(n) for n in range(rows)]


def _row(n: int) -> RosterRow:
    transferred = n % 211 == 1
    role = "工会小组长" if n % 50 == 0 else ("职工代表" if n % 97 == 0 else "")
    return RosterRow(
        line=n + 2,
        employee_no=f"{100000 + n}",
        name=SURNAMES[n % len(SURNAMES)] + GIVEN[n // len(SURNAMES) % len(GIVEN)],
        unit=f"厂工会/{WORKSHOPS[n % len(WORKSHOPS)]}/{TEAMS[n // len(WORKSHOPS) % len(TEAMS)]}",
        phone=f"1{3 + n % 7}{n:09d}",
        roles="" if transferred else role,
        monthly_dues=f"{15 + n % 31}.{(n * 7) % 100:02d}",
        status="转出" if transferred else "在册",
    )


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def import_file(sessions: SessionFactory, path: Path) -> tuple[ImportResult, dict[str, float]]:
    """The CLI's path, minus printing: read, check everything, import in one transaction."""
    rows, read = timed(partial(read_roster, path))
    (valid, problems), check = timed(partial(validate_rows, rows))
    if problems:
        raise SystemExit(f"{path.name}: {len(problems)} rows refused, first {problems[0]!r}")

    commits: list[float] = []

    def write() -> ImportResult:
        commits.append(time.perf_counter())
        batches = Batches(label=path.name, after_commit=lambda done: commits.append(time.perf_counter()))
        with sessions() as session:
            return import_roster(session, valid, batches=batches)

    result, written = timed(write)
    held = max(later - earlier for earlier, later in itertools.pairwise(commits))
    return result, {"read": read, "check": check, "import": written, "lock held at most": held}


def bench(path: Path, workdir: Path, rows: int) -> bool:
    engine = make_engine(f"sqlite:///{workdir / (path.name + '.db')}")
    database.upgrade(engine)
    sessions = SessionFactory(engine)
    try:
        first, first_phases = import_file(sessions, path)
        again, again_phases = import_file(sessions, path)
    finally:
        engine.dispose()
    if first.created != rows or again.unchanged != rows:
        raise SystemExit(f"{path.name}: unexpected results {first} then {again}")
    kind = path.suffix.lstrip(".")
    slowest = 0.0
    for label, phases in ((f"{kind} import", first_phases), (f"{kind} re-import", again_phases)):
        took = phases["read"] + phases["check"] + phases["import"]
        slowest = max(slowest, took)
        detail = ", ".join(f"{name} {seconds:.2f}" for name, seconds in phases.items())
        print(f"{label:<16} {rows:>7} rows  {took:6.2f} s  {rows / took:>8.0f} rows/s   ({detail})")
    return slowest < GOAL_SECONDS


def main(argv: list[str]) -> int:
    rows = int(argv[1]) if len(argv) > 1 else 10_000
    sealed.use_key(secrets.token_bytes(32))  # phones are sealed as in production; the database is thrown away
    with tempfile.TemporaryDirectory(prefix="unionbot-bench-") as folder:
        workdir = Path(folder)
        data = roster(rows)
        ok = True
        for suffix in (".csv", ".xlsx"):
            path = workdir / f"roster{suffix}"
            _, took = timed(partial(write_roster, path, data))
            print(f"({suffix.lstrip('.')} written in {took:.2f} s, {path.stat().st_size // 1024} KiB)")
            ok = bench(path, workdir, rows) and ok
    print(f"goal: every import under {GOAL_SECONDS:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
