"""提建议: a member's idea in a minute, and the dates the union owes them an answer by.

The form asks what a union's suggestion sheet (建议书) asks — category, a
one-line title, the problem and the measure, the expected benefit, photos of
the spot — and whether reviewers may see the proposer's name. After the title
and again after the measure it looks for similar suggestions in the union:
a member who finds their idea already filed may back it (附议) instead of
filing it twice, which is what reviewers would otherwise merge by hand.

On confirm the member gets a tracking number and the dates by which the union
owes them the next steps ("三及时"); how it goes from there they read under
我的建议 (handlers.suggestions.mine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import (
    Ask,
    Choose,
    Confirm,
    Data,
    Flow,
    Invalid,
    Option,
    Photo,
    Yuan,
    step_payload,
)
from handlers.core.features import Feature
from handlers.core.i18n import Translator
from handlers.core.menu import show_menu
from handlers.core.messages import Button, Reply
from handlers.core.parsing import normalise, parse_index
from models.errors import N_, InvalidInput, NotFound
from models.members import Member, format_yuan
from models.suggestions import (
    BENEFIT_MAX,
    MEASURE_MAX,
    PHOTOS_MAX,
    STATUS_LABELS,
    TITLE_MAX,
    PhotoRef,
    Stage,
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    SuggestionStatus,
    SupportOutcome,
    expected_dates,
    similar_suggestions,
    submit_suggestion,
    support_suggestion,
)

NAMED, ANONYMOUS = "named", "anonymous"
SUPPORT = "support:"
# What a member types to back a suggestion shown as similar: "附议1", "附议第一条", "support 1".
SUPPORT_WORDS = ("附议", "附議", "support")


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def day_text(t: Translator, day: date) -> str:
    """A date as a member says it: 11月26日."""
    return t("{month}月{day}日").format(month=day.month, day=day.day)


def yuan_text(t: Translator, fen: int) -> str:
    return t("{amount} 元").format(amount=format_yuan(fen))


# ----------------------------------------------------------------------------- similar suggestions


def _hints(ctx: Context, fields: Sequence[str], data: Data, key: str, shown: Sequence[int]) -> None:
    """Keep the suggestions like any of ``fields`` in the form, leaving out those already offered."""
    found = similar_suggestions(ctx.session, actor=_actor(ctx), fields=fields)
    data[key] = [
        {
            "id": hint.id,
            "number": hint.number,
            "title": hint.title,
            "status": hint.status.value,
            "supporters": hint.supporters,
        }
        for hint in found
        if hint.id not in shown
    ]


def _after_title(ctx: Context, text: str, data: Data) -> None:
    _hints(ctx, [text], data, "hints_title", ())


def _after_measure(ctx: Context, text: str, data: Data) -> None:
    """The measure alone, and with the title: a measure close to another's counts however the title reads.

    The title alone was looked up after the title, and what it found is offered already.
    """
    shown = [hint["id"] for hint in data.get("hints_title") or ()]
    _hints(ctx, [text, f"{data['title']}\n{text}"], data, "hints_measure", shown)


def supporting(data: Data) -> int | None:
    """The suggestion the member chose to back instead of filing their own, if they did."""
    for key in ("measure", "benefit"):
        value = data.get(key)
        if isinstance(value, dict) and "support" in value:
            return int(value["support"])
    return None


def _hint_lines(ctx: Context, hints: Sequence[Data]) -> list[str]:
    _ = ctx.t
    lines = [_("已经有会员提过相似的建议：")]
    for number, hint in enumerate(hints, start=1):
        lines.append(
            _("{n}. {number}“{title}”（{status}，{count} 人附议）").format(
                n=number,
                number=hint["number"],
                title=hint["title"],
                status=_(STATUS_LABELS[SuggestionStatus(hint["status"])]),
                count=hint["supporters"],
            )
        )
    lines.append(_("如果说的是同一件事，回复“附议1”即可，不必重复提交；不一样就请接着写。"))
    return lines


def _support_choice(text: str, hints: Sequence[Data]) -> int | None:
    """The hint a typed "1" / "附议1" / "附议第一条" / "support 1" picks; None when the text is an answer.

    Raises:
        Invalid: "附议" with no number, or one that is not listed: ask which, rather than file
            "附议" as the member's own measure.
    """
    said = normalise(text)
    # A bare number picks the numbered choice: WeChat and the console show the buttons as "1. 附议第 1 条".
    bare = parse_index(said) if len(said) <= 4 else None
    if bare is not None:
        if not 1 <= bare <= len(hints):
            raise Invalid(N_("要附议哪一条？请回复“附议”加上面的序号，例如“附议1”。"))
        return int(hints[bare - 1]["id"])
    for word in SUPPORT_WORDS:
        rest = said.removeprefix(word).strip()
        # A word or two after 附议 is a choice; a sentence starting with it is an answer.
        if not said.startswith(word) or len(rest) > 6:
            continue
        if not rest and len(hints) == 1:
            return int(hints[0]["id"])
        index = parse_index(rest) if rest else None
        if index is None or not 1 <= index <= len(hints):
            raise Invalid(N_("要附议哪一条？请回复“附议”加上面的序号，例如“附议1”。"))
        return int(hints[index - 1]["id"])
    return None


@dataclass(frozen=True)
class LimitedAsk(Ask):
    """Free text whose question names its limit, so the member knows it before typing."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        return Reply(reply.text.format(limit=self.max_length), buttons=reply.buttons)


@dataclass(frozen=True)
class HintedAsk(LimitedAsk):
    """The next question, with the similar suggestions found so far shown above it.

    Not a question of its own: a member who reads past the hint and goes on
    typing answers this question as usual and loses nothing. Backing one
    instead is a button, or "附议1" typed; the form then ends with the support.
    """

    hints_key: str = ""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        hints = data.get(self.hints_key) or ()
        if not hints:
            return reply
        buttons = tuple(
            Button(
                ctx.t("附议第 {n} 条").format(n=number),
                step_payload(flow, self.key, f"{SUPPORT}{hint['id']}"),
            )
            for number, hint in enumerate(hints, start=1)
        )
        return Reply("\n".join([*_hint_lines(ctx, hints), "", reply.text]), buttons=buttons)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        hints = data.get(self.hints_key) or ()
        payload = ctx.incoming.button
        if payload is not None:
            value = payload.removeprefix(step_payload(flow, self.key, ""))
            offered = {str(hint["id"]) for hint in hints}
            if value.startswith(SUPPORT) and value.removeprefix(SUPPORT) in offered:
                return {"support": int(value.removeprefix(SUPPORT))}
            raise Invalid(N_("这个按钮已经失效了，请按下面的提示操作。"))
        backed = _support_choice(ctx.incoming.text or "", hints) if hints else None
        if backed is not None:
            return {"support": backed}
        return super().accept(ctx, flow, data)


# ----------------------------------------------------------------------------- the form


def _categories(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(name, name) for name in ctx.config.policy(SuggestionPolicy).categories]


def _photo_refs(data: Data) -> tuple[PhotoRef, ...]:
    photos = (data.get(f"photo{n}") for n in range(1, PHOTOS_MAX + 1))
    return tuple(PhotoRef(photo["ref"], photo.get("mime_type")) for photo in photos if photo)


def _draft(data: Data) -> SuggestionDraft:
    return SuggestionDraft(
        category=data["category"],
        title=data["title"],
        measure=data["measure"],
        benefit=data.get("benefit"),
        benefit_fen=data.get("benefit_fen"),
        anonymous=data.get("name") == ANONYMOUS,
        photos=_photo_refs(data),
    )


def _summary(ctx: Context, data: Data) -> str:
    _ = ctx.t
    draft = _draft(data)
    lines = [
        _("请核对您的建议："),
        _("类别：{category}").format(category=_(draft.category)),
        _("标题：{title}").format(title=draft.title),
        _("问题和建议措施：{measure}").format(measure=draft.measure),
    ]
    if draft.benefit:
        lines.append(_("预期效益：{benefit}").format(benefit=draft.benefit))
    if draft.benefit_fen is not None:
        lines.append(_("预计创效：{amount}").format(amount=yuan_text(_, draft.benefit_fen)))
    lines.append(
        _.ngettext("照片：{count} 张", "照片：{count} 张", len(draft.photos)).format(count=len(draft.photos))
    )
    lines.append(_("提交方式：匿名（评审人员看不到您的姓名）") if draft.anonymous else _("提交方式：实名"))
    return "\n".join(lines)


def _backed(ctx: Context, suggestion_id: int) -> list[Reply]:
    try:
        outcome = support_suggestion(ctx.session, actor=_actor(ctx), suggestion_id=suggestion_id, now=ctx.now)
    except (InvalidInput, NotFound) as error:
        # Merged or closed while the member was reading: say so; nothing of theirs was filed.
        return show_menu(ctx, intro=[Reply(ctx.t.error(error))])
    suggestion = ctx.session.get(Suggestion, suggestion_id)
    assert suggestion is not None
    if outcome is SupportOutcome.ALREADY:
        text = ctx.t("您之前已经附议过 {number}“{title}”了，不用再附议。")
    else:
        text = ctx.t("已为 {number}“{title}”附议，感谢您的支持！您的建议没有重复提交。")
    return show_menu(ctx, intro=[Reply(text.format(number=suggestion.number, title=suggestion.title))])


def receipt(ctx: Context, suggestion: Suggestion) -> str:
    """The tracking number and the dates the union owes the member its next steps."""
    _ = ctx.t
    dates = expected_dates(suggestion, ctx.config.policy(SuggestionPolicy))
    lines = [_("您的建议已提交，编号 {number}。请记下编号，方便查询。").format(number=suggestion.number)]
    if Stage.REGISTER in dates and Stage.DECIDE in dates:
        lines.append(
            _("按规定，工会将在 {register} 前登记，{decide} 前作出是否采纳的决定。").format(
                register=day_text(_, dates[Stage.REGISTER]), decide=day_text(_, dates[Stage.DECIDE])
            )
        )
    if suggestion.anonymous:
        lines.append(_("您选择了匿名：评审人员看不到您的姓名，答复会直接发给您。"))
    lines.append(_("每一步进展都会通知您，也可以随时回复“我的建议”查看。"))
    return "\n".join(lines)


def _submitted(ctx: Context, data: Data) -> list[Reply]:
    backed = supporting(data)
    if backed is not None:
        return _backed(ctx, backed)
    suggestion = submit_suggestion(
        ctx.session,
        actor=_actor(ctx),
        draft=_draft(data),
        policy=ctx.config.policy(SuggestionPolicy),
        now=ctx.now,
    )
    return show_menu(ctx, intro=[Reply(receipt(ctx, suggestion))])


def _backing(data: Data) -> bool:
    """Skip the rest of the form once the member backs an existing suggestion: it then ends at once."""
    return supporting(data) is not None


SUBMIT = Flow(
    name="suggest",
    steps=(
        Choose("category", N_("请选择建议类别："), options=_categories, label=N_("类别")),
        LimitedAsk(
            "title",
            N_("请用一句话概括您的建议（不超过 {limit} 个字）："),
            max_length=TITLE_MAX,
            validate=_after_title,
            label=N_("标题"),
        ),
        HintedAsk(
            "measure",
            N_("请写下发现的问题和您建议的做法（不超过 {limit} 个字）："),
            max_length=MEASURE_MAX,
            validate=_after_measure,
            hints_key="hints_title",
            label=N_("问题和建议措施"),
        ),
        HintedAsk(
            "benefit",
            N_("预期能带来什么效益？（例如节约多少电、减少多少隐患）"),
            max_length=BENEFIT_MAX,
            optional=True,
            skip_if=_backing,
            hints_key="hints_measure",
            label=N_("预期效益"),
        ),
        Yuan(
            "benefit_fen",
            N_("估计每年能创效或节约多少元？（例如“5000”或“0.5万”）"),
            optional=True,
            unreadable=N_("请输入金额，例如“5000”“5000元”或“0.5万”；没有估算可回复“跳过”。"),
            skip_if=_backing,
            label=N_("预计创效"),
        ),
        Photo(
            "photo1",
            N_("可以发一张现场照片（JPG 或 PNG，最多 3 张），让评审人员看清问题。"),
            optional=True,
            skip_if=_backing,
        ),
        Photo(
            "photo2",
            N_("收到照片。还可以再发一张（最多 3 张）。"),
            optional=True,
            skip_if=lambda data: _backing(data) or not data.get("photo1"),
        ),
        Photo(
            "photo3",
            N_("收到照片。还可以再发最后一张。"),
            optional=True,
            skip_if=lambda data: _backing(data) or not data.get("photo2"),
        ),
        Choose(
            "name",
            N_("评审时是否显示您的姓名？匿名提交时，干部看不到是谁提的，答复照样发给您。"),
            options=(
                Option(NAMED, N_("实名"), aliases=("實名", "named")),
                Option(ANONYMOUS, N_("匿名"), aliases=("anonymous",)),
            ),
            skip_if=_backing,
            label=N_("提交方式"),
        ),
        Confirm(summary=_summary, skip_if=_backing),
    ),
    on_done=_submitted,
)


def _suggest(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, SUBMIT)


FLOWS: tuple[Flow, ...] = (SUBMIT,)

SUGGEST = Feature(
    name="suggest",
    rank=20,
    label=N_("提建议"),
    summary=N_("提合理化建议（金点子），可以附照片，也可以匿名"),
    words=(
        "/suggest",
        "提建议",
        "提建議",
        "合理化建议",
        "合理化建議",
        "金点子",
        "金點子",
        "建议",
        "建議",
        "suggest",
    ),
    run=_suggest,
)
