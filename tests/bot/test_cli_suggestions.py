"""``python -m bot suggestions export`` as the union office runs it, on a SQLite file of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook

from bot.cli import main
from models.db import SessionFactory, make_engine
from tests.models.suggestions.test_figures import HOSTILE_TITLE, build_union

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SessionFactory]:
    """The CLI's settings point at a fresh SQLite file, migrated and filled with the hand-computed union."""
    monkeypatch.chdir(tmp_path)  # no stray .env; the default output lands here
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'unionbot.db'}")
    monkeypatch.delenv("UNIONBOT_TIMEZONE", raising=False)
    monkeypatch.delenv("UNIONBOT_DEFAULT_LOCALE", raising=False)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'unionbot.db'}")
    factory = SessionFactory(engine)
    with factory() as session:
        build_union(session)
    yield factory
    engine.dispose()


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_export_writes_the_quarter(
    database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "reports" / "q4.xlsx"
    assert main(["suggestions", "export", "--quarter", "2026Q4", "--output", str(output)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"已写入 {output}",
        "厂工会，2026年第四季度：提出 7 条，采纳 3 条，实施 2 条，创效 1.55 万元。",
    ]
    book = load_workbook(output)
    summary = book["汇总"]
    assert summary["A1"].value == "厂工会 合理化建议统计（2026年第四季度）"
    assert [cell.value for cell in summary[7]][:3] == ["合计", 7, 8]
    assert summary["J7"].value == 4  # overdue as of the day the command ran
    register = book["明细"]
    assert register["D3"].value == HOSTILE_TITLE
    assert register["D3"].data_type == "s"
    assert register["E4"].value == "匿名"
    assert [row[2] for row in book["个人排行"].iter_rows(min_row=3, values_only=True)] == [
        "2001",
        "1001",
        "1003",
        "1004",
        "A1",
        "1002",
    ]


def test_export_of_a_workshop_and_a_month_to_the_default_name(
    database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["suggestions", "export", "--month", "2026年11月", "--unit", "厂工会/一车间"]) == 0
    path = tmp_path / "建议统计-2026-11.xlsx"
    assert f"已写入 {path.name}" in capsys.readouterr().out
    summary = load_workbook(path)["汇总"]
    assert summary["A1"].value == "厂工会/一车间 合理化建议统计（2026年11月）"
    assert [summary[f"A{row}"].value for row in range(3, 7)] == ["甲班", "乙班", "一车间（本级）", "合计"]


def test_a_wrong_quarter_is_one_clear_line(
    database: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["suggestions", "export", "--quarter", "2026Q5"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == ["季度只能是 1 到 4，例如 2026Q4。"]
    assert captured.out == ""


def test_exactly_one_period_is_asked_for(
    database: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["suggestions", "export", "--quarter", "2026Q4", "--year", "2026"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["suggestions", "export"])


def test_an_unknown_unit_is_named(
    database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["suggestions", "export", "--year", "2026", "--unit", "厂工会/五车间"]) == 1
    assert "找不到单位“厂工会/五车间”" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.xlsx"))
