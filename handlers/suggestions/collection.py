"""月征集 in words: the monthly call and its second call, 每月征集 on demand, and setting the theme.

The jobs (:data:`CALL_JOB`, :data:`AGAIN_JOB`) only queue rows naming the month
(models.suggestions.collection); the renderers here write each member's call
when it is sent, in their language: the theme if one is set, their unit's
count so far this year, last month's adopted ideas in their unit, and a button
that opens the suggestion form at once. A member who types 每月征集 reads the
same call for the current month. Members turn both calls off (and on again) in
我的信息; a cadre who reviews suggestions sees how many in their scope have.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlmodel import Session

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Invalid, Option
from handlers.core.features import Feature
from handlers.core.i18n import Translator
from handlers.core.menu import show_menu
from handlers.core.messages import Button, Reply
from handlers.core.module import Job, JobContext, Reminder
from handlers.core.parsing import normalise
from handlers.core.pushes import Push
from handlers.suggestions.form import SUGGEST, LimitedAsk
from models.errors import N_, InvalidInput
from models.members import Member
from models.outbox import PushRow
from models.suggestions import SuggestionPolicy
from models.suggestions.collection import (
    REMINDER_TOPIC,
    THEME_MAX,
    CallFacts,
    call_facts,
    check_theme,
    enqueue_collection_calls,
    enqueue_second_calls,
    may_set_theme,
    month_of,
    month_period,
    reminder_off_in_scope,
    set_collection_theme,
)

log = logging.getLogger(__name__)

TITLE = N_("每月征集")
FEATURE_NAME = "collection"
THEME_ARG = "theme"
# What clears a month's theme when typed instead of one.
NO_THEME_WORDS = ("无", "無", "没有", "清除", "取消主题", "none")

REMINDER = Reminder(REMINDER_TOPIC, N_("每月征集提醒"))


def month_text(t: Translator, month: str) -> str:
    period = month_period(month)
    return t("{year}年{month}月").format(year=period.year, month=period.number)


def call_text(t: Translator, facts: CallFacts) -> str:
    """The call as a member reads it, pushed or asked for."""
    month = month_text(t, facts.month)
    lines = [t("【每月征集】{month}合理化建议征集开始了。").format(month=month)]
    if facts.theme:
        lines.append(t("本月征集主题：“{theme}”，其他方面的好点子同样欢迎。").format(theme=facts.theme))
    lines.append(
        t.ngettext(
            "{unit}今年已提建议 {count} 条。",
            "{unit}今年已提建议 {count} 条。",
            facts.year_count,
        ).format(unit=facts.unit_name, count=facts.year_count)
    )
    if facts.adopted:
        lines.append(t("上个月{unit}被采纳的建议：").format(unit=facts.unit_name))
        for adopted in facts.adopted:
            if adopted.proposer:
                lines.append(t("· {title}（{name}）").format(title=adopted.title, name=adopted.proposer))
            else:
                lines.append(t("· {title}").format(title=adopted.title))
        more = facts.adopted_total - len(facts.adopted)
        if more > 0:
            lines.append(t.ngettext("还有 {count} 条。", "还有 {count} 条。", more).format(count=more))
    lines.append(t("小改小革也算数。点“提建议”马上填写，也可以直接回复“提建议”。"))
    return "\n".join(lines)


def _suggest_button(t: Translator) -> Button:
    return Button(t(SUGGEST.label), f"go:{SUGGEST.name}")


def _member(session: Session, row: PushRow) -> Member | None:
    member = session.get(Member, row.member_id)
    return member if member is not None and member.is_active else None


def _month(row: PushRow) -> str | None:
    month = row.params.get("month")
    return month if isinstance(month, str) else None


def render_call(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The month's call to one member; None once they left the union."""
    member, month = _member(session, row), _month(row)
    if member is None or month is None:
        return None
    facts = call_facts(session, member=member, month=month, zone=zone)
    text = call_text(t, facts)
    opt_out = t("不想再收到这个提醒，可在“我的信息”里关闭。")
    body = text.split("\n", 1)[1] if "\n" in text else text
    return Push(
        title=t(TITLE),
        reply=Reply(text + "\n" + opt_out, buttons=(_suggest_button(t),)),
        body=body,
        unit=facts.unit_name,
    )


def render_again(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The second call; None once someone in the member's unit has filed one since it was queued."""
    member, month = _member(session, row), _month(row)
    if member is None or month is None:
        return None
    facts = call_facts(session, member=member, month=month, zone=zone)
    if facts.month_count:
        return None
    body = t("{unit}本月还没有人提建议。月底前有什么想法，随时可以提，小建议也算数。").format(
        unit=facts.unit_name
    )
    if facts.theme:
        body += "\n" + t("本月征集主题：“{theme}”。").format(theme=facts.theme)
    body += "\n" + t("不想再收到这个提醒，可在“我的信息”里关闭。")
    heading = t(TITLE)
    return Push(
        title=heading,
        reply=Reply(t("【{title}】").format(title=heading) + body, buttons=(_suggest_button(t),)),
        body=body,
        unit=facts.unit_name,
    )


# ------------------------------------------------------------------------------------------- the jobs


def _month_due(context: JobContext) -> str:
    return month_of(context.due_at(), context.policy(SuggestionPolicy).zone)


def queue_collection_calls(context: JobContext) -> int:
    """The month's call to every member (reminder on), for the month the run stands for."""
    month = _month_due(context)
    with context.sessions() as session:
        added = enqueue_collection_calls(session, month=month, now=context.clock())
    log.info("monthly collection %s: %d calls queued", month, added)
    return added


def queue_second_calls(context: JobContext) -> int:
    """The second call, to members of units with no suggestion yet in the month the run stands for."""
    month = _month_due(context)
    zone = context.policy(SuggestionPolicy).zone
    with context.sessions() as session:
        added = enqueue_second_calls(session, month=month, now=context.clock(), zone=zone)
    log.info("monthly collection %s: %d second calls queued", month, added)
    return added


# The month's first working day at 09:00: never a Sunday, never the middle of 国庆 or 春节. A run
# missed then (the process was down) still comes within three days, for that month.
CALL_JOB = Job(
    id="collect_call",
    run=queue_collection_calls,
    schedule="0 9 1W * *",
    catch_up_window=timedelta(days=3),
    monthly=True,
)
# The third working day from the month's end, at 09:00: in the last week, with days left to act.
# "off" in UNIONBOT_JOB_SCHEDULES turns it off.
AGAIN_JOB = Job(
    id="collect_again",
    run=queue_second_calls,
    schedule="0 9 L3W * *",
    catch_up_window=timedelta(days=2),
    monthly=True,
)


# ------------------------------------------------------------------------------- 每月征集 on demand


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _this_month(ctx: Context) -> str:
    return month_of(ctx.now, ctx.config.timezone)


def _collection(ctx: Context, arg: str) -> list[Reply]:
    member = _actor(ctx)
    if arg == THEME_ARG and may_set_theme(ctx.session, member):
        return ctx.dialogs.start(ctx, THEME_FLOW)
    facts = call_facts(ctx.session, member=member, month=_this_month(ctx), zone=ctx.config.timezone)
    lines = [call_text(ctx.t, facts)]
    off = reminder_off_in_scope(ctx.session, member) if ctx.grants.cadre else None
    if off is not None:
        lines.append(
            ctx.t.ngettext(
                "您负责的范围内有 {count} 人关闭了每月征集提醒。",
                "您负责的范围内有 {count} 人关闭了每月征集提醒。",
                off,
            ).format(count=off)
        )
    buttons = [_suggest_button(ctx.t)]
    if may_set_theme(ctx.session, member):
        buttons.append(Button(ctx.t("设置征集主题"), f"go:{FEATURE_NAME}:{THEME_ARG}"))
    return show_menu(ctx, intro=[Reply("\n".join(lines), buttons=tuple(buttons))])


def _next_month(month: str) -> str:
    period = month_period(month)
    following = date(period.year, period.number, 1) + timedelta(days=31)
    return f"{following:%Y-%m}"


def _month_options(ctx: Context, data: Data) -> list[Option]:
    this = _this_month(ctx)
    return [
        Option(month, month_text(ctx.t, month), literal=True, aliases=(month,))
        for month in (this, _next_month(this))
    ]


def _check_theme(ctx: Context, text: Any, data: Data) -> None:
    if normalise(str(text)) in NO_THEME_WORDS:
        return
    try:
        check_theme(str(text))
    except InvalidInput as error:
        raise Invalid(error.msgid, **error.params) from None


def _theme_set(ctx: Context, data: Data) -> list[Reply]:
    month: str = data["month"]
    typed = str(data["theme"])
    theme = None if normalise(typed) in NO_THEME_WORDS else typed
    stored = set_collection_theme(ctx.session, actor=_actor(ctx), month=month, theme=theme, now=ctx.now)
    if stored is None:
        text = ctx.t("已取消{month}的征集主题。").format(month=month_text(ctx.t, month))
    else:
        text = ctx.t("已设置{month}的征集主题：“{theme}”。之后发出的征集提醒都会带上它。").format(
            month=month_text(ctx.t, month), theme=stored
        )
    return show_menu(ctx, intro=[Reply(text)])


THEME_FLOW = Flow(
    name="collection_theme",
    steps=(
        Choose("month", N_("为哪个月设置征集主题？"), options=_month_options, label=N_("月份")),
        LimitedAsk(
            "theme",
            N_("请发送征集主题，例如“节能降耗”（不超过 {limit} 个字）。回复“无”可取消已设的主题。"),
            max_length=THEME_MAX,
            validate=_check_theme,
            label=N_("主题"),
        ),
    ),
    on_done=_theme_set,
)

FEATURE = Feature(
    name=FEATURE_NAME,
    label=TITLE,
    summary=N_("看本月合理化建议征集的主题和本单位的建议情况"),
    words=("每月征集", "每月徵集", "月征集", "征集", "徵集", "/collect"),
    phrases=("征集",),
    run=_collection,
    in_menu=False,
)

FLOWS: tuple[Flow, ...] = (THEME_FLOW,)
