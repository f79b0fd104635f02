"""The paged list, through a list declared only for this test: the union's members by 工号, five to a page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from sqlmodel import col, func, select

from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import Data, Option
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import Reply
from handlers.core.module import Module
from handlers.core.paging import Page, PagedList, page_of, page_value, paged_flow, turned_to
from handlers.core.router import Bot
from handlers.modules import registry
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.members import Member
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat


@dataclass(frozen=True)
class MemberList(PagedList[Member]):
    """The members whose 工号 starts with the list's ``prefix``, in 工号 order."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[Member], int]:
        matching = col(Member.employee_no).startswith(data["prefix"])
        total = ctx.session.exec(select(func.count()).select_from(Member).where(matching)).one()
        query = select(Member).where(matching).order_by(col(Member.employee_no)).offset(offset).limit(limit)
        return ctx.session.exec(query).all(), total

    def item(self, ctx: Context, item: Member) -> Option:
        return Option(f"m:{item.id}", item.name, literal=True)

    def text(self, ctx: Context, data: Data, page: Page[Member]) -> str:
        return f"名单（第 {page.number}/{page.pages} 页，共 {page.total} 人）"


def _picked(ctx: Context, data: Data) -> list[Reply]:
    kind, _, value = str(data["pick"]).partition(":")
    if kind == "done":
        return [Reply("看完了")]
    member = ctx.session.get(Member, int(value))
    assert member is not None
    return [Reply(f"选中：{member.name}（第 {data['page']} 页）")]


MEMBER_LIST = paged_flow(
    name="member_list",
    steps=(MemberList("pick", "请选择", options=(Option("done", "看完了", literal=True),)),),
    on_pick=_picked,
    browse=True,
)


def _open(ctx: Context, arg: str) -> list[Reply]:
    """``/list [prefix] [page]``: the list of 工号 starting with ``prefix``, opened at ``page``."""
    prefix, _, page = arg.partition(" ")
    return ctx.dialogs.start(ctx, MEMBER_LIST, data={"prefix": prefix or "1", "page": int(page or 1)})


LIST_FEATURE = Feature(name="member_list", label="名单", summary="测试", words=("/list", "名单"), run=_open)


@pytest.fixture
def chat(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Chat:
    """Twelve members, 1001 to 1012, named 会员01 to 会员12; the first one is chatting."""
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(),
        registry=registry(Module(name="test", features=(LIST_FEATURE,), flows=(MEMBER_LIST,))),
    )
    with db() as session:
        members = [make_member(session, employee_no=f"{1000 + n}", name=f"会员{n:02}") for n in range(1, 13)]
        bind(session, members[0], key="u1")
        session.commit()
    return Chat(bot)


def names(first: int, last: int) -> list[str]:
    return [f"会员{n:02}" for n in range(first, last + 1)]


def test_paging_forward_and_back_by_button_and_by_word(chat: Chat) -> None:
    chat.send("名单", expect="名单（第 1/3 页，共 12 人）")
    assert chat.buttons() == [*names(1, 5), "下一页", "看完了"]
    chat.press("下一页", expect="名单（第 2/3 页，共 12 人）")
    assert chat.buttons() == [*names(6, 10), "上一页", "下一页", "看完了"]
    chat.send("下一页", expect="名单（第 3/3 页，共 12 人）")
    assert chat.buttons() == [*names(11, 12), "上一页", "看完了"]
    chat.press("上一页", expect="名单（第 2/3 页")
    chat.send("previous", expect="名单（第 1/3 页")  # the words typed in any language turn it too
    chat.send("next", expect="名单（第 2/3 页")
    chat.send("2", expect="选中：会员07（第 2 页）")  # a number picks from the page shown


def test_the_ends_are_said_as_such_and_the_page_stays(chat: Chat) -> None:
    chat.send("名单")
    chat.send("上一页", expect=["已经是第一页了。", "名单（第 1/3 页"])
    chat.send("下一页")
    chat.send("下一页")
    chat.send("下一页", expect=["已经是最后一页了。", "名单（第 3/3 页"])
    chat.send("9", expect=["没有这个选项，请回复 1 到 4 之间的数字。", "名单（第 3/3 页"])
    chat.send("/list 101", expect="名单（第 1/1 页，共 3 人）")  # 1010 to 1012: one page, no page links
    assert chat.buttons() == [*names(10, 12), "看完了"]
    chat.send("下一页", expect="已经是最后一页了。")
    chat.send("上一页", expect="已经是第一页了。")


def test_turning_a_page_keeps_what_the_list_was_opened_with(chat: Chat) -> None:
    chat.send("/list 100", expect="名单（第 1/2 页，共 9 人）")  # 1001 to 1009
    chat.press("下一页", expect="名单（第 2/2 页，共 9 人）")
    assert chat.buttons() == [*names(6, 9), "上一页", "看完了"]


def test_a_page_past_the_end_shows_the_last_one(chat: Chat) -> None:
    chat.send("/list 1 7", expect="名单（第 3/3 页，共 12 人）")
    chat.send("1", expect="选中：会员11")
    chat.send("/list 1 0", expect="名单（第 1/3 页")


def test_an_empty_list_is_one_empty_page(chat: Chat) -> None:
    chat.send("/list 9", expect="名单（第 1/1 页，共 0 人）")
    assert chat.buttons() == ["看完了"]
    chat.send("下一页", expect=["已经是最后一页了。", "名单（第 1/1 页"])
    chat.send("1", expect="看完了")


def test_a_list_held_whole_is_paged_the_same_way() -> None:
    items = list(range(1, 8))
    assert page_of(items, {}, 3) == Page([1, 2, 3], 1, 7, 3)
    assert page_of(items, {"page": 3}, 3).items == [7]
    assert page_of(items, {"page": 5}, 3) == Page([7], 3, 7, 3)  # past the end: the last page
    assert page_of([], {"page": 2}, 3) == Page([], 1, 0, 3)
    assert page_of([], {}, 3).pages == 1
    assert turned_to(page_value(4)) == 4
    assert turned_to("n:4") is None
