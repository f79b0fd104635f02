"""活动统计 in conversation: the table for a period, another period typed, the workbook."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from openpyxl import load_workbook

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from tests.handlers.activities.conftest import organise
from tests.handlers.activities.test_attendance import ON_THE_DAY, _code
from tests.handlers.conftest import Chat


def test_the_cadre_reads_the_participation_of_their_units_and_exports_it(
    db: SessionFactory,
    store: EphemeralStore,
    catalogues: Catalogues,
    union: None,
    clock: time_machine.Traveller,
    tmp_path: Path,
) -> None:
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(export_dir=tmp_path, dialog_timeout=timedelta(minutes=30)),
        registry=REGISTRY,
    )
    cadre = Chat(bot, key="cadre")
    organise(cadre, capacity="不限")
    cadre.send("确认")
    for key in ("member", "second"):
        chat = Chat(bot, key=key)
        chat.send("活动报名")
        chat.send("1")
        chat.send("报名", expect="报名成功")
    clock.move_to(ON_THE_DAY)
    cadre.send("我发起的活动")
    cadre.send("1")
    code = _code(cadre.press("签到码"))
    Chat(bot, key="member").send(f"/checkin {code}", expect="签到成功")
    cadre.send("活动统计", expect=["要看哪个时段", "本月", "今年"])
    cadre.send(
        "本月",
        expect=[
            "【活动统计】厂工会/一车间，2026年11月",
            "甲班：活动 1 个，报名 1 人次，到场 1 人次（100.0%），参与 1 人（每百人 50.0）",
            "乙班：活动 1 个，报名 1 人次，到场 0 人次（0.0%），参与 0 人（每百人 0.0）",
            "合计：活动 1 个，报名 2 人次，到场 1 人次（50.0%），参与 1 人（每百人 33.3）",
        ],
    )
    cadre.send(
        "2026-10", expect=["2026年10月", "合计：活动 0 个，报名 0 人次，到场 0 人次，参与 0 人（每百人 0.0）"]
    )
    cadre.send("2026-13", expect="月份只能是 1 到 12")
    cadre.press("导出Excel", expect="厂工会/一车间2026年10月的活动统计表")
    file = next(r.file for r in cadre.last if r.file is not None)
    assert file.name == "活动统计-2026-10.xlsx"
    sheet = load_workbook(file.path).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, values_only=False)]
    assert rows[0][:3] == ["单位", "活动（个）", "报名（人次）"]
    assert rows[-1][0] == "合计"


def test_members_are_not_offered_the_figures(bot: Bot, union: None) -> None:
    Chat(bot, key="member").send("活动统计", expect="抱歉")
