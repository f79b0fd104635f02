"""Steps more than one feature asks with: units from the cadre's subtree, a date and a time, a period.

A cadre picks units and times the same way whether sending a notice or setting
out an activity, so both read them alike; what a feature may pick (whose units,
which times are allowed) it gives as arguments.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session, select

from handlers.core.context import Context
from handlers.core.dialogs import SKIP_WORDS, Choose, Data, Invalid, Option, Step
from handlers.core.messages import Reply
from handlers.core.parsing import chinese_numeral, normalise, parse_date, parse_index
from models.errors import N_, InvalidInput
from models.members import Member
from models.periods import Period, parse_period
from models.units import Unit, UnitTree

# A cadre over a big plant would get a wall of units; past this many, the rest are typed by name.
UNITS_LISTED = 30
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def _named(units: Sequence[tuple[int, str]], word: str) -> list[int]:
    """The units a typed name means: the whole path, or the unit's own name."""
    said = normalise(word)
    return [
        unit_id
        for unit_id, path in units
        if normalise(path) == said or normalise(path.rsplit("/", 1)[-1]) == said
    ]


@dataclass(frozen=True)
class UnitsStep(Step):
    """Units in the cadre's subtree, by number from the list or by name; several at once.

    ``scope`` lists the units to pick from and ``check`` refuses a choice with the
    reason (out of scope, nobody there): each feature has its own permission and rule.
    """

    key: str
    question: str
    scope: Callable[[Session, Member], Sequence[Unit]]
    check: Callable[[Context, tuple[int, ...]], None]
    skip_if: Callable[[Data], bool] | None = None

    def _units(self, ctx: Context) -> list[tuple[int, str]]:
        assert ctx.member is not None
        tree = UnitTree(ctx.session)
        return [
            (unit.id, tree.path_of(unit))
            for unit in self.scope(ctx.session, ctx.member)
            if unit.id is not None
        ]

    def _all_units(self, ctx: Context) -> list[tuple[int, str]]:
        tree = UnitTree(ctx.session)
        return [
            (unit.id, tree.path_of(unit)) for unit in ctx.session.exec(select(Unit)) if unit.id is not None
        ]

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        units = self._units(ctx)
        lines = [ctx.t(self.question)]
        lines.extend(f"{number}. {path}" for number, (_, path) in enumerate(units[:UNITS_LISTED], start=1))
        if len(units) > UNITS_LISTED:
            lines.append(
                ctx.t("（共 {count} 个单位，这里列出前 {shown} 个；其他单位请直接回复名称。）").format(
                    count=len(units), shown=UNITS_LISTED
                )
            )
        return Reply("\n".join(lines))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        if text is None or not text.strip():
            raise Invalid(N_("请回复单位的编号或名称。"))
        units = self._units(ctx)
        chosen: list[int] = []
        for word in _SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()):
            if not word:
                continue
            number = parse_index(word)
            if number is not None:
                if not 1 <= number <= len(units):
                    raise Invalid(N_("没有编号为 {number} 的单位，请对照列表重新回复。"), number=number)
                chosen.append(units[number - 1][0])
                continue
            matches = _named(units, word)
            if len(matches) != 1:
                # A unit the cadre does not look after gets that reason, not "not found".
                elsewhere = _named(self._all_units(ctx), word)
                if len(elsewhere) == 1:
                    self.check(ctx, (elsewhere[0],))
                raise Invalid(N_("没有找到单位“{name}”，请回复列表中的编号或单位全称。"), name=word)
            chosen.append(matches[0])
        picked = list(dict.fromkeys(chosen))
        self.check(ctx, tuple(picked))
        return picked


# "9:00", "09：30", "9点", "9点半", "下午3点", "15时20分", and in words: "早上九点", "下午三点十五分";
# 晚 and 早 alone follow 今/明 (今晚7点, 明早8点).
_WORD_NUMBER = "[零〇一二两三四五六七八九十]{1,3}"
_DAY_PARTS = ("上午", "早上", "早晨", "清晨", "凌晨", "中午", "下午", "傍晚", "晚上", "晚", "早")
_AFTERNOON = frozenset({"下午", "傍晚", "晚上", "晚"})
_TIME = re.compile(
    rf"(?P<part>{'|'.join(_DAY_PARTS)})? ?(?P<hour>[0-9]{{1,2}}|{_WORD_NUMBER})"
    rf"(?:[:：](?P<minute>[0-9]{{2}})|[点點时時](?:(?P<half>半)|(?P<minutes>[0-9]{{1,2}}|{_WORD_NUMBER})分?)?)$"
)
# 今晚, 明早: the day, once 晚 or 早 has been read as the time's part of the day.
_DAY_BEFORE_PART = {"今": "今天", "明": "明天"}
_BETWEEN_DATE_AND_TIME = " ,，、的"


def _clock_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) > 1 and text[0] in "零〇":  # 九点零五分
        text = text[1:]
    return chinese_numeral(text)


def _hour_of_day(hour: int, part: str | None) -> int | None:
    """下午3点 is 15:00; 晚上12点 could be either midnight, so it is not guessed."""
    if part in _AFTERNOON:
        if hour == 12 and part in ("晚上", "晚"):
            return None
        return hour + 12 if hour < 12 else hour
    if part == "中午" and hour < 6:
        return hour + 12
    return hour


def parse_moment(text: str, *, today: date, ahead: bool = False) -> tuple[date, time] | None:
    """The local date and time a cadre means: "明天 9:00", "11月24日 下午3点", "下周六下午两点".

    The date is read by :func:`~handlers.core.parsing.parse_date`, ``ahead`` as there:
    for a time to come, "1月10号下午两点" typed in December is next January's. A time
    alone means today. None when it is not a date and a time.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    if len(folded) > 40:
        return None
    folded = " ".join(folded.split())
    match = _TIME.search(folded)
    if match is None:
        return None
    hour = _clock_number(match["hour"])
    minutes = match["minute"] or match["minutes"]
    minute = _clock_number(minutes) if minutes else (30 if match["half"] else 0)
    if hour is None or minute is None:
        return None
    hour = _hour_of_day(hour, match["part"])
    if hour is None or hour > 23 or minute > 59:
        return None
    rest = folded[: match.start()].rstrip(_BETWEEN_DATE_AND_TIME)
    if match["part"] in ("晚", "早"):
        rest = _DAY_BEFORE_PART.get(rest, rest)
    day = parse_date(rest, today=today, ahead=ahead) if rest else today
    if day is None:
        return None
    return day, time(hour, minute)


WEEKDAY_NAMES = (N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六"), N_("周日"))


def moment_text(ctx: Context, moment: datetime) -> str:
    """A moment in the union's zone written out in full, "2027年1月10日（周日）14:00".

    A date typed without its year or as "下周六" is resolved by a rule the cadre
    may not share; the year and the weekday written out let them see at once
    whether it is the day they meant.
    """
    local = moment.astimezone(ctx.config.timezone)
    return ctx.t("{year}年{month}月{day}日（{weekday}）{time}").format(
        year=local.year,
        month=local.month,
        day=local.day,
        weekday=ctx.t(WEEKDAY_NAMES[local.weekday()]),
        time=local.strftime("%H:%M"),
    )


@dataclass(frozen=True)
class MomentStep(Step):
    """A date and a time to come in the union's zone, as :func:`parse_moment` reads them, stored in UTC.

    A date without its year or week is the next such day (``ahead``), and the
    moment understood is said back in full before the next question.
    ``check`` gets the moment, the answers so far and now, and refuses with
    :class:`~models.errors.InvalidInput` (past, too far ahead, after another date
    of the form). ``example`` is a moment worth typing, shown in the question (its
    ``{example}``) and in ``unreadable``, which says how to write one.
    """

    key: str
    question: str
    check: Callable[[datetime, Data, datetime], None]
    example: Callable[[date], str]
    unreadable: str
    skip_if: Callable[[Data], bool] | None = None
    optional: bool = False  # 跳过 answers None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        text = ctx.t(self.question).format(example=self.example(ctx.local_now().date()))
        if self.optional:
            text += "\n" + ctx.t("（没有可回复“跳过”）")
        return Reply(text)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        if self.optional and text is not None and normalise(text) in SKIP_WORDS:
            return None
        today = ctx.local_now().date()
        parsed = parse_moment(text, today=today, ahead=True) if text else None
        if parsed is None:
            if text and parse_date(text, today=today, ahead=True) is not None:
                raise Invalid(N_("请在日期后面写上几点，例如“{typed}下午2点”。"), typed=text.strip())
            raise Invalid(self.unreadable, example=self.example(today))
        moment = datetime.combine(parsed[0], parsed[1], tzinfo=ctx.config.timezone).astimezone(UTC)
        try:
            self.check(moment, data, ctx.now)
        except InvalidInput as error:
            raise Invalid.from_error(error) from None
        return moment.isoformat()

    def understood(self, ctx: Context, value: Any) -> str | None:
        if value is None:
            return None
        return ctx.t("好的，时间定在 {moment}。").format(
            moment=moment_text(ctx, datetime.fromisoformat(value))
        )


# ------------------------------------------------------------------------------ periods


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.config.timezone).date()


def period_options(ctx: Context, data: Data) -> Sequence[Option]:
    """本月, 本季度, 上季度, 今年: the periods figures are asked for most."""
    today = _today(ctx)
    quarter = Period.quarter_of(today)
    return [
        Option(Period.month_of(today).key, N_("本月"), aliases=("这个月", "this month")),
        Option(quarter.key, N_("本季度"), aliases=("这个季度", "this quarter")),
        Option(quarter.previous().key, N_("上季度"), aliases=("上个季度", "last quarter")),
        Option(Period.year_of(today).key, N_("今年"), aliases=("本年", "全年", "this year")),
    ]


def period_examples(ctx: Context) -> dict[str, Any]:
    """A quarter and a month as they are typed, for the question and its corrections."""
    today = _today(ctx)
    return {"quarter": Period.quarter_of(today).previous().key, "month": Period.month_of(today).key}


_YEAR = re.compile(r"\d{4}")


def choice_or_period(step: Choose, ctx: Context, flow: str, data: Data) -> Any:
    """The chosen option; failing that, a period typed with its year ("2026Q3"), as its key.

    A choice comes first, so "2" still means the second button; only text with a
    four-digit year is read as a period, and a wrong one is explained ("季度只能是 1 到 4").
    """
    try:
        return Choose.accept(step, ctx, flow, data)
    except Invalid:
        text = ctx.incoming.text
        if ctx.incoming.button is not None or text is None or parse_index(text) is not None:
            raise
        if not _YEAR.search(unicodedata.normalize("NFKC", text)):
            # Words that are no choice ("去年冬天"): say what can be typed, not only "reply a number".
            raise Invalid(
                N_("没看懂这个时段。请选择上面的一项，或按“{quarter}”“{month}”的样子输入。"),
                **period_examples(ctx),
            ) from None
    try:
        return parse_period(text).key
    except InvalidInput as error:
        raise Invalid.from_error(error) from None


@dataclass(frozen=True)
class PeriodStep(Choose):
    """本月, 本季度, 上季度, 今年 — or any month, quarter or year typed as "2026Q3" or "2026年10月".

    The answer is the period's key ("2026Q3"); :func:`models.periods.parse_period` reads it back.
    The question may name ``{quarter}`` and ``{month}``, filled with examples of this moment.
    """

    options: Sequence[Option] | Callable[[Context, Data], Sequence[Option]] = period_options

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        return Reply(ctx.t(self.question).format(**period_examples(ctx)), buttons=reply.buttons)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        return choice_or_period(self, ctx, flow, data)


def figures_result_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("export", N_("导出Excel"), aliases=("导出", "導出", "excel", "export")),
        Option("again", N_("换个时段"), aliases=("換個時段", "another period")),
    ]


@dataclass(frozen=True)
class FiguresResultStep(Choose):
    """After a table of figures: 导出Excel, 换个时段, or another period typed ("2026Q3") at once.

    The answer is "export", "again", or "period:<key>".
    """

    options: Sequence[Option] | Callable[[Context, Data], Sequence[Option]] = figures_result_options

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = choice_or_period(self, ctx, flow, data)
        return value if value in {"export", "again"} else f"period:{value}"
