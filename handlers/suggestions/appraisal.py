"""季度评比: the chair ranks the quarter's adopted suggestions, awards them and publishes the result.

The chair picks the quarter (本季度, 上季度, or typed: 2026Q3, 2026年第三季度)
and sees the suggestions their units adopted in it, best first. They reply
with a suggestion's number (its rank, or its JY number), choose 金点子/银点子/
鼓励奖 or 不评 and the prize, and come back to the list, where their choices
show; an idea not yet implemented is awarded only after a warning, or not at
all where the union requires implementation. 完成 shows all awards with the
total prize money to confirm. The awards are given all at once
(models.suggestions.appraisal), each proposer is told of theirs, and the chair
may then publish the result as a notice to their units: the notice is shown
word for word first, and goes out on 确认发布.

The list answers typed numbers only — no numbered buttons — so "3" always
means the third suggestion, whichever channel numbers its buttons. Everything
the form remembers (the chosen awards with the versions the chair saw) is
plain JSON in the dialog state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import (
    Choose,
    Confirm,
    Data,
    Flow,
    Invalid,
    Option,
    Step,
    Yuan,
    step_payload,
)
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Button, Reply
from handlers.core.paging import page_of, page_value, paged_flow, turn_page
from handlers.core.parsing import normalise, parse_index
from models.errors import N_, InvalidInput
from models.members import Member
from models.notices import target_recipients
from models.roles import Permission, scope_units
from models.suggestions import (
    AWARD_LABELS,
    Award,
    SuggestionPolicy,
    award_refusal,
    implemented,
    parse_suggestion_number,
)
from models.suggestions.appraisal import (
    ANONYMOUS,
    AWARD_ORDER,
    AppraisalNotice,
    AppraisalRefused,
    AwardChoice,
    Candidate,
    apply_appraisal,
    appraisal_notice,
    period_text,
    previous_quarter,
    publish_appraisal,
    quarter_candidates,
    quarter_dates,
    quarter_of,
)
from models.suggestions.figures import money_text
from models.units import Unit, get_unit, unit_path

# Ten to a page: an appraisal weighs the ideas against each other, so more of them side by side.
LIST_SIZE = 10
NO_AWARD = "none"
# What the list keeps from one round to the next; the answers of a round (pick, award, prize) are not.
KEPT = ("units", "unit", "year", "quarter", "page", "awards")

DONE_WORDS = frozenset({"完成", "完成了", "结束", "結束", "好了", "done", "finish"})
PUBLISH_WORDS = frozenset({"发布", "發布", "发布评比结果", "發布評比結果", "publish"})
THIS_QUARTER_WORDS = frozenset({"本季度", "本季", "这个季度", "這個季度", "这季度", "this quarter"})
LAST_QUARTER_WORDS = frozenset(
    {"上季度", "上季", "上个季度", "上個季度", "上一季度", "上一个季度", "last quarter", "previous quarter"}
)
_CN_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
# 2026q3, 2026 q3, 2026-q3, q3 2026, 2026年第三季度, 2026年三季度, 2026年第3季度, 第三季度, q3
_YEAR_Q = re.compile(r"(?P<year>\d{4})\s*[-/ ]?\s*q(?P<quarter>[1-4])")
_Q_YEAR = re.compile(r"q(?P<quarter>[1-4])\s*[-/ ]?\s*(?P<year>\d{4})")
_CHINESE = re.compile(r"(?:(?P<year>\d{4})\s*年?\s*)?第?\s*(?P<quarter>[一二三四1-4])\s*季度?")
_BARE_Q = re.compile(r"q(?P<quarter>[1-4])")


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def can_appraise(ctx: Context) -> bool:
    member = ctx.member
    return member is not None and member.is_active and ctx.grants.holds(Permission.APPRAISE_SUGGESTIONS)


def appraisal_units(ctx: Context) -> list[Unit]:
    """The highest units the chair appraises, nested ones left out."""
    units = scope_units(ctx.session, _actor(ctx), Permission.APPRAISE_SUGGESTIONS)
    tops = {u.id: u for u in units if not any(o is not u and o.contains(u) for o in units)}
    return sorted(tops.values(), key=lambda unit: unit.id_path)


def parse_quarter(text: str, *, today: date) -> tuple[int, int] | None:
    """The (year, quarter) a chair typed: 本季度, 上季度, 2026Q3, Q3 2026, 2026年第三季度, 三季度; or None."""
    said = normalise(text).replace(" ", "") if text else ""
    current = quarter_of(today)
    if said in {normalise(word).replace(" ", "") for word in THIS_QUARTER_WORDS}:
        return current
    if said in {normalise(word).replace(" ", "") for word in LAST_QUARTER_WORDS}:
        return previous_quarter(*current)
    for pattern in (_YEAR_Q, _Q_YEAR, _CHINESE, _BARE_Q):
        match = pattern.fullmatch(said)
        if match:
            year = match.groupdict().get("year")
            return (int(year) if year else today.year), _CN_QUARTERS[match.group("quarter")]
    return None


def _quarter_key(year: int, quarter: int) -> str:
    return f"{year}Q{quarter}"


def _period(ctx: Context, data: Data) -> str:
    return period_text(int(data["year"]), int(data["quarter"]), ctx.t)


def _unit(ctx: Context, data: Data) -> Unit:
    return get_unit(ctx.session, int(data["unit"]))


def _candidates(ctx: Context, data: Data) -> list[Candidate]:
    return quarter_candidates(
        ctx.session,
        actor=_actor(ctx),
        unit_id=int(data["unit"]),
        year=int(data["year"]),
        quarter=int(data["quarter"]),
        policy=ctx.config.policy(SuggestionPolicy),
    )


def _awards(data: Data) -> dict[str, dict[str, Any]]:
    awards: dict[str, dict[str, Any]] = data.get("awards") or {}
    return awards


def _award_text(ctx: Context, award: str, prize_fen: int) -> str:
    return ctx.t("{award}，奖金 {prize}").format(
        award=ctx.t(AWARD_LABELS[Award(award)]), prize=money_text(prize_fen, ctx.t)
    )


def _value(ctx: Context, candidate: Candidate) -> str:
    value = candidate.suggestion.value_fen
    return money_text(value, ctx.t) if value is not None else ctx.t("待核定")


def _entry(ctx: Context, candidate: Candidate, chosen: dict[str, Any] | None) -> str:
    _ = ctx.t
    suggestion = candidate.suggestion
    lines = [
        f"{candidate.rank}. {suggestion.number} {suggestion.title}",
        "   "
        + _("{unit}　{proposer}　创效 {value}　附议 {supporters} 人").format(
            unit=candidate.unit_path,
            proposer=candidate.proposer.name if candidate.proposer is not None else _(ANONYMOUS),
            value=_value(ctx, candidate),
            supporters=candidate.supporters,
        ),
    ]
    if suggestion.award is not None:
        awarded = _award_text(ctx, suggestion.award.value, suggestion.prize_fen or 0)
        lines.append("   " + _("已评：{award}").format(award=awarded))
    elif chosen is not None:
        pending = _award_text(ctx, chosen["award"], int(chosen["prize"]))
        lines.append("   " + _("拟评：{award}").format(award=pending))
    return "\n".join(lines)


def _total(data: Data) -> int:
    return sum(int(chosen["prize"]) for chosen in _awards(data).values())


def _by_number(ctx: Context, candidates: Sequence[Candidate], text: str) -> Candidate | None:
    """The candidate a typed tracking number names (JY-2026-000005, JY5, 2026-5); a bare number is a rank."""
    if parse_index(text) is not None:
        return None
    wanted = parse_suggestion_number(text, year=ctx.config.policy(SuggestionPolicy).today(ctx.now).year)
    for candidate in candidates:
        if wanted is not None and candidate.suggestion.number == wanted:
            return candidate
    return None


@dataclass(frozen=True)
class QuarterStep(Step):
    """本季度 or 上季度 by button, or any quarter typed; one that has not begun is refused."""

    key: str
    question: str
    skip_if: Callable[[Data], bool] | None = None

    def _choices(self, ctx: Context) -> list[tuple[int, int]]:
        current = quarter_of(ctx.local_now().date())
        return [current, previous_quarter(*current)]

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        this, last = self._choices(ctx)
        buttons = tuple(
            Button(
                ctx.t(label).format(period=period_text(*quarter, ctx.t)), step_payload(flow, self.key, key)
            )
            for label, quarter, key in (
                (N_("本季度（{period}）"), this, _quarter_key(*this)),
                (N_("上季度（{period}）"), last, _quarter_key(*last)),
            )
        )
        return Reply(ctx.t(self.question).format(example=_quarter_key(*last)), buttons=buttons)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        today = ctx.local_now().date()
        payload = ctx.incoming.button
        text = ctx.incoming.text or ""
        prefix = step_payload(flow, self.key, "")
        if payload is not None and payload.startswith(prefix):
            text = payload[len(prefix) :]
        parsed = parse_quarter(text, today=today)
        if parsed is None and (index := parse_index(text)) in (1, 2):
            parsed = self._choices(ctx)[index - 1]
        if parsed is None:
            raise Invalid(
                N_("没看懂这个季度。请回复“本季度”“上季度”，或按“{example}”的样子输入。"),
                example=_quarter_key(*previous_quarter(*quarter_of(today))),
            )
        try:
            start, _end = quarter_dates(*parsed)
        except InvalidInput as error:
            raise Invalid.from_error(error) from None
        if start > today:
            raise Invalid(
                N_("{period}还没有开始，请选择已经开始的季度。"), period=period_text(*parsed, ctx.t)
            )
        return _quarter_key(*parsed)


def _unit_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(str(unit.id), unit_path(ctx.session, unit), literal=True) for unit in appraisal_units(ctx)]


def _quarter_picked(ctx: Context, data: Data) -> list[Reply]:
    year, _sep, quarter = str(data["quarter"]).partition("Q")
    listing: Data = {
        "units": data.get("units", 1),
        "unit": int(data["unit"]),
        "year": int(year),
        "quarter": int(quarter),
        "page": 1,
        "awards": {},
    }
    if not _candidates(ctx, listing):
        text = ctx.t("{period}{unit}没有采纳的合理化建议，暂时没有可以评比的。").format(
            period=_period(ctx, listing), unit=_unit(ctx, listing).name
        )
        return show_menu(ctx, intro=[Reply(text)])
    return ctx.dialogs.start(ctx, AWARDS, data=listing)


APPRAISAL = Flow(
    name="suggestion_appraisal",
    steps=(
        Choose(
            "unit",
            N_("您负责多个单位，请选择要评比的单位："),
            options=_unit_options,
            skip_if=lambda data: int(data.get("units", 1)) <= 1,
        ),
        QuarterStep("quarter", N_("请选择要评比的季度，也可以直接输入，例如“{example}”：")),
    ),
    on_done=_quarter_picked,
)


# ------------------------------------------------------------------------------ the list


@dataclass(frozen=True)
class PickStep(Step):
    """The ranked list; a number (or a JY number) picks a suggestion, 完成 ends, 下一页 turns the page."""

    key: str
    question: str
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        _ = ctx.t
        candidates = _candidates(ctx, data)
        page = page_of(candidates, data, LIST_SIZE)
        awards = _awards(data)
        lines = [
            _("{period}{unit}采纳的合理化建议，按创效排序（第 {page}/{pages} 页，共 {count} 条）：").format(
                period=_period(ctx, data),
                unit=_unit(ctx, data).name,
                page=page.number,
                pages=page.pages,
                count=len(candidates),
            ),
            *(_entry(ctx, candidate, awards.get(str(candidate.id))) for candidate in page.items),
        ]
        if awards:
            lines.append(
                _("已选 {count} 条，奖金合计 {total}。").format(
                    count=len(awards), total=money_text(_total(data), ctx.t)
                )
            )
        lines.append(_(self.question))
        ways = []
        if page.number < page.pages:
            ways.append(_("回复“下一页”看后面的建议。"))
        if page.number > 1:
            ways.append(_("回复“上一页”看前面的建议。"))
        if any(candidate.awarded for candidate in candidates):
            ways.append(_("回复“发布”把这个季度已评出的结果发布给会员。"))
        lines.extend(ways)
        return Reply("\n".join(lines))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        if text is None:
            raise Invalid(N_("请用文字回复。"))
        said = normalise(text)
        candidates = _candidates(ctx, data)
        if said in DONE_WORDS:
            if not _awards(data):
                raise Invalid(N_("还没有选择要评奖的建议。请回复序号选择；不评了请回复“取消”。"))
            return "done"
        if said in PUBLISH_WORDS:
            if not any(candidate.awarded for candidate in candidates):
                raise Invalid(N_("这个季度还没有评出获奖建议，请先评奖，再发布。"))
            return "publish"
        turned = turn_page(ctx, page_of(candidates, data, LIST_SIZE))
        if turned is not None:
            return page_value(turned)
        candidate = _by_number(ctx, candidates, text)
        if candidate is None:
            rank = parse_index(text)
            if rank is None:
                raise Invalid(N_("请回复建议前面的序号，例如 1；选好了请回复“完成”。"))
            if not 1 <= rank <= len(candidates) and len(candidates) == 1:
                raise Invalid(N_("没有序号为 {number} 的建议，请回复 1。"), number=rank)
            if not 1 <= rank <= len(candidates):
                raise Invalid(
                    N_("没有序号为 {number} 的建议，请回复 1 到 {count} 之间的数字。"),
                    number=rank,
                    count=len(candidates),
                )
            candidate = candidates[rank - 1]
        suggestion = candidate.suggestion
        if suggestion.award is not None:
            raise Invalid(
                N_("{number} 已经评为“{award}”了，不能重复评奖。"),
                number=suggestion.number,
                award=ctx.t(AWARD_LABELS[suggestion.award]),
            )
        refused = award_refusal(ctx.session, _actor(ctx), suggestion, ctx.config.policy(SuggestionPolicy))
        if refused is not None:
            raise Invalid.from_error(refused)
        return f"n:{candidate.id}:{suggestion.version}"


def _picked_suggestion(data: Data) -> tuple[int, int] | None:
    kind, _sep, rest = str(data.get("pick", "")).partition(":")
    if kind != "n":
        return None
    suggestion_id, _sep, version = rest.partition(":")
    return int(suggestion_id), int(version)


def _picked_candidate(ctx: Context, data: Data) -> Candidate | None:
    picked = _picked_suggestion(data)
    assert picked is not None
    for candidate in _candidates(ctx, data):
        if candidate.id == picked[0]:
            return candidate
    return None


def _picked_line(ctx: Context, data: Data) -> str:
    candidate = _picked_candidate(ctx, data)
    return f"{candidate.suggestion.number} {candidate.suggestion.title}" if candidate is not None else ""


@dataclass(frozen=True)
class AwardStep(Choose):
    """金点子, 银点子, 鼓励奖 or 不评, under the suggestion being decided on, and a word of caution.

    An idea not yet implemented may be awarded (unless the union requires implementation, when it
    cannot be picked at all), but the chair is told that its effect is not known yet.
    """

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        lines = [_picked_line(ctx, data)]
        candidate = _picked_candidate(ctx, data)
        if candidate is not None and not implemented(candidate.suggestion):
            lines.append(ctx.t("注意：这条建议还没有实施完成，效果尚未核定。"))
        return Reply("\n".join([*lines, reply.text]), buttons=reply.buttons)


AWARD_OPTIONS = (
    Option(Award.GOLD.value, AWARD_LABELS[Award.GOLD], aliases=("金", "金點子", "gold")),
    Option(Award.SILVER.value, AWARD_LABELS[Award.SILVER], aliases=("银", "銀點子", "silver")),
    Option(
        Award.ENCOURAGEMENT.value,
        AWARD_LABELS[Award.ENCOURAGEMENT],
        aliases=("鼓励", "鼓勵獎", "encouragement"),
    ),
    Option(NO_AWARD, N_("不评"), aliases=("不评奖", "不評", "no award")),
)


CHOSEN = N_("{number} {title}：{award}")
# An award to an idea not yet in place is marked, so the chair confirms it knowingly.
CHOSEN_EARLY = N_("{number} {title}：{award}（尚未实施完成）")


def _chosen_lines(ctx: Context, data: Data) -> list[str]:
    """The awards chosen so far, highest first and best ranked first within each."""
    awards = _awards(data)
    candidates = [c for c in _candidates(ctx, data) if str(c.id) in awards]
    level = {award.value: position for position, award in enumerate(AWARD_ORDER)}
    candidates.sort(key=lambda c: (level[awards[str(c.id)]["award"]], c.rank))
    return [
        ctx.t(CHOSEN if implemented(c.suggestion) else CHOSEN_EARLY).format(
            number=c.suggestion.number,
            title=c.suggestion.title,
            award=_award_text(ctx, awards[str(c.id)]["award"], int(awards[str(c.id)]["prize"])),
        )
        for c in candidates
    ]


def _summary(ctx: Context, data: Data) -> str:
    awards = _awards(data)
    return "\n".join(
        [
            ctx.t("{period}{unit}合理化建议评奖：").format(
                period=_period(ctx, data), unit=_unit(ctx, data).name
            ),
            *_chosen_lines(ctx, data),
            ctx.t("共 {count} 条，奖金合计 {total}。").format(
                count=len(awards), total=money_text(_total(data), ctx.t)
            ),
        ]
    )


def _relist(ctx: Context, data: Data, text: str) -> list[Reply]:
    listing = {key: data[key] for key in KEPT if key in data}
    return ctx.dialogs.start(ctx, AWARDS, data=listing, intro=[Reply(text)] if text else [])


def _apply(ctx: Context, data: Data) -> list[Reply]:
    awards = _awards(data)
    choices = [
        AwardChoice(int(suggestion_id), int(chosen["version"]), Award(chosen["award"]), int(chosen["prize"]))
        for suggestion_id, chosen in awards.items()
    ]
    try:
        given = apply_appraisal(
            ctx.session,
            actor=_actor(ctx),
            year=int(data["year"]),
            quarter=int(data["quarter"]),
            awards=choices,
            now=ctx.now,
            policy=ctx.config.policy(SuggestionPolicy),
        )
    except AppraisalRefused as refused:
        # Nothing was given; the one refused is taken off, so the chair sees it afresh and decides again.
        awards.pop(str(refused.suggestion_id), None)
        refusal = ctx.t("{number}“{title}”未能评奖：{reason}").format(
            number=refused.number, title=refused.title, reason=ctx.t.error(refused)
        )
        text = refusal + "\n" + ctx.t("本次评奖没有保存。这一条已从选择中去掉，请核对后重新选择。")
        return _relist(ctx, {**data, "awards": awards}, text)
    text = ctx.t.ngettext(
        "评奖结果已保存：{count} 条建议获奖，奖金合计 {total}。提出人会收到通知。",
        "评奖结果已保存：{count} 条建议获奖，奖金合计 {total}。提出人会收到通知。",
        len(given),
    ).format(count=len(given), total=money_text(sum(s.prize_fen or 0 for s in given), ctx.t))
    return _offer_publish(ctx, data, [Reply(text)])


def _picked(ctx: Context, data: Data) -> list[Reply]:
    pick = str(data["pick"])
    if pick == "publish":
        return _offer_publish(ctx, data)
    if pick == "done":
        return _apply(ctx, data)
    picked = _picked_suggestion(data)
    assert picked is not None
    suggestion_id, version = picked
    awards = dict(_awards(data))
    line = _picked_line(ctx, data)
    if data["award"] == NO_AWARD:
        dropped = awards.pop(str(suggestion_id), None)
        text = (
            ctx.t("已取消对 {suggestion} 的评奖。") if dropped else ctx.t("好的，{suggestion} 不评奖。")
        ).format(suggestion=line)
    else:
        awards[str(suggestion_id)] = {"award": data["award"], "prize": int(data["prize"]), "version": version}
        text = ctx.t("已记下：{suggestion}，{award}。").format(
            suggestion=line, award=_award_text(ctx, data["award"], int(data["prize"]))
        )
    return _relist(ctx, {**data, "awards": awards}, text)


def _not_picking(data: Data) -> bool:
    return _picked_suggestion(data) is None


AWARDS = paged_flow(
    name="appraisal_awards",
    steps=(
        PickStep("pick", N_("请回复要评奖的建议序号（回复“完成”结束）：")),
        AwardStep("award", N_("请选择奖项："), options=AWARD_OPTIONS, skip_if=_not_picking),
        Yuan(
            "prize",
            N_("请输入奖金金额（元），例如 500、500元 或 0.05万；没有奖金请回复 0："),
            unreadable=N_("请输入奖金金额，例如 500、500元 或 0.05万；没有奖金请回复 0。"),
            skip_if=lambda data: _not_picking(data) or data.get("award") == NO_AWARD,
        ),
        Confirm(
            summary=_summary,
            question=N_("确认后评奖结果将记入各条建议，并通知提出人。"),
            skip_if=lambda data: data.get("pick") != "done",
        ),
    ),
    on_pick=_picked,
)


# ------------------------------------------------------------------------------ publishing


def _notice(ctx: Context, data: Data) -> AppraisalNotice:
    """The result as it would go out now, in the union's language (what members read is stored text)."""
    return appraisal_notice(
        ctx.session,
        actor=_actor(ctx),
        year=int(data["year"]),
        quarter=int(data["quarter"]),
        unit_id=int(data["unit"]),
        policy=ctx.config.policy(SuggestionPolicy),
        t=ctx.catalogues.get(ctx.config.default_locale),
    )


def _preview(ctx: Context, data: Data) -> str:
    """The notice word for word, and who will get it: nothing goes out that the chair has not read."""
    notice = _notice(ctx, data)
    count = len(target_recipients(ctx.session, actor=_actor(ctx), target=notice.target))
    lines = [ctx.t("发布前请核对，会员收到的通知是这样的：")]
    for title, body in notice.parts:
        lines += ["", ctx.t("【{title}】").format(title=title), body]
    lines.append("")
    lines.append(
        ctx.t.ngettext(
            "将在“通知公告”发给{unit}的 {count} 名会员。",
            "将在“通知公告”发给{unit}的 {count} 名会员。",
            count,
        ).format(unit=_unit(ctx, data).name, count=count)
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class PreviewStep(Choose):
    """The notice as members will read it, then 确认发布 or 取消."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        return Reply(_preview(ctx, data) + "\n" + reply.text, buttons=reply.buttons)


def _offer_publish(ctx: Context, data: Data, intro: Sequence[Reply] = ()) -> list[Reply]:
    kept = {key: data[key] for key in ("unit", "year", "quarter")}
    return ctx.dialogs.start(ctx, PUBLISH, data=kept, intro=intro)


NOT_PUBLISHED = N_("好的，暂不发布。需要时再打开“季度评比”，选择这个季度后回复“发布”即可。")


def _published(ctx: Context, data: Data) -> list[Reply]:
    if data["publish"] != "publish":
        return show_menu(ctx, intro=[Reply(ctx.t(NOT_PUBLISHED))])
    notices = publish_appraisal(
        ctx.session,
        actor=_actor(ctx),
        year=int(data["year"]),
        quarter=int(data["quarter"]),
        unit_id=int(data["unit"]),
        now=ctx.now,
        policy=ctx.config.policy(SuggestionPolicy),
        # Stored text every member reads as written: in the union's language, not the chair's.
        t=ctx.catalogues.get(ctx.config.default_locale),
    )
    count = notices[0].recipient_count
    text = ctx.t.ngettext(
        "{period}评比结果已在“通知公告”发布，将发给 {count} 名会员。",
        "{period}评比结果已在“通知公告”发布，将发给 {count} 名会员。",
        count,
    ).format(period=_period(ctx, data), count=count)
    if len(notices) > 1:
        text += "\n" + ctx.t("名单较长，分成了 {parts} 条通知。").format(parts=len(notices))
    return show_menu(ctx, intro=[Reply(text)])


PUBLISH = Flow(
    name="appraisal_publish",
    steps=(
        PreviewStep(
            "publish",
            N_("确认无误就发布；要改动请回复“取消”。"),
            options=(
                Option("publish", N_("确认发布"), aliases=("发布", "確認發布", "确认", "是", "publish")),
                Option("cancel", N_("取消")),
            ),
        ),
    ),
    on_done=_published,
    on_cancel=lambda ctx: [Reply(ctx.t(NOT_PUBLISHED))],
)


def _appraise(ctx: Context, arg: str) -> list[Reply]:
    units = appraisal_units(ctx)
    data: Data = {"units": len(units)}
    if len(units) == 1:
        data["unit"] = units[0].id
    return ctx.dialogs.start(ctx, APPRAISAL, data=data)


FLOWS: tuple[Flow, ...] = (APPRAISAL, AWARDS, PUBLISH)

FEATURE = Feature(
    name="suggestion_appraisal",
    rank=110,
    section=MenuSection.SUGGESTIONS,
    label=N_("季度评比"),
    summary=N_("评出本季度的金点子、银点子和鼓励奖，并发布评比结果"),
    words=("/appraise", "季度评比", "季度評比", "季评比", "季評比", "评比", "評比", "appraisal"),
    run=_appraise,
    available=can_appraise,
    unavailable=N_("抱歉，季度评比由工会主席负责。"),
)
