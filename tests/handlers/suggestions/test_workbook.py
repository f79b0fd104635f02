"""The figures workbook, opened with openpyxl as the union office's spreadsheet program would read it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from handlers.core.i18n import Catalogues
from handlers.suggestions.workbook import file_name, write_workbook
from models.errors import PermissionDenied
from models.suggestions.figures import System
from models.units import find_unit
from tests.models.suggestions.test_figures import HOSTILE_TITLE, POLICY, Q4, TODAY, build_union


def chinese(message: str) -> str:
    return message


def sheet_rows(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def workbook_path(session: Session, tmp_path: Path) -> Path:
    union = build_union(session)
    return write_workbook(
        session,
        actor=union.admin,
        period=Q4,
        unit_id=None,
        policy=POLICY,
        path=tmp_path / "out" / "建议统计-2026Q4.xlsx",
        today=TODAY,
        t=chinese,
    )


def test_the_summary_sheet_is_the_official_table(workbook_path: Path) -> None:
    book = load_workbook(workbook_path)
    assert book.sheetnames == ["汇总", "明细", "个人排行"]
    sheet = book["汇总"]
    assert sheet["A1"].value == "厂工会 合理化建议统计（2026年第四季度）"
    assert sheet["A1"].font.bold
    headers = sheet_rows(sheet)[1]
    assert headers == [
        "单位",
        "提出建议（条）",
        "会员人数",
        "每百人建议数",
        "采纳（条）",
        "采纳率",
        "实施（条）",
        "创效（元）",
        "平均答复天数",
        "超期（条）",
    ]
    assert all(cell.font.bold for cell in sheet[2])
    assert sheet.freeze_panes == "B3"
    rows = sheet_rows(sheet)[2:7]
    assert [row[0] for row in rows] == ["一车间", "二车间", "三车间", "厂工会（本级）", "合计"]
    total = sheet[7]
    assert [cell.value for cell in total] == [
        "合计",
        7,
        8,
        pytest.approx(87.5),
        3,
        pytest.approx(0.429),
        2,
        pytest.approx(15500),
        pytest.approx(7.0),
        4,
    ]
    assert total[0].font.bold
    assert total[5].number_format == "0.0%"
    assert total[7].number_format == "#,##0.00"
    assert sheet["D5"].value is None  # 三车间 has no members: no per-100 figure rather than a zero
    assert sheet.column_dimensions["A"].width >= 16
    assert any("截至 2026-11-23" in str(row[0]) for row in sheet_rows(sheet)[7:])


def test_the_register_lists_every_suggestion_and_hides_anonymous_proposers(workbook_path: Path) -> None:
    sheet = load_workbook(workbook_path)["明细"]
    rows = sheet_rows(sheet)
    assert rows[1][:6] == ["编号", "单位", "类别", "标题", "提出人", "工号"]
    lines = rows[2:]
    assert [line[0] for line in lines] == [f"JY-2026-0000{n:02d}" for n in (1, 2, 4, 5, 6, 7, 8, 10)]
    first = lines[0]
    assert first[1:6] == ["厂工会/一车间/甲班", "节能降耗", HOSTILE_TITLE, "张<b>三</b>", "1001"]
    assert first[6] == "已实施"
    assert (str(first[7]), str(first[8])) == ("2026-10-10 00:00:00", "2026-10-20 00:00:00")
    assert first[9:] == ["是", pytest.approx(12500), "金点子", pytest.approx(500)]
    anonymous = lines[1]
    assert anonymous[4:6] == ["匿名", None]
    assert "1001" not in [str(value) for value in anonymous]
    assert lines[3][6] == "已合并"
    assert lines[4][9] == "否"
    assert sheet["H3"].number_format == "yyyy-mm-dd"


def test_member_text_is_written_as_text_never_as_a_formula(workbook_path: Path) -> None:
    sheet = load_workbook(workbook_path)["明细"]
    cell = sheet["D3"]
    assert cell.value == HOSTILE_TITLE
    assert cell.data_type == "s"
    assert "<f>" not in _sheet_xml(workbook_path, "xl/worksheets/sheet2.xml")


def _sheet_xml(path: Path, member: str) -> str:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode("utf-8")


def test_the_ranking_names_no_anonymous_proposer(workbook_path: Path) -> None:
    rows = sheet_rows(load_workbook(workbook_path)["个人排行"])
    assert rows[1] == [
        "名次",
        "姓名",
        "工号",
        "单位",
        "提出建议（条）",
        "采纳（条）",
        "实施（条）",
        "创效（元）",
    ]
    assert [row[2] for row in rows[2:]] == ["2001", "1001", "1003", "1004", "A1", "1002"]
    assert rows[3][4:] == [1, 1, 1, pytest.approx(12500)]  # the anonymous one is not among 1001's


def test_headers_follow_the_readers_language(session: Session, tmp_path: Path) -> None:
    build_union(session)
    english = Catalogues().get("en")
    path = write_workbook(
        session,
        actor=System.COMMAND_LINE,
        period=Q4,
        unit_id=None,
        policy=POLICY,
        path=tmp_path / "figures.xlsx",
        today=TODAY,
        t=english,
    )
    book = load_workbook(path)
    assert "汇总" not in book.sheetnames
    assert file_name(english, Q4).endswith("-2026Q4.xlsx")
    assert not any("提出建议" in str(value) for value in sheet_rows(book.worksheets[0])[1])


def test_a_workbook_outside_the_cadres_subtree_is_not_written(session: Session, tmp_path: Path) -> None:
    union = build_union(session)
    path = tmp_path / "x.xlsx"
    with pytest.raises(PermissionDenied):
        write_workbook(
            session,
            actor=union.chair,
            period=Q4,
            unit_id=find_unit(session, "厂工会/二车间").id,
            policy=POLICY,
            path=path,
            today=TODAY,
            t=chinese,
        )
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_totals_are_exact_yuan(workbook_path: Path) -> None:
    sheet = load_workbook(workbook_path)["汇总"]
    assert Decimal(str(sheet["H3"].value)) == Decimal("15500")
