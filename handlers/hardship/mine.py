"""我的申请: where a member's applications stand, the next step in plain words, and what was given.

A member reads only what concerns them as the applicant: the stage, what comes
next, the help given (date, amount or goods). Never a cadre's notes, the visit's
findings, or who decided: those are the union's working papers.
"""

from __future__ import annotations

from datetime import date

from handlers.core.context import Context
from handlers.core.features import Feature
from handlers.core.i18n import Translator
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from models.errors import N_
from models.hardship import (
    CATEGORY_LABELS,
    NEXT_STEP,
    STATUS_LABELS,
    CaseStatus,
    HardshipCategory,
    HardshipPolicy,
)
from models.hardship.cases import HardshipDisbursement
from models.hardship.queries import MyCase, my_cases
from models.members import format_yuan


def day_text(t: Translator, day: date) -> str:
    return t("{month}月{day}日").format(month=day.month, day=day.day)


def given_text(t: Translator, given: HardshipDisbursement) -> str:
    """One help given as the member reads it: the date, the money and the goods."""
    parts = []
    if given.amount_fen is not None:
        parts.append(t("{amount} 元").format(amount=format_yuan(given.amount_fen)))
    if given.goods:
        parts.append(given.goods)
    return t("· {date} {what}").format(date=given.given_on.isoformat(), what="，".join(parts))


def case_text(t: Translator, case: MyCase) -> str:
    lines = [
        t("【{number}】{category}，{date} 提交").format(
            number=case.number,
            category=t(CATEGORY_LABELS[HardshipCategory(case.category)]),
            date=case.submitted_on.isoformat(),
        )
    ]
    if case.filed_by_cadre:
        lines.append(t("（由工会干部代为登记）"))
    lines.append(t("状态：{status}").format(status=t(STATUS_LABELS[case.status])))
    lines.append(t(NEXT_STEP[case.status]))
    if case.status is CaseStatus.REVIEW and case.next_review_on is not None:
        lines.append(t("下次回访：{date}").format(date=day_text(t, case.next_review_on)))
    if case.given:
        lines.append(t("已收到的帮扶："))
        lines += [given_text(t, given) for given in case.given]
    return "\n".join(lines)


def _mine(ctx: Context, arg: str) -> list[Reply]:
    assert ctx.member is not None
    cases = my_cases(ctx.session, actor=ctx.member, zone=ctx.config.policy(HardshipPolicy).zone)
    if not cases:
        text = ctx.t("您还没有提交过帮扶申请。家里遇到困难，可以回复“困难申报”。")
        return show_menu(ctx, intro=[Reply(text)])
    text = "\n\n".join(case_text(ctx.t, case) for case in cases)
    return show_menu(ctx, intro=[Reply(text)])


MY_CASES = Feature(
    name="my_hardship",
    rank=35,
    label=N_("我的申请"),
    summary=N_("查看您的帮扶申请办到哪一步、收到了哪些帮扶"),
    words=("我的申请", "我的申請", "帮扶进度", "幫扶進度", "申请进度", "申請進度", "my applications"),
    run=_mine,
    # Reached by its words, which every push and receipt names: a member's menu stays one short list.
    in_menu=False,
)
