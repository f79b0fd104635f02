"""建议统计 in conversation: a cadre picks a period, reads the figures, and takes the workbook away."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.core.workbook import MIME_TYPE
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.suggestions import SuggestionPolicy
from tests.factories import bind
from tests.handlers.conftest import Chat
from tests.models.suggestions.test_figures import POLICY, build_union

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, a Monday

Q4_LINES = (
    "【建议统计】厂工会，2026年第四季度",
    "一车间：提出 4 条（每百人 100.0），采纳 3 条（75.0%）"
    "，实施 2 条，创效 1.55 万元，平均 5.5 天答复，超期 2 条",
    "二车间：提出 2 条（每百人 66.7），采纳 0 条（0.0%），实施 0 条，创效 0 元，平均 10.0 天答复，超期 1 条",
    "三车间：提出 0 条，采纳 0 条，实施 0 条，创效 0 元，暂无答复，超期 0 条",
    "厂工会（本级）：提出 1 条（每百人 100.0），采纳 0 条（0.0%）",
    "合计：提出 7 条（每百人 87.5），采纳 3 条（42.9%）"
    "，实施 2 条，创效 1.55 万元，平均 7.0 天答复，超期 4 条",
    "个人排行（不含匿名建议）：",
    "1. 钱七（厂工会/二车间）：提出 2 条，采纳 0 条",
    # 1001 handed in two; the anonymous one counts for 一车间 above, never for them here.
    "2. 张<b>三</b>（厂工会/一车间/甲班）：提出 1 条，采纳 1 条",
    "超期条数截至 2026-11-23",
)


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, exports: Path) -> Bot:
    return Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(export_dir=exports, policies={SuggestionPolicy: POLICY}),
        registry=REGISTRY,
    )


@pytest.fixture
def union(db: SessionFactory) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        with db() as session:
            people = build_union(session)
            bind(session, people.admin, key="admin")
            bind(session, people.chair, key="chair")
            bind(session, people.members["1001"], key="member")
        yield


def test_a_cadre_reads_the_quarter_and_exports_it(bot: Bot, union: None, exports: Path) -> None:
    admin = Chat(bot, key="admin")
    admin.send("建议统计", expect=["要看哪个时段", "2026Q3（季度）", "2026-11（月份）"])
    assert admin.buttons() == ["本月", "本季度", "上季度", "今年"]
    admin.press("本季度", expect=[*Q4_LINES, "导出Excel", "换个时段"])

    admin.press("导出Excel", expect="厂工会2026年第四季度的建议统计表")
    attachment = admin.last[-1].file
    assert attachment is not None
    assert (attachment.name, attachment.mime_type) == ("建议统计-2026Q4.xlsx", MIME_TYPE)
    path = Path(attachment.path)
    assert path.parent == exports
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "明细", "个人排行"]
    assert book["汇总"]["A1"].value == "厂工会 合理化建议统计（2026年第四季度）"
    assert book["明细"]["E4"].value == "匿名"


def test_each_export_is_a_fresh_file(bot: Bot, union: None, exports: Path) -> None:
    admin = Chat(bot, key="admin")
    paths = []
    for _ in range(2):
        admin.send("/stats 2026Q4", expect=Q4_LINES[0])
        admin.send("导出Excel")
        file = admin.last[-1].file
        assert file is not None
        paths.append(file.path)
    assert len(set(paths)) == 2
    assert sorted(p.name for p in exports.iterdir()) == sorted(Path(p).name for p in paths)


def test_a_period_can_be_typed_and_a_wrong_one_is_explained(bot: Bot, union: None) -> None:
    admin = Chat(bot, key="admin")
    admin.send("统计", expect="要看哪个时段")
    admin.send("2026Q5", expect=["季度只能是 1 到 4，例如 2026Q4。", "要看哪个时段"])
    admin.send("去年冬天", expect=["没看懂这个时段。请选择上面的一项，或按“2026Q3”“2026-11”的样子输入。"])
    admin.send("9", expect="没有这个选项")
    admin.send("２０２６年第四季度", expect=Q4_LINES)
    admin.send(
        "2026年11月",
        expect=["【建议统计】厂工会，2026年11月", "合计：提出 2 条（每百人 25.0），采纳 1 条（50.0%）"],
    )
    admin.press("换个时段", expect="要看哪个时段")
    admin.press(
        "上季度",
        expect=[
            "【建议统计】厂工会，2026年第三季度",
            "合计：提出 1 条（每百人 12.5），采纳 1 条（100.0%），实施 0 条",
        ],
    )


def test_a_workshop_chair_sees_only_their_workshop(bot: Bot, union: None) -> None:
    chair = Chat(bot, key="chair")
    chair.send(
        "/stats 2026Q4",
        expect=["【建议统计】厂工会/一车间", "甲班：提出 3 条（每百人 150.0）", "乙班：提出 1 条"],
        absent=["二车间"],
    )


def test_a_member_who_reviews_nothing_is_not_offered_the_figures(bot: Bot, union: None) -> None:
    member = Chat(bot, key="member")
    member.send("菜单", absent=["建议统计"])
    member.send("建议统计", expect="抱歉，您没有使用这项功能的权限。")
    admin = Chat(bot, key="admin")
    assert "建议统计" in admin.menu()


def test_cancel_leaves_the_figures(bot: Bot, union: None) -> None:
    admin = Chat(bot, key="admin")
    admin.send("建议统计", expect="要看哪个时段")
    admin.send("取消", expect="已取消")


def test_numbers_still_choose_the_buttons(bot: Bot, union: None) -> None:
    admin = Chat(bot, key="admin")
    admin.send("建议统计", expect="要看哪个时段")
    admin.send("5", expect="没有这个选项，请回复 1 到 4 之间的数字。")
    admin.send("2", expect=Q4_LINES)
    admin.send("1", expect="建议统计表")
    assert admin.last[-1].file is not None
