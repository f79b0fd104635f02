"""Long lists a page at a time: numbered choices, then 上一页 / 下一页.

Members read on a phone, so a list shows a few items and the ways to the
neighbouring pages; asking for a page beyond either end is answered, not
refused as a wrong number.

:class:`PagedList` is such a list as one step of a form. A feature says how to
fetch a page and how one item reads; the step keeps which page is shown in the
form's data (``page``), offers the neighbouring pages as choices, and
:func:`paged_flow` turns to the page chosen, keeping whatever else the list was
opened with (a heading, a filter). A list answered by typing alone, without
buttons, uses the same pieces: :func:`page_of` and :func:`turn_page`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Done, Flow, Invalid, Option, Step, step_payload
from handlers.core.messages import Button, Reply
from handlers.core.parsing import normalise
from models.errors import N_

T = TypeVar("T")

PAGE_SIZE = 5
PAGE = "page"
"""The form data key of the page shown, counted from 1."""
PREVIOUS_PAGE = N_("上一页")
NEXT_PAGE = N_("下一页")
# What a member may type to turn the page, besides the two labels in their own language.
PREVIOUS_WORDS = frozenset({"上一页", "上一頁", "previous", "previous page"})
NEXT_WORDS = frozenset({"下一页", "下一頁", "next", "next page"})
_TURN = "p:"


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """Pages needed for ``total`` items; an empty list still has its one (empty) page."""
    return max(1, -(-total // size))


def page_value(page: int) -> str:
    """The answer that means "turn to ``page``", as the page choices carry it."""
    return f"{_TURN}{page}"


def turned_to(answer: object) -> int | None:
    """The page an answer turns to, or None when it chose something else."""
    if not isinstance(answer, str) or not answer.startswith(_TURN):
        return None
    return int(answer.removeprefix(_TURN))


def page_options(page: int, pages: int) -> list[Option]:
    """The ways to the neighbouring pages, as choices whose value is ``p:<page>``."""
    options = []
    if page > 1:
        options.append(Option(page_value(page - 1), PREVIOUS_PAGE))
    if page < pages:
        options.append(Option(page_value(page + 1), NEXT_PAGE))
    return options


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, which page it is, and how many items the whole list holds."""

    items: Sequence[T]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return page_count(self.total, self.size)


def page_number(data: Data) -> int:
    """The page the form is at; a list opened without one starts at the first."""
    return max(1, int(data.get(PAGE, 1)))


def page_of(items: Sequence[T], data: Data, size: int = PAGE_SIZE) -> Page[T]:
    """The page of a list held whole that the form is at, or its last page once the list got shorter."""
    number = min(page_number(data), page_count(len(items), size))
    return Page(items[(number - 1) * size : number * size], number, len(items), size)


def turn_page(ctx: Context, page: Page[Any]) -> int | None:
    """The page a typed 上一页 / 下一页 asks for; None when the member typed something else.

    Raises:
        Invalid: 下一页 on the last page, 上一页 on the first: said as such, not as a wrong answer.
    """
    said = normalise(ctx.incoming.text or "")
    if not said:
        return None
    if said in NEXT_WORDS or said == normalise(ctx.t(NEXT_PAGE)):
        if page.number >= page.pages:
            raise Invalid(N_("已经是最后一页了。"))
        return page.number + 1
    if said in PREVIOUS_WORDS or said == normalise(ctx.t(PREVIOUS_PAGE)):
        if page.number <= 1:
            raise Invalid(N_("已经是第一页了。"))
        return page.number - 1
    return None


@dataclass(frozen=True)
class PagedList(Choose, Generic[T]):
    """A page of a longer list as numbered choices: the page's items, 上一页 / 下一页, then ``options``.

    A feature says how a page is fetched (:meth:`fetch`) and how one item reads as a
    choice (:meth:`item`), and may word the prompt (:meth:`text`) around the page;
    ``options`` are the choices after the page links (other headings, filters). The
    page shown is the form's ``page``, or the last page once the list has become
    shorter than that (an item was withdrawn while the member read). Run it as the
    first step of a :func:`paged_flow`, which turns to the page a member chose.
    """

    options: Sequence[Option] | Callable[[Context, Data], Sequence[Option]] = ()
    size: int = PAGE_SIZE

    @abstractmethod
    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[T], int]:
        """At most ``limit`` items from ``offset`` on, and how many the whole list holds."""

    @abstractmethod
    def item(self, ctx: Context, item: T) -> Option:
        """The choice one item of the page is."""

    def text(self, ctx: Context, data: Data, page: Page[T]) -> str:
        """The prompt above the page's choices; a list that says more than its question words it here."""
        return ctx.t(self.question)

    def page(self, ctx: Context, data: Data) -> Page[T]:
        number = page_number(data)
        items, total = self.fetch(ctx, data, (number - 1) * self.size, self.size)
        if number > page_count(total, self.size):
            number = page_count(total, self.size)
            items, total = self.fetch(ctx, data, (number - 1) * self.size, self.size)
        return Page(items, number, total, self.size)

    def _choices(self, ctx: Context, data: Data, page: Page[T]) -> list[Option]:
        return [
            *(self.item(ctx, item) for item in page.items),
            *page_options(page.number, page.pages),
            *super().choices(ctx, data),
        ]

    def choices(self, ctx: Context, data: Data) -> Sequence[Option]:
        return self._choices(ctx, data, self.page(ctx, data))

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        page = self.page(ctx, data)
        buttons = tuple(
            Button(option.text(ctx), option.payload or step_payload(flow, self.key, option.value))
            for option in self._choices(ctx, data, page)
        )
        return Reply(self.text(ctx, data, page), buttons=buttons)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        try:
            return super().accept(ctx, flow, data)
        except Invalid:
            turned = turn_page(ctx, self.page(ctx, data))
            if turned is None:
                raise
            return page_value(turned)


def paged_flow(
    *, name: str, steps: Sequence[Step], on_pick: Done, quiet_timeout: bool = False, browse: bool = False
) -> Flow:
    """A flow whose first step is a paged list: a page chosen there opens the list again at that page.

    The list keeps what it was opened with (a heading, a filter, choices made in an
    earlier round); the answers to the flow's own steps are dropped, so it asks afresh.
    Any other answer goes to ``on_pick``.
    """
    answers = {step.key for step in steps}

    def done(ctx: Context, data: Data) -> list[Reply]:
        page = turned_to(data.get(steps[0].key))
        if page is None:
            return on_pick(ctx, data)
        kept = {key: value for key, value in data.items() if key not in answers}
        return ctx.dialogs.start(ctx, flow, data={**kept, PAGE: page})

    flow = Flow(name=name, steps=tuple(steps), on_done=done, quiet_timeout=quiet_timeout, browse=browse)
    return flow
