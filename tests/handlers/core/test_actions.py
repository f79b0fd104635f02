"""A versioned step as a conversation, on a kind of case declared only for this test.

The cases live in a dictionary: the core knows no feature's tables, only the
refusal the feature's model raises when someone acted first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from handlers.core.actions import ID, Seen, VersionedActions, stale, view_data
from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import Ask, Choose, Confirm, Data, Flow, Option, YesNo
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import Reply
from handlers.core.module import Module
from handlers.core.router import Bot
from handlers.modules import registry
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.errors import DomainError
from tests.factories import make_member
from tests.handlers.conftest import Chat


@dataclass
class Case:
    id: int
    version: int = 1
    notes: list[str] = field(default_factory=list)
    closed: bool = False


class Taken(DomainError):
    """Someone acted on the case since the cadre opened it."""


CASES: dict[int, Case] = {}


def _seen_case(seen: Seen) -> Case:
    case = CASES[seen.id]
    if case.version != seen.version:
        raise Taken("case.taken", "同事刚处理过（现在是第 {version} 版）", version=case.version)
    return case


def _note(ctx: Context, data: Data, seen: Seen) -> Case:
    case = _seen_case(seen)
    case.notes.append(data["note"])
    case.version += 1
    return case


def _close(ctx: Context, data: Data, seen: Seen) -> Case:
    case = _seen_case(seen)
    case.closed = True
    case.version += 1
    return case


def _show(ctx: Context, data: Data, intro: Sequence[Reply]) -> list[Reply]:
    case = CASES[int(data[ID])]
    shown = [*intro, Reply(f"案件 {case.id}：第 {case.version} 版")]
    return ctx.dialogs.start(
        ctx, VIEW, data={"page": data.get("page"), **view_data(case.id, case.version)}, intro=shown
    )


def _list(ctx: Context, data: Data, intro: Sequence[Reply]) -> list[Reply]:
    return [*intro, Reply(f"案件列表第 {data.get('page')} 页")]


CASE_STEPS = VersionedActions[Case](
    conflict=Taken,
    reopen=_show,
    leave=_list,
    finished=lambda case: case.closed,
    heading=lambda ctx, data: f"【案件 {data[ID]}】",
    keep=("page",),
)

NOTE = CASE_STEPS.flow(
    "case_note",
    asks=(Ask("note", "请写下处理意见"),),
    confirm=Confirm(summary=CASE_STEPS.summary("请核对：", lambda ctx, data: [f"意见：{data['note']}"])),
    act=_note,
    said=lambda ctx, data, case: f"已记录，现在是第 {case.version} 版",
)
CLOSE = CASE_STEPS.flow(
    "case_close",
    confirm=YesNo("sure", "确定结案吗？"),
    act=_close,
    said=lambda ctx, data, case: f"案件 {case.id} 已结案",
    declined="好的，暂不结案",
)
FORMS = {"note": NOTE, "close": CLOSE}


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    if stale(data, CASES[int(data[ID])].version):
        return _show(ctx, data, [Reply("案件已变化")])
    return CASE_STEPS.start(ctx, FORMS[data["step"]], data)


VIEW = Flow(
    name="case_view",
    steps=(Choose("step", "请选择", options=(Option("note", "写意见"), Option("close", "结案"))),),
    on_done=_chosen,
)

CASE_FEATURE = Feature(
    name="case",
    label="测试案件",
    summary="测试",
    words=("/case", "案件"),
    run=lambda ctx, arg: _show(ctx, {ID: 1, "page": 3}, ()),
)


@pytest.fixture
def cadre(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Chat:
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(),
        registry=registry(Module(name="test", features=(CASE_FEATURE,), flows=(VIEW, NOTE, CLOSE))),
    )
    with db() as session:
        make_member(session)
    chat = Chat(bot)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234", expect="绑定成功")
    CASES.clear()
    CASES[1] = Case(1)
    return chat


def test_a_step_asks_then_confirms_a_summary_then_writes_and_shows_the_case_again(cadre: Chat) -> None:
    cadre.send("案件", expect="案件 1：第 1 版")
    cadre.press("写意见", expect="请写下处理意见")
    cadre.send("同意", expect=["请核对：\n【案件 1】\n意见：同意", "1. 确认"])
    cadre.press("确认", expect=["已记录，现在是第 2 版", "案件 1：第 2 版", "请选择"])
    assert CASES[1].notes == ["同意"]


def test_a_colleagues_step_in_between_is_reported_and_the_case_shown_as_it_now_stands(cadre: Chat) -> None:
    cadre.send("案件")
    cadre.press("写意见")
    cadre.send("同意")
    CASES[1].version = 2  # a colleague acted while the summary was on screen
    cadre.press("确认", expect=["同事刚处理过（现在是第 2 版）", "案件 1：第 2 版", "请选择"])
    assert CASES[1].notes == []


def test_cancelling_a_step_goes_back_to_the_case_and_writes_nothing(cadre: Chat) -> None:
    cadre.send("案件")
    cadre.press("写意见")
    cadre.send("取消", expect=["已取消。", "案件 1：第 1 版", "请选择"])
    cadre.press("结案", expect="确定结案吗？")
    cadre.press("否", expect=["好的，暂不结案", "案件 1：第 1 版"])
    assert CASES[1] == Case(1)


def test_a_step_that_finishes_the_case_leaves_for_the_list_it_was_opened_from(cadre: Chat) -> None:
    cadre.send("案件")
    cadre.press("结案")
    cadre.press("是", expect=["案件 1 已结案", "案件列表第 3 页"], absent=["请选择"])
    assert CASES[1].closed


def test_a_yes_no_confirmation_needs_words_for_its_no() -> None:
    with pytest.raises(ValueError, match="case_reopen"):
        CASE_STEPS.flow(
            "case_reopen", confirm=YesNo("sure", "确定吗？"), act=_close, said=lambda c, d, case: ""
        )
