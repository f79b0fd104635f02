"""会费统计 in conversation: the month's rates by unit, who owes, and the workbook."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from handlers.core.router import Bot
from handlers.dues.workbook import MIME_TYPE
from models.db import SessionFactory
from tests.handlers.dues.conftest import bound
from tests.models.dues.test_figures import paid_union


def test_a_chair_reads_the_rates_and_takes_the_workbook(db: SessionFactory, bot: Bot, exports: Path) -> None:
    with db() as session:
        paid_union(session)
    chair = bound(bot, "C0")
    chair.send("会费统计", expect=["要看哪个月？", "1. 本月", "2. 上月"])
    chair.send(
        "本月",
        expect=[
            "【会费统计】厂工会，2026-12",
            "一车间：收缴率 50.0%（应缴 4，已缴 2），欠缴 55.00 元",
            "二车间：收缴率 0.0%（应缴 1，已缴 0），欠缴 25.00 元",
            "合计：收缴率 40.0%（应缴 5，已缴 2），欠缴 80.00 元",
            "截至 2026-12 欠缴会员 3 人，共 110.00 元：",
            "杨帆（1003，厂工会/一车间/甲班）：2026-11、2026-12，共 60.00 元",
            "需要导出Excel，或换个月份看看吗？",
        ],
    )
    chair.send("2026-11", expect=["【会费统计】厂工会，2026-11", "合计：收缴率 80.0%（应缴 5，已缴 4）"])
    chair.send("导出Excel", expect="厂工会截至 2026-11 的会费统计表")
    [reply] = [reply for reply in chair.last if reply.file is not None]
    assert reply.file is not None
    assert reply.file.mime_type == MIME_TYPE
    assert reply.file.name == "会费统计-2026-11.xlsx"
    assert Path(reply.file.path).parent == exports
    workbook = load_workbook(reply.file.path)
    rates, owing = workbook["收缴率"], workbook["欠缴明细"]
    header = [cell.value for cell in rates[1]]
    assert header[0] == "单位"
    assert header[-2:] == ["2026-11", "合计"]
    assert header[1] == "2025-12"
    rows = {row[0]: row for row in rates.iter_rows(min_row=2, values_only=True)}
    assert rows["厂工会/一车间"][-2] == 0.75
    assert rows["合计"][-1] == 0.8
    assert [row for row in owing.iter_rows(min_row=2, values_only=True)] == [
        ("1003", "杨帆", "厂工会/一车间/甲班", "2026-11", 30.0)
    ]


def test_a_collector_sees_only_their_unit(db: SessionFactory, bot: Bot) -> None:
    with db() as session:
        paid_union(session)
    collector = bound(bot, "T1")
    seen = collector.send("会费统计")
    collector.send(
        "上月", expect=["【会费统计】厂工会/一车间/甲班，2026-11", "合计：收缴率 66.7%（应缴 3，已缴 2）"]
    )
    assert "要看哪个单位" not in seen
