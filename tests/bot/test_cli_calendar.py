"""``python -m bot calendar …`` as an admin uses it in December, before the package knows the coming year."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from bot.cli import main
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import MemoryStore
from models.workdays import package_version, use_calendar_file
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat

# What an admin writes from the State Council's notice: New Year from Friday 1 to Sunday 3 January,
# part of the Spring Festival, and Sunday 14 February worked.
HOLIDAYS_2027 = """\
# 2027 年节假日安排（国务院办公厅通知）
date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-14,workday,春节调休
"""

Run = Callable[..., int]


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Run]:
    """``python -m bot calendar …`` in a folder of the test's own; the process's calendar reset after."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("UNIONBOT_DATA_DIR", "data")
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'unionbot.db'}")
    monkeypatch.delenv("UNIONBOT_HOLIDAYS_FILE", raising=False)

    def run(*argv: str | Path) -> int:
        return main(["calendar", *(str(arg) for arg in argv)])

    yield run
    use_calendar_file(None)


def holiday_file(tmp_path: Path, text: str, name: str = "2027年节假日.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_a_year_nobody_has_published_yet_says_how_days_are_counted(
    calendar: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calendar("show", "2027") == 0
    out = capsys.readouterr().out
    assert "2027 年还没有节假日安排，工作日暂按周一到周五计算。" in out
    assert "python -m bot calendar import 文件" in out


def test_the_coming_year_is_imported_and_shown_with_where_each_day_came_from(
    calendar: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calendar("import", holiday_file(tmp_path, HOLIDAYS_2027)) == 0
    out = capsys.readouterr().out
    assert "2027 年：放假 7 天，调休上班 1 天。" in out
    assert "已导入，保存在 data/holidays.csv。正在运行的工会助手半分钟内就会按它计算工作日，不用重启。" in out

    assert calendar("show", "2027") == 0
    out = capsys.readouterr().out
    assert "2027 年的节假日和调休上班日：" in out
    rows = [line for line in out.splitlines() if "2027-" in line]
    assert len(rows) == 3  # New Year, the Spring Festival days, the make-up Sunday
    assert "2027-01-01（周五） 至 2027-01-03（周日）" in rows[0]
    assert "放假" in rows[0]
    assert "元旦" in rows[0]
    for word in ("2027-02-14（周日）", "调休上班", "春节调休"):
        assert word in rows[2]
    assert all("导入的日历（data/holidays.csv）" in row for row in rows)
    assert "共放假 7 天，调休上班 1 天。" in out

    assert calendar("show", "2026") == 0
    out = capsys.readouterr().out
    assert "2026-10-01（周四） 至 2026-10-07（周三）" in out
    assert f"chinesecalendar {package_version()}" in out
    assert "导入的日历" not in out


def test_every_wrong_line_is_named_and_nothing_is_imported(
    calendar: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = HOLIDAYS_2027 + "2027-02-30,holiday,春节\n2027-02-10,workday,春节调休\n2027-10-01,放假啦,国庆节\n"
    assert calendar("import", holiday_file(tmp_path, wrong)) == 1
    err = capsys.readouterr().err
    assert "第 11 行：“2027-02-30”不是日期，请写成 2027-01-01 这样。" in err
    assert "第 12 行：2027-02-10 不是周末，本来就上班；workday 只用来写调休上班的周六、周日。" in err
    assert "第 13 行：类别“放假啦”不对：放假写 holiday，调休上班写 workday。" in err
    assert "有 3 行有误，没有导入任何日期。" in err
    assert not (tmp_path / "data" / "holidays.csv").exists()
    assert calendar("show", "2027") == 0
    assert "2027 年还没有节假日安排" in capsys.readouterr().out


def test_check_reads_the_file_and_imports_nothing(
    calendar: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calendar("import", holiday_file(tmp_path, HOLIDAYS_2027, encoding="gb18030"), "--check") == 0
    assert "文件没有问题，这次只检查、没有导入；去掉 --check 即可导入。" in capsys.readouterr().out
    assert not (tmp_path / "data" / "holidays.csv").exists()


def test_a_file_that_is_not_there_or_empty_is_said_plainly(
    calendar: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calendar("import", tmp_path / "missing.csv") == 1
    assert "找不到文件" in capsys.readouterr().err
    assert calendar("import", holiday_file(tmp_path, "date,kind,name\n# 还没写\n")) == 1
    assert "文件里没有日期" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        calendar("show", "明年")
    assert exited.value.code == 2
    assert "a year from 2000 to 2100" in capsys.readouterr().err


def test_importing_a_year_again_replaces_it_and_keeps_the_others(
    calendar: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calendar("import", holiday_file(tmp_path, HOLIDAYS_2027)) == 0
    assert calendar("import", holiday_file(tmp_path, "2028-01-01,holiday,元旦\n", name="2028.csv")) == 0
    corrected = HOLIDAYS_2027.replace("2027-02-14,workday,春节调休\n", "2027-02-20,workday,春节调休\n")
    assert calendar("import", holiday_file(tmp_path, corrected, name="更正.csv")) == 0
    capsys.readouterr()
    assert calendar("show", "2027") == 0
    out = capsys.readouterr().out
    assert "2027-02-20（周六）" in out
    assert "2027-02-14" not in out
    assert calendar("show", "2028") == 0
    assert "2028-01-01（周六）" in capsys.readouterr().out


def test_a_year_the_package_has_may_be_overridden_and_says_so(
    calendar: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert calendar("import", holiday_file(tmp_path, "2026-12-31,holiday,厂休\n", name="厂休.csv")) == 0
    assert "chinesecalendar 里也有 2026 年的安排，导入后以这份文件为准。" in capsys.readouterr().out
    assert calendar("show", "2026") == 0
    out = capsys.readouterr().out
    assert "2026-12-31（周四）" in out
    assert "厂休" in out
    assert "2026-10-01" not in out
    assert "chinesecalendar 里也有这一年的安排，以导入的为准。" in out


def test_a_hand_edited_calendar_that_went_wrong_is_reported_and_not_merged_into(
    calendar: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = tmp_path / "data" / "holidays.csv"
    stored.parent.mkdir()
    stored.write_text("2027-01-01,holiday,元旦\n2027-01-01,holiday,元旦\n", encoding="utf-8")
    assert calendar("import", holiday_file(tmp_path, HOLIDAYS_2027)) == 1
    err = capsys.readouterr().err
    assert "第 2 行：2027-01-01 与第 1 行重复。" in err
    assert "已有的日历文件 data/holidays.csv 有误，请改正或删除它后再导入。" in err
    assert calendar("show", "2027") == 0
    out, err = capsys.readouterr()
    assert "日历文件 data/holidays.csv 有误，工会助手没有用它；请改正后重新导入。" in err
    assert "2027 年还没有节假日安排" in out


# -- in conversation ---------------------------------------------------------------------------------

NEW_YEARS_EVE = datetime(2026, 12, 31, 1, 0, tzinfo=UTC)  # Thursday 31 December, 09:00 in Shanghai


def file_a_suggestion(chat: Chat, title: str) -> str:
    chat.send("提建议", expect="请选择建议类别")
    chat.send("安全生产")
    chat.send(title)
    chat.send("二号库房出口转弯处视线被货架挡住，叉车和行人容易相撞。")
    chat.send("减少碰撞隐患")
    chat.send("0")
    chat.send("跳过", expect="评审时是否显示您的姓名")
    chat.send("实名", expect="请核对您的建议")
    return chat.send("确认", expect="您的建议已提交")


def test_deadlines_count_the_imported_new_year_holiday(
    db: SessionFactory, calendar: Run, tmp_path: Path
) -> None:
    """The receipt's dates skip 1 January 2027 once the admin has imported the year, on either database."""
    with db() as session:
        member = make_member(session, employee_no="1001", name="李娜")
        bind(session, member, key="member")
    bot = Bot(
        sessions=db, store=MemoryStore(), catalogues=Catalogues(), config=CoreConfig(), registry=REGISTRY
    )
    chat = Chat(bot, key="member")
    with time_machine.travel(NEW_YEARS_EVE, tick=False):
        # Not yet imported: Friday 1 January counts, three working days end on Tuesday the 5th.
        assert "1月5日 前登记" in file_a_suggestion(chat, "叉车通道加装凸面镜")
        assert calendar("import", holiday_file(tmp_path, HOLIDAYS_2027)) == 0
        # Imported: New Year is off, so Monday 4, Tuesday 5, Wednesday 6.
        assert "1月6日 前登记" in file_a_suggestion(chat, "夜班增加热饭窗口")
