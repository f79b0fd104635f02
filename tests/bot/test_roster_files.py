"""Roster files as the 厂工会 office makes them: Excel, WPS, GBK, BOMs, numbers in cells."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session

from bot.roster_files import UnsupportedFile, read_roster, write_roster
from models.errors import InvalidInput, NotFound
from models.members import MemberStatus
from models.roles import Role
from models.roster import RosterRow, import_roster, roster_records, validate_rows
from tests.factories import HOSTILE_NAME, make_member

CHINESE_CSV = (
    "工号,姓名,单位,手机,角色,月会费,状态\n1001,张三,厂工会/二车间/甲班,13800001234,职工代表,12.50,在册\n"
)
EXPECTED = RosterRow(
    line=2,
    employee_no="1001",
    name="张三",
    unit="厂工会/二车间/甲班",
    phone="13800001234",
    roles="职工代表",
    monthly_dues="12.50",
    status="在册",
)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_in_any_encoding_excel_writes_in_china(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "花名册.csv"
    path.write_bytes(CHINESE_CSV.replace("\n", "\r\n").encode(encoding))
    assert read_roster(path) == [EXPECTED]


def test_english_headers_in_any_case_and_spacing(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        " Employee_No ,NAME,Unit,Phone,Role,Monthly Dues,STATUS\n"
        "1001,张三,厂工会/二车间/甲班,13800001234,职工代表,12.50,在册\n",
        encoding="utf-8",
    )
    assert read_roster(path) == [EXPECTED]


@pytest.mark.parametrize("header", ["月会费", "月会费(元)", "月会费（元）", "月会费 (元)"])
def test_the_dues_header_may_name_its_unit(tmp_path: Path, header: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(f"工号,姓名,单位,{header}\n1001,张三,厂工会,12.5\n", encoding="utf-8")
    [row] = read_roster(path)
    assert row.monthly_dues == "12.5"


def test_columns_not_in_the_file_come_back_as_none_and_others_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("序号,姓名,性别,工号,单位\n1,张三,男,1001,厂工会\n", encoding="utf-8")
    [row] = read_roster(path)
    assert (row.employee_no, row.name, row.unit) == ("1001", "张三", "厂工会")
    assert (row.phone, row.roles, row.monthly_dues, row.status) == (None, None, None, None)


@pytest.mark.parametrize(
    ("header", "missing"), [("姓名,单位", "工号"), ("工号,单位,手机", "姓名"), ("工号,姓名", "单位")]
)
def test_a_missing_required_column_is_named(tmp_path: Path, header: str, missing: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(f"{header}\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_roster(path)
    assert caught.value.code == "roster.missing_column"
    assert caught.value.params["column"] == missing


def test_a_file_without_any_header_says_so(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("1001,张三,厂工会\n1002,李四,厂工会\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_roster(path)
    assert caught.value.code == "roster.missing_column"


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(InvalidInput) as caught:
        read_roster(path)
    assert caught.value.code == "roster.empty"


def test_blank_rows_are_skipped_and_lines_are_numbered_as_the_spreadsheet_shows(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("工号,姓名,单位\n1001,张三,厂工会\n\n,,\n1002,李四,厂工会\n", encoding="utf-8")
    assert [(row.line, row.employee_no) for row in read_roster(path)] == [(2, "1001"), (5, "1002")]


def test_semicolon_separated_csv(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("工号;姓名;单位;月会费\n1001;张三;厂工会;12,50\n", encoding="utf-8")
    [row] = read_roster(path)
    assert (row.employee_no, row.unit, row.monthly_dues) == ("1001", "厂工会", "12,50")


def test_xlsx_numbers_come_out_as_the_text_people_typed(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["某某厂工会会员花名册"])
    sheet.append([])
    sheet.append(["工号", "姓名", "单位", "手机", "月会费（元）", "角色"])
    sheet.append([1001, "张三", "厂工会/一车间", 13800001234, 12.5, None])
    sheet.append([None, None, None])
    sheet.append([1002.0, "李四", "厂工会/一车间", 13900005678.0, 30, "小组长"])
    sheet.append(["W-3", "王五", "厂工会", None, 0.35, ""])
    path = tmp_path / "花名册.xlsx"
    workbook.save(path)

    rows = read_roster(path)
    assert [(r.line, r.employee_no, r.phone, r.monthly_dues, r.roles) for r in rows] == [
        (4, "1001", "13800001234", "12.5", ""),
        (6, "1002", "13900005678", "30", "小组长"),
        (7, "W-3", "", "0.35", ""),
    ]
    entries, problems = validate_rows(rows)
    assert problems == []
    assert [entry.monthly_dues_fen for entry in entries] == [1250, 3000, 35]


def test_only_xlsx_and_csv_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "roster.xls"
    path.write_bytes(b"old excel")
    with pytest.raises(UnsupportedFile):
        read_roster(path)
    with pytest.raises(UnsupportedFile):
        write_roster(tmp_path / "roster.txt", [])


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_roster(tmp_path / "nowhere.xlsx")


def test_a_damaged_workbook_is_reported_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_text("工号,姓名,单位\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_roster(path)
    assert caught.value.code == "roster.file_unreadable"


def test_a_workbook_renamed_to_csv_is_reported_not_crashed_on(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    path = tmp_path / "roster.csv"
    workbook.save(path)
    with pytest.raises(InvalidInput) as caught:
        read_roster(path)
    assert caught.value.code in ("roster.file_unreadable", "roster.encoding", "roster.missing_column")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_export_imports_back_unchanged(session: Session, tmp_path: Path, suffix: str) -> None:
    make_member(
        session,
        employee_no="0012",
        name=HOSTILE_NAME,
        unit="厂工会/一车间",
        roles=[(Role.CHAIR, "厂工会/一车间"), (Role.REPRESENTATIVE, "厂工会/一车间"), (Role.ADMIN, "厂工会")],
        dues_fen=1250,
    )
    make_member(session, employee_no="1002", name="=SUM(A1:A2)", phone=None, dues_fen=0)
    make_member(session, employee_no="1003", name="-李四", unit="厂工会/运输大队/二班", phone="13900005678")
    records = roster_records(session)
    path = tmp_path / f"export{suffix}"

    assert write_roster(path, (record.to_row(n) for n, record in enumerate(records, start=2))) == 3
    rows = read_roster(path)
    assert rows == [record.to_row(n) for n, record in enumerate(records, start=2)]
    assert rows[0].employee_no == "0012"
    assert rows[0].roles == "工会主席、职工代表、管理员（厂工会）"  # every role shows, none is ended
    entries, problems = validate_rows(rows)
    assert problems == []
    result = import_roster(session, entries)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


def test_exported_xlsx_keeps_formula_like_names_as_text(session: Session, tmp_path: Path) -> None:
    make_member(session, employee_no="1001", name="=HYPERLINK(1)")
    path = tmp_path / "export.xlsx"
    write_roster(path, [record.to_row(2) for record in roster_records(session)])
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == [
        "工号",
        "姓名",
        "单位",
        "手机",
        "角色",
        "月会费（元）",
        "状态",
    ]
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].value == "=HYPERLINK(1)"
    workbook.close()


def test_exported_csv_opens_in_excel_as_utf8_with_formulas_defused(session: Session, tmp_path: Path) -> None:
    make_member(session, employee_no="1001", name="=HYPERLINK(1)")
    member = roster_records(session)[0]
    assert member.status is MemberStatus.ACTIVE
    path = tmp_path / "export.csv"
    write_roster(path, [member.to_row(2)])
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf\xe5\xb7\xa5\xe5\x8f\xb7")  # BOM, then 工号
    assert "'=HYPERLINK(1)" in data.decode("utf-8-sig")
    assert read_roster(path)[0].name == "=HYPERLINK(1)"
