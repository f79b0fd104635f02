"""``python -m bot dues import`` and ``dues rate`` as the union office uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from openpyxl import Workbook
from sqlmodel import col, select

from bot.cli import main
from models.db import SessionFactory
from models.dues.tables import DuesEntry, DuesMonth, DuesRate
from models.members import Member
from tests.bot.test_cli_members import database  # noqa: F401 - the CLI's own database, per dialect
from tests.models.dues.union import NOW

ROSTER = (
    "工号,姓名,单位,手机,角色,月会费,状态\n"
    "1001,张三,厂工会/一车间/甲班,13801012345,,25,在册\n"
    "1002,陈静,厂工会/一车间/甲班,13601137720,,20,在册\n"
    "1003,杨帆,厂工会/一车间/乙班,13957462108,,30,在册\n"
)
GOOD = "工号,姓名,月份,金额\n1001,张三,2026-11,25\n1002,陈静,2026-11,20.00\n1001,张三,2026-12,25\n"


@pytest.fixture
def office(database: SessionFactory, tmp_path: Path) -> SessionFactory:  # noqa: F811
    roster = tmp_path / "花名册.csv"
    roster.write_text(ROSTER, encoding="utf-8-sig")
    assert main(["members", "import", str(roster)]) == 0
    return database


def dues(*argv: str | Path) -> int:
    with time_machine.travel(NOW, tick=False):
        return main(["dues", *(str(arg) for arg in argv)])


def entries(db: SessionFactory) -> list[tuple[str, int, int]]:
    with db() as session:
        rows = session.execute(
            sa.select(col(Member.employee_no), col(DuesEntry.month), col(DuesEntry.amount_fen))
            .join(Member, col(Member.id) == col(DuesEntry.member_id))
            .order_by(col(DuesEntry.id))
        ).all()
    return [(no, month, amount) for no, month, amount in rows]


def test_a_payroll_file_is_recorded_and_a_second_import_records_nothing(
    office: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "代扣.csv"
    path.write_text(GOOD, encoding="utf-8-sig")
    capsys.readouterr()
    assert dues("import", path) == 0
    assert "导入完成：记录 3 笔，共 70.00 元；已在账上而跳过 0 笔。" in capsys.readouterr().out
    assert entries(office) == [("1001", 202611, 2500), ("1002", 202611, 2000), ("1001", 202612, 2500)]
    assert dues("import", path) == 0
    assert "记录 0 笔" in capsys.readouterr().out
    assert len(entries(office)) == 3
    with office() as session:
        owing = session.exec(select(DuesMonth).where(DuesMonth.owing)).all()
        assert owing == []


def test_bad_rows_are_each_named_and_nothing_is_written(
    office: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "代扣.csv"
    path.write_text(
        GOOD
        + "9999,无名,2026-11,25\n"  # line 5: not on the roster
        + "1003,杨帆,2026-13,30\n"  # line 6: no such month
        + "1003,杨帆,2026-11,abc\n"  # line 7: not an amount
        + "1002,陈静,2026-11,20\n"  # line 8: repeats line 3
        + "1003,李四,2026-10,30\n"  # line 9: the roster says 杨帆
        + "1003,杨帆,2026-12,35\n",  # line 10: 30.00 is due
        encoding="utf-8-sig",
    )
    capsys.readouterr()
    assert dues("import", path) == 1
    err = capsys.readouterr().err
    assert "第 5 行：花名册里没有工号 9999。" in err
    assert "第 6 行：没看懂这个月份" in err
    assert "第 7 行：金额应为数字，例如 25.00。" in err
    assert "第 8 行：与第 3 行重复" in err
    assert "第 9 行：工号 1003 在花名册里是杨帆，不是“李四”。" in err
    assert "第 10 行：2026-12 还应缴 30.00 元" in err
    assert "有 6 行数据有误，没有记录任何会费。" in err
    assert entries(office) == []
    with office() as session:
        assert session.exec(select(sa.func.count()).select_from(DuesMonth)).one() == 0


def test_gbk_csv_with_a_title_row_is_read(office: SessionFactory, tmp_path: Path) -> None:
    path = tmp_path / "代扣.csv"
    path.write_bytes(
        ("某某厂2026年11月工会会费代扣表\n" + "工号,扣款月份,代扣会费\n1003,2026年11月,30\n").encode("gbk")
    )
    assert dues("import", path) == 0
    assert entries(office) == [("1003", 202611, 3000)]


def test_an_xlsx_with_numbers_for_cells_is_read(office: SessionFactory, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["工号", "月份", "金额"])
    sheet.append([1002, "2026-12", 20.0])
    path = tmp_path / "代扣.xlsx"
    workbook.save(path)
    assert dues("import", path) == 0
    assert entries(office) == [("1002", 202612, 2000)]


def test_a_file_without_a_month_column_or_of_another_kind_is_refused(
    office: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "代扣.csv"
    path.write_text("工号,金额\n1001,25\n", encoding="utf-8")
    assert dues("import", path) == 1
    assert "表头缺少“月份”列" in capsys.readouterr().err
    assert dues("import", tmp_path / "代扣.xls") == 2


def test_a_rate_changes_from_a_month_on(office: SessionFactory, capsys: pytest.CaptureFixture[str]) -> None:
    assert dues("rate", "1001", "2027-01", "30") == 0
    assert "张三（工号 1001）自 2027-01 起月会费为 30.00 元。" in capsys.readouterr().out
    with office() as session:
        [rate] = session.exec(select(DuesRate)).all()
        assert (rate.from_month, rate.amount_fen, rate.set_by_id) == (202701, 3000, None)
