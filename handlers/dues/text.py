"""How dues read in chat and pushes: amounts, months, rates."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.core.i18n import Translator
from models.dues.figures import Tally
from models.dues.months import Month, month_key
from models.members import format_yuan

# One chat message holds about 4,000 characters: a longer list is in the workbook.
LISTED = 30


def yuan(t: Translator, fen: int) -> str:
    return t("{amount} 元").format(amount=format_yuan(fen))


def months_text(months: Sequence[Month]) -> str:
    return "、".join(month_key(month) for month in months)


def rate_text(t: Translator, tally: Tally) -> str:
    """ "收缴率 95.0%（应缴 40 人次，已缴 38 人次）", or that nothing was due."""
    rate = tally.rate
    if rate is None:
        return t("无应缴")
    return t("收缴率 {percent}%（应缴 {due}，已缴 {paid}）").format(
        percent=f"{rate * 100:.1f}", due=tally.due, paid=tally.paid
    )
