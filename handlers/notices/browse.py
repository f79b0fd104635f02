"""通知公告, 厂务公开, 会费使用公开: members read what was addressed to them, newest first.

Each heading is a list of its own, a page at a time, with the other headings
that hold something one tap away. Opening a notice, or 已阅 under a pushed one,
records that the member read it; the author's report counts it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handlers.core.context import Context
from handlers.core.dialogs import Data, Option
from handlers.core.features import Feature
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.paging import Page, PagedList, paged_flow
from handlers.core.parsing import parse_id
from handlers.notices.render import READ_FEATURE, full_notice, list_label
from models.errors import N_
from models.members import Member
from models.notices import (
    CATEGORY_LABELS,
    Notice,
    NoticeCategory,
    category_counts,
    list_notices,
    mark_notice_read,
    read_notice,
)


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _other_headings(ctx: Context, data: Data) -> Sequence[Option]:
    """The other headings that hold something for the member, after the page."""
    category = NoticeCategory(data["category"])
    counts = category_counts(ctx.session, member=_actor(ctx), now=ctx.now)
    return [
        Option(f"c:{other.value}", CATEGORY_LABELS[other])
        for other in NoticeCategory
        if other is not category and counts.get(other)
    ]


@dataclass(frozen=True)
class BrowseStep(PagedList[Notice]):
    """One page of a heading: the notices as numbered choices, then the pages and the other headings."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[Notice], int]:
        category = NoticeCategory(data["category"])
        return list_notices(
            ctx.session, member=_actor(ctx), category=category, now=ctx.now, offset=offset, limit=limit
        )

    def item(self, ctx: Context, item: Notice) -> Option:
        return Option(f"n:{item.id}", list_label(ctx, item), literal=True)

    def text(self, ctx: Context, data: Data, page: Page[Notice]) -> str:
        heading = ctx.t(CATEGORY_LABELS[NoticeCategory(data["category"])])
        if page.total == 0:
            return ctx.t("“{heading}”里还没有内容。").format(heading=heading)
        return ctx.t("{heading}（第 {page}/{pages} 页，共 {count} 条），请选择要查看的一条：").format(
            heading=heading, page=page.number, pages=page.pages, count=page.total
        )


def _browsed(ctx: Context, data: Data) -> list[Reply]:
    choice: str = data["pick"]
    kind, _, value = choice.partition(":")
    if kind == "c":
        return open_heading(ctx, NoticeCategory(value))
    notice = read_notice(ctx.session, member=_actor(ctx), notice_id=int(value), now=ctx.now)
    assert notice.id is not None
    mark_notice_read(ctx.session, member=_actor(ctx), notice_id=notice.id, now=ctx.now)
    shown = full_notice(ctx.session, ctx.t, notice, zone=ctx.config.timezone)
    again = {"category": data["category"], "page": data.get("page", 1)}
    return ctx.dialogs.start(ctx, BROWSE_NOTICES, data=again, intro=[shown])


BROWSE_NOTICES = paged_flow(
    name="notices",
    steps=(BrowseStep("pick", N_("请选择要查看的一条："), options=_other_headings),),
    on_pick=_browsed,
    quiet_timeout=True,
    browse=True,
)


def open_heading(ctx: Context, category: NoticeCategory) -> list[Reply]:
    """The first page of a heading, or a kind word when nothing was ever addressed to the member."""
    if not category_counts(ctx.session, member=_actor(ctx), now=ctx.now):
        return show_menu(ctx, intro=[Reply(ctx.t("目前还没有发给您的通知。有新通知时会第一时间告诉您。"))])
    return ctx.dialogs.start(ctx, BROWSE_NOTICES, data={"category": category.value, "page": 1})


def _heading(category: NoticeCategory) -> Callable[[Context, str], list[Reply]]:
    def run(ctx: Context, arg: str) -> list[Reply]:
        return open_heading(ctx, category)

    return run


def _read(ctx: Context, arg: str) -> list[Reply]:
    notice_id = parse_id(arg)
    if notice_id is None:
        return [Reply(ctx.t("这个按钮已经失效了，请按下面的提示操作。"))]
    mark_notice_read(ctx.session, member=_actor(ctx), notice_id=notice_id, now=ctx.now)
    return [Reply(ctx.t("已收到您的确认，谢谢！"))]


BROWSE = Feature(
    name="notices",
    rank=40,
    label=N_("通知公告"),
    summary=N_("查看发给您的通知，以及厂务公开、会费使用公开"),
    words=("/notices", "通知", "通知公告", "公告", "notices", "notice"),
    run=_heading(NoticeCategory.NOTICE),
)
FACTORY_AFFAIRS = Feature(
    name="factory_affairs",
    rank=190,
    label=N_("厂务公开"),
    summary=N_("查看厂务公开的内容"),
    words=("/affairs", "厂务公开", "廠務公開", "公开", "公開", "affairs"),
    run=_heading(NoticeCategory.FACTORY_AFFAIRS),
    in_menu=False,
)
DUES_USE = Feature(
    name="dues_use",
    rank=200,
    label=N_("会费使用公开"),
    summary=N_("查看会费使用情况的公开"),
    words=("/dues_use", "会费使用公开", "會費使用公開", "会费公开", "會費公開"),
    run=_heading(NoticeCategory.DUES_USE),
    in_menu=False,
)
READ = Feature(
    name=READ_FEATURE,
    rank=210,
    label=N_("已阅"),
    summary=N_("确认已经阅读一条通知"),
    words=(),
    run=_read,
    in_menu=False,
    background=True,
)
