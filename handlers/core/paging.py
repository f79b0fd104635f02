"""Long lists a page at a time: numbered choices, then 上一页 / 下一页.

Members read on a phone, so a list shows a few items and the ways to the
neighbouring pages; asking for a page beyond either end is answered, not
refused as a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Invalid, Option
from handlers.core.parsing import normalise
from models.errors import N_

PAGE_SIZE = 5
PREVIOUS_PAGE = N_("上一页")
NEXT_PAGE = N_("下一页")


def page_count(total: int) -> int:
    """Pages needed for ``total`` items; an empty list still has its one (empty) page."""
    return max(1, -(-total // PAGE_SIZE))


def page_options(page: int, pages: int) -> list[Option]:
    """The ways to the neighbouring pages, as choices whose value is ``p:<page>``."""
    options = []
    if page > 1:
        options.append(Option(f"p:{page - 1}", PREVIOUS_PAGE))
    if page < pages:
        options.append(Option(f"p:{page + 1}", NEXT_PAGE))
    return options


@dataclass(frozen=True)
class PagedChoose(Choose):
    """A numbered page of a longer list: 下一页 on the last page (上一页 on the first) says so."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        try:
            return super().accept(ctx, flow, data)
        except Invalid:
            said = normalise(ctx.incoming.text or "")
            if said and said in {normalise(NEXT_PAGE), normalise(ctx.t(NEXT_PAGE))}:
                raise Invalid(N_("已经是最后一页了。")) from None
            if said and said in {normalise(PREVIOUS_PAGE), normalise(ctx.t(PREVIOUS_PAGE))}:
                raise Invalid(N_("已经是第一页了。")) from None
            raise
