"""Imports of malformed files: every row or none, and a sentence when none.

``IMPORTS`` lists every import as a :class:`~tests.reliability.import_fuzz.FileImport`; each is fed
hostile tables (cells of arbitrary Unicode, formulas, control characters, repeated 工号, rows cut
short), in CSV of several encodings and as workbooks, and damaged bytes of both.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from bot.cli import main
from bot.roster_files import read_roster
from models.roster import roster_records, validate_rows
from tests.reliability.fuzzing import FUZZ, examples
from tests.reliability.import_fuzz import (
    CommandLine,
    FileImport,
    Outcome,
    check_all_or_nothing,
    command_line,
    csv_bytes,
    hostile_files,
    run_containing_known_crashes,
    xlsx_bytes,
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


IMPORTS: dict[str, FileImport] = {
    "roster": FileImport(
        name="members import",
        run=cli("members", "import"),
        good_rows=ROSTER_ROWS,
        complete=roster_in_database,
        valid_tables=odd_but_valid_rosters(),
        known_crashes=(zlib.error,),  # test_a_damaged_workbook_is_refused_with_a_sentence
    ),
    # The dues import joins here with its own FileImport (its command, a good file, its check).
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


# -- what the fuzz found in the roster's rules (models/roster.py, models/units.py, models/members.py) --

ROSTER_CHARACTERS = (
    "issue #15 (6): the roster import accepts control and format characters in units and names;"
    " the roster's owner fixes it in its validation"
)


def _roster_with(tmp_path: Path, *, unit: str = "厂工会/二车间", name: str = "张三") -> Path:
    rows = [ROSTER_ROWS[0], ["3001", name, unit, "13800003001", "", "25", "在册"]]
    return _file(tmp_path, ".csv", csv_bytes(rows))


# The rules are the same on every database: these run on SQLite only.
ON_SQLITE = pytest.mark.parametrize("command_line", ["sqlite"], indirect=True)


@ON_SQLITE
@pytest.mark.xfail(strict=True, reason=ROSTER_CHARACTERS)
@pytest.mark.parametrize(
    "unit",
    ["厂工会/二车间\x01甲班\x1b[31m", "厂工会/一车间\u200b", "厂工会/\u202e一车间"],
    ids=["escape", "zwsp", "rlo"],
)
def test_a_unit_with_invisible_characters_is_refused_with_its_line(
    command_line: CommandLine, tmp_path: Path, unit: str
) -> None:
    outcome = cli("members", "import")(_roster_with(tmp_path, unit=unit))
    assert outcome.code != 0
    assert "第 2 行" in outcome.err


@ON_SQLITE
@pytest.mark.xfail(strict=True, reason=ROSTER_CHARACTERS)
@pytest.mark.parametrize("name", ["张\u202e三", "张\u200b三"], ids=["rlo", "zwsp"])
def test_a_name_with_invisible_characters_is_refused_with_its_line(
    command_line: CommandLine, tmp_path: Path, name: str
) -> None:
    outcome = cli("members", "import")(_roster_with(tmp_path, name=name))
    assert outcome.code != 0
    assert "第 2 行" in outcome.err


def _damaged_workbook(folder: Path) -> Path:
    """A good roster workbook with one byte of its sheet's compressed data changed, as a bad copy does."""
    data = xlsx_bytes(ROSTER_ROWS)
    sheet = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    name_length, extra_length = struct.unpack(
        "<HH", data[sheet.header_offset + 26 : sheet.header_offset + 30]
    )
    at = sheet.header_offset + 30 + name_length + extra_length + sheet.compress_size // 10
    return _file(folder, ".xlsx", data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])


@ON_SQLITE
@pytest.mark.xfail(
    strict=True,
    raises=zlib.error,
    reason="bot/roster_files.py: a workbook whose compressed sheet is damaged raises zlib.error out of"
    " read_roster (members import ends in a traceback); its owner adds it to the refused kinds",
)
def test_a_damaged_workbook_is_refused_with_a_sentence(command_line: CommandLine, tmp_path: Path) -> None:
    importer = replace(IMPORTS["roster"], known_crashes=(zlib.error,))
    outcome = run_containing_known_crashes(importer, _damaged_workbook(tmp_path))
    if outcome.code == -1:
        raise zlib.error(outcome.err)  # the crash, raised again without the file it held open
    assert outcome.code != 0
    assert "已损坏" in outcome.err
