"""An anonymous suggestion of a team of five, as the cadre meets it in every view, export and figure."""

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
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.roles import Role
from models.suggestions import (
    SuggestionDraft,
    SuggestionPolicy,
    decide_suggestion,
    first_review,
    register_suggestion,
    submit_suggestion,
)
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
POLICY = SuggestionPolicy()
TEAM = "厂工会/一车间/乙班"


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    return tmp_path / "exports"


def bot_with(
    db: SessionFactory,
    store: EphemeralStore,
    catalogues: Catalogues,
    exports: Path,
    policy: SuggestionPolicy = POLICY,
) -> Bot:
    config = CoreConfig(export_dir=exports, policies={SuggestionPolicy: policy})
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)


@pytest.fixture
def bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, exports: Path) -> Bot:
    return bot_with(db, store, catalogues, exports)


@pytest.fixture
def union(db: SessionFactory) -> Iterator[None]:
    """一车间 (22 members: its chair, 甲班 of 16, 乙班 of 5); 乙班's 赵磊 handed in an idea anonymously."""
    with time_machine.travel(NOW, tick=False):
        with db() as session:
            chair = make_member(
                session,
                employee_no="2001",
                name="李秀英",
                unit="厂工会/一车间",
                roles=[(Role.CHAIR, "厂工会/一车间")],
            )
            bind(session, chair, key="chair")
            team = [
                make_member(session, employee_no=f"220{n}", name=name, unit=TEAM)
                for n, name in enumerate(("赵磊", "周婷", "吴敏", "徐强", "孙丽娟"), start=1)
            ]
            for n in range(16):
                make_member(session, employee_no=f"21{n:02d}", name=f"甲班会员{n}", unit="厂工会/一车间/甲班")
            draft = SuggestionDraft(
                category="生活福利",
                title="夜班增加热饭窗口",
                measure="夜班职工凌晨只能吃凉饭。建议食堂夜里留一个窗口，提供热饭热汤。",
                anonymous=True,
            )
            idea = submit_suggestion(session, actor=team[0], draft=draft, policy=POLICY, now=NOW)
            idea = register_suggestion(
                session,
                actor=chair,
                suggestion_id=idea.id or 0,
                expected_version=idea.version,
                category="生活福利",
                department="后勤科",
                reviewer_id=None,
                policy=POLICY,
                now=NOW,
            )
            idea = first_review(
                session,
                actor=chair,
                suggestion_id=idea.id or 0,
                expected_version=idea.version,
                opinion="可行",
                now=NOW,
            )
            decide_suggestion(
                session,
                actor=chair,
                suggestion_id=idea.id or 0,
                expected_version=idea.version,
                adopted=True,
                reason="投入小，职工盼望。",
                policy=POLICY,
                now=NOW,
            )
        yield


def test_the_cadre_never_reads_the_team_of_five(bot: Bot, db: SessionFactory, union: None) -> None:
    """Issue 14, item 13: the view said 单位：厂工会/一车间/乙班, which nearly names the proposer."""
    with time_machine.travel(NOW, tick=False):
        chair = Chat(bot, key="chair")
        seen = [chair.send("建议办理")]
        seen.append(
            chair.send(
                "1",
                expect=["【JY-2026-", "夜班增加热饭窗口", "单位：厂工会/一车间", "提出人：匿名"],
                absent=["单位：厂工会/一车间/乙班"],
            )
        )

        seen.append(chair.send("建议统计"))
        seen.append(
            chair.send(
                "本季度",
                expect=[
                    "乙班：提出 0 条（每百人 0.0），采纳 0 条，实施 0 条",
                    "甲班：提出 0 条（每百人 0.0），采纳 0 条，实施 0 条",
                    "一车间（本级）：提出 1 条（每百人 100.0），采纳 1 条（100.0%）",
                    "合计：提出 1 条（每百人 4.5），采纳 1 条（100.0%）",
                ],
            )
        )
        chair.send("导出Excel")
        attachment = chair.last[-1].file
        assert attachment is not None
        book = load_workbook(attachment.path)
        [line] = [row for row in book["明细"].iter_rows(min_row=3, values_only=True) if row[0]]
        assert (line[1], line[4], line[5]) == ("厂工会/一车间", "匿名", None)
        summary = [row[:2] for row in book["汇总"].iter_rows(min_row=3, max_row=6, values_only=True)]
        assert summary == [("乙班", 0), ("甲班", 0), ("一车间（本级）", 1), ("合计", 1)]

        seen.append(chair.send("季度评比"))
        seen.append(chair.send("本季度", expect=["夜班增加热饭窗口", "一车间　匿名　"]))
        everything = "\n".join(seen)
        assert "乙班　" not in everything
        assert "赵磊" not in everything
        assert "2201" not in everything


def test_a_union_may_set_a_smaller_crowd(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, exports: Path, union: None
) -> None:
    bot = bot_with(db, store, catalogues, exports, SuggestionPolicy(anonymity_min_members=5))
    with time_machine.travel(NOW, tick=False):
        chair = Chat(bot, key="chair")
        chair.send("建议办理")
        chair.send("1", expect=["单位：厂工会/一车间/乙班", "提出人：匿名"], absent=["赵磊"])
