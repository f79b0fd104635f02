"""Malformed files against any import: all or nothing, and a sentence when nothing.

An import is described once as a :class:`FileImport` (how to run it on a file, a good file to
start the mutations from, how to tell the file is in whole); :func:`check_all_or_nothing` then
holds it to the rule for one file: it imports every row, or it refuses with a message and the
database is exactly as before. Never a traceback, never a partial import.

The roster (``python -m bot members import``) is the first; the dues import joins by adding its
own :class:`FileImport` to ``IMPORTS`` in tests/reliability/test_fuzz_imports.py.
"""

from __future__ import annotations

import gc
import io
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlmodel import Session, SQLModel

from bot.app import App
from bot.cli import main
from bot.settings import Settings
from models.db import SessionFactory, make_engine
from tests.conftest import TEST_DATABASE_URL, drop_postgres_schema, postgres_engine


@dataclass(frozen=True)
class Outcome:
    """What the admin saw: the exit code and what was printed."""

    code: int
    out: str
    err: str


@dataclass(frozen=True)
class FileImport:
    """One way a spreadsheet gets into the database, as the fuzz drives it.

    Attributes:
        name: for test ids.
        run: imports the file as an admin would (the command line), returns what they saw.
            It must never raise: a refusal is a non-zero code with a message.
        good_rows: a header and rows that import, as cells; the mutations start from them.
        complete: after a successful run, what of the file is not in the database (empty: all of it).
        prepare: puts in the database what the file refers to (members whose dues are recorded…).
        valid_tables: tables of odd but valid rows (the import's own rules in strategies), so that
            imports also succeed and are checked whole; None: only the mutations of ``good_rows``.
        known_crashes: exceptions the import still lets out, each reported and pinned by a strict
            xfail test of its own; the fuzz checks only that they change nothing. Remove one
            when its xfail test starts passing.
    """

    name: str
    run: Callable[[Path], Outcome]
    good_rows: list[list[str]]
    complete: Callable[[Session, Path], list[str]]
    prepare: Callable[[SessionFactory], None] | None = None
    valid_tables: st.SearchStrategy[list[list[str]]] | None = None
    known_crashes: tuple[type[BaseException], ...] = ()


def table_rows(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: the database as a refused import must leave it."""
    return {
        table.name: sorted((tuple(row) for row in session.execute(sa.select(table)).all()), key=repr)
        for table in SQLModel.metadata.sorted_tables
    }


def run_containing_known_crashes(importer: FileImport, path: Path) -> Outcome:
    """Run the import; a known crash becomes exit code -1, and what it left open is collected here.

    A crash deep in a library (zlib inside openpyxl) leaves the file it was reading open; the
    traceback keeps it alive until it is dropped, and its ResourceWarning would then surface,
    as an error, in whichever test happens to run next. It is collected here, unheard.
    """
    crashed: str | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            outcome = importer.run(path)
        except importer.known_crashes as crash:
            crashed = f"(known crash: {type(crash).__name__}: {crash})"
        gc.collect()
    return Outcome(-1, "", crashed) if crashed is not None else outcome


def check_all_or_nothing(importer: FileImport, db: SessionFactory, path: Path) -> Outcome:
    """Run the import on ``path`` and hold it to the rule; returns what the admin saw."""
    with db() as session:
        before = table_rows(session)
    outcome = run_containing_known_crashes(importer, path)
    with db() as session:
        after = table_rows(session)
        if outcome.code == 0:
            missing = importer.complete(session, path)
            assert not missing, (
                f"{importer.name}: reported success, but part of the file is missing: {missing}"
            )
            return outcome
    assert outcome.err.strip(), f"{importer.name}: refused (exit {outcome.code}) without a word"
    changed = sorted(name for name in before if before[name] != after[name])
    assert not changed, f"{importer.name}: refused, yet changed {changed}: a partial import"
    return outcome


# -- files --------------------------------------------------------------------------------------------


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """Rows as a CSV file, quoted where needed; bytes the encoding cannot carry are replaced."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    """Rows as a workbook; text Excel could not hold (control characters) is left out of its cell."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "", " ", "=1+1", "@SUM(A1)", "-2", "'=HYPERLINK(\"x\")", "1e999999999", "NaN", "１２３", "\x00",
            "二车间\x01甲班\x1b[31m", "一车间\u200b", "\u202e张三", "厂工会//一车间", "/", "厂工会/" * 40,
            "管理员", "工会主席,管理员", "退会", "在册", "13800001234", "1380000123", "+8613800001234",
            "9" * 60, "字" * 300,
        ]
    ),
)  # fmt: skip


@st.composite
def hostile_tables(draw: st.DrawFn, good: list[list[str]]) -> list[list[str]]:
    """The good rows with cells replaced, rows repeated, dropped, cut short or made longer."""
    header, *rows = (list(row) for row in good)
    rows = rows + draw(st.lists(st.sampled_from(rows), max_size=3)) if rows else rows
    for _ in range(draw(st.integers(0, 6))):
        target = draw(st.integers(0, len(rows)))  # 0 is the header
        row = header if target == 0 else rows[target - 1]
        if not row:
            continue
        column = draw(st.integers(0, len(row) - 1))
        row[column] = draw(_cell)
    shorten: bool = draw(st.booleans())
    if rows and shorten:
        cut = draw(st.integers(0, len(rows) - 1))
        rows[cut] = rows[cut][: draw(st.integers(0, len(rows[cut])))]
    if draw(st.booleans()):
        rows.append([draw(_cell) for _ in range(draw(st.integers(0, len(header) + 2)))])
    return [header, *rows]


@st.composite
def hostile_files(draw: st.DrawFn, importer: FileImport) -> tuple[str, bytes]:
    """A file name suffix and its bytes: odd or hostile tables as CSV or workbooks, or damaged bytes."""
    tables = hostile_tables(importer.good_rows)
    table = draw(tables if importer.valid_tables is None else st.one_of(tables, importer.valid_tables))
    kind = draw(st.sampled_from(["csv", "csv", "xlsx", "bytes-csv", "bytes-xlsx"]))
    if kind == "csv":
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-8", "gbk", "utf-16"]))
        return ".csv", csv_bytes(
            table, encoding=encoding, newline=draw(st.sampled_from(["\n", "\r\n", "\r"]))
        )
    if kind == "xlsx":
        return ".xlsx", xlsx_bytes(table)
    data = csv_bytes(table) if kind == "bytes-csv" else xlsx_bytes(table)
    damage = draw(st.sampled_from(["cut", "flip", "insert", "empty"]))
    # Where, as a share of the length: a workbook's size varies with the time it was written.
    at = draw(st.integers(0, 999)) * max(len(data) - 1, 0) // 999
    if damage == "cut":
        data = data[:at]
    elif damage == "flip" and data:
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif damage == "insert":
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    else:
        data = b""
    return (".csv" if kind == "bytes-csv" else ".xlsx"), data


# -- the command line on a database of its own ------------------------------------------------------


@dataclass
class CommandLine:
    """``python -m bot …`` in this process, on the database ``db`` reads."""

    db: SessionFactory
    url: str


@pytest.fixture(params=["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])])
def command_line(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[CommandLine]:
    """The command line's settings on a fresh SQLite file or PostgreSQL schema, one App for every call."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    for name in ("UNIONBOT_TELEGRAM_BOT_USERNAME", "UNIONBOT_TIMEZONE", "UNIONBOT_DEFAULT_LOCALE"):
        monkeypatch.delenv(name, raising=False)
    schema = None
    url = f"sqlite:///{tmp_path / 'unionbot.db'}"
    if request.param == "postgresql":
        assert TEST_DATABASE_URL
        schema = f"unionbot_fuzz_{uuid.uuid4().hex[:12]}"
        postgres_engine(TEST_DATABASE_URL, schema).dispose()
        url = f"{TEST_DATABASE_URL}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", url)
    apps: list[App] = []

    def one_app(settings: Settings) -> App:
        # Every call of main() would build an App, an engine and a pool: one is enough, and closed after.
        if not apps:
            apps.append(App(settings))
        return apps[0]

    monkeypatch.setattr("bot.cli.App", one_app)
    assert main(["db", "upgrade"]) == 0  # the schema, before anything is compared with it
    engine = make_engine(url)
    yield CommandLine(SessionFactory(engine), url)
    engine.dispose()
    for app in apps:
        if "engine" in app.__dict__:
            app.engine.dispose()
    if schema is not None:
        assert TEST_DATABASE_URL
        drop_postgres_schema(TEST_DATABASE_URL, schema)
