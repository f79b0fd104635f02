"""Imports of malformed files: every row or none, and a sentence when none.

``IMPORTS`` lists every import as a :class:`~tests.reliability.import_fuzz.FileImport`; each is fed
hostile tables (cells of arbitrary Unicode, formulas, control characters, repeated 工号, rows cut
short), in CSV of several encodings and as workbooks, and damaged bytes of both.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.cli import main
from bot.cli_dues import read_payments
from bot.roster_files import read_roster
from models.db import SessionFactory
from models.dues.months import parse_month
from models.dues.tables import DuesEntry
from models.members import Member, clean_employee_no
from models.roster import roster_records, validate_rows
from models.units import UnitTree
from tests.reliability.fuzzing import FUZZ, examples
from tests.reliability.import_fuzz import (
    CommandLine,
    FileImport,
    Outcome,
    check_all_or_nothing,
    command_line,
    csv_bytes,
    hostile_files,
)

__all__ = ["command_line"]  # the fixture, used by name

ROSTER_ROWS = [
    ["工号", "姓名", "单位", "手机", "角色", "月会费", "状态"],
    ["1001", "王建国", "厂工会", "13801012345", "管理员", "45", "在册"],
    ["2001", "李秀英", "厂工会/一车间", "13601137720", "工会主席", "42", "在册"],
    ["2101", "张<b>三</b>_*[🌟", "厂工会/一车间/甲班", "13957462108", "", "25", "在册"],
]


def cli(*argv: str) -> Callable[[Path], Outcome]:
    """The command line ``argv FILE``, as an admin runs it, with what it printed."""

    def run(path: Path) -> Outcome:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, str(path)])
        return Outcome(code, out.getvalue(), err.getvalue())

    return run


def roster_in_database(session: Session, path: Path) -> list[str]:
    """Each member of the file whose name or unit the database does not show as the file does."""
    entries, problems = validate_rows(read_roster(path))
    assert not problems
    shown = {record.employee_no: (record.name, record.unit_path) for record in roster_records(session)}
    return [
        entry.employee_no
        for entry in entries
        if shown.get(entry.employee_no) != (entry.name, entry.unit_path)
    ]


_visible = st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Zs"))


@st.composite
def odd_but_valid_rosters(draw: st.DrawFn) -> list[list[str]]:
    """Rosters every rule accepts, with the oddities offices really send: markup and emoji in names,
    full-width 工号, phones with +86 and dashes, roles by title, blank cells, new units."""
    numbers = draw(st.lists(st.integers(1, 99_999), min_size=1, max_size=8, unique=True))
    rows = [ROSTER_ROWS[0]]
    for number in numbers:
        employee_no = draw(
            st.sampled_from([str(number), f"A{number}", "".join(chr(ord(d) + 0xFEE0) for d in str(number))])
        )
        name = draw(st.text(_visible, min_size=1, max_size=12))
        unit = draw(
            st.sampled_from(
                ["厂工会", "厂工会/一车间", "厂工会/一车间/甲班", "厂工会/<b>二车间</b>", "厂工会/🌟班"]
            )
        )
        phone = draw(st.sampled_from(["", "13800001234", "+86 138-0000-1234", "１３８００００１２３４"]))
        role = draw(st.sampled_from(["", "职工代表", "工会小组长", "委员"]))
        dues = draw(st.sampled_from(["", "0", "12.5", "１２.５０元", "25"]))
        status = draw(st.sampled_from(["", "在册"]))
        rows.append([employee_no, name, unit, phone, role, dues, status])
    return rows


# A payroll deduction file: 工号, the month withheld, the amount, and the name as a check.
DUES_ROWS = [
    ["工号", "月份", "金额", "姓名"],
    ["5001", "2026-11", "25", "会员甲"],
    ["5002", "2026-11", "12.5", "会员乙"],
    ["5001", "2026-12", "25", "会员甲"],
]


def dues_payers(db: SessionFactory) -> None:
    """The members a payroll file names, with their monthly dues, once."""
    with db() as session:
        if session.exec(select(Member).where(Member.employee_no == "5001")).first() is None:
            unit = UnitTree(session).ensure("厂工会/一车间")
            assert unit.id is not None
            for employee_no, name, fen in (("5001", "会员甲", 2500), ("5002", "会员乙", 1250)):
                session.add(Member(employee_no=employee_no, name=name, unit_id=unit.id, monthly_dues_fen=fen))
            session.commit()


def dues_in_database(session: Session, path: Path) -> list[str]:
    """Each row of the file (工号 and month) the ledger holds no payment for."""
    missing = []
    for row in read_payments(path):
        member = session.exec(
            select(Member).where(Member.employee_no == clean_employee_no(row.employee_no))
        ).first()
        whose = member.id if member is not None else -1
        paid = session.exec(
            select(DuesEntry.id).where(
                DuesEntry.member_id == whose, DuesEntry.month == parse_month(row.month)
            )
        ).first()
        if paid is None:
            missing.append(f"{row.employee_no} {row.month}")
    return missing


IMPORTS: dict[str, FileImport] = {
    "roster": FileImport(
        name="members import",
        run=cli("members", "import"),
        good_rows=ROSTER_ROWS,
        complete=roster_in_database,
        valid_tables=odd_but_valid_rosters(),
        known_crashes=(zlib.error,),  # test_a_damaged_workbook_is_refused_with_a_sentence
    ),
    "dues": FileImport(
        name="dues import",
        run=cli("dues", "import"),
        good_rows=DUES_ROWS,
        complete=dues_in_database,
        prepare=dues_payers,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(IMPORTS))
def test_a_malformed_file_imports_whole_or_not_at_all(
    kind: str, command_line: CommandLine, tmp_path: Path
) -> None:
    importer = IMPORTS[kind]
    if importer.prepare is not None:
        importer.prepare(command_line.db)
    check_all_or_nothing(importer, command_line.db, _file(tmp_path, ".csv", csv_bytes(importer.good_rows)))
    names = iter(range(10**6))

    @settings(FUZZ, max_examples=examples(30))
    @given(file=hostile_files(importer))
    def one(file: tuple[str, bytes]) -> None:
        suffix, data = file
        outcome = check_all_or_nothing(importer, command_line.db, _file(tmp_path, suffix, data, next(names)))
        event("imported" if outcome.code == 0 else "refused")

    one()


def _file(folder: Path, suffix: str, data: bytes, number: int = 0) -> Path:
    path = folder / f"file-{number}{suffix}"
    path.write_bytes(data)
    return path
