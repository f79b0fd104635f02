"""The dialog engine: forms declared as steps, run the same way on every channel.

A flow is a list of steps (text, choice, yes/no, number, date, photo,
confirm). The engine prompts, re-asks with the reason on bad input, goes back
on 返回, and keeps the answers in the database after every step, so a
half-filled form survives a restart and any process can take the next message.

What a member may say at any step, besides the answer: 返回 (the step before;
while changing one answer from the summary, the summary again), 取消 (the
router; at a yes/no about cancelling something, the engine says what stays), a
command word (at a free-text step, where it could be the answer, the member is
asked which was meant; anywhere else it opens that feature), and at a summary
the name of a field to change just that answer and come back.

Validators signal two kinds of trouble:

* :class:`Invalid` — the answer does not fit; the member is asked again
  (optionally from an earlier step, ``goto``).
* :class:`~models.errors.DomainError` — the form cannot go on (a cooldown, a
  rule); the dialog ends with that sentence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button, MediaKind, Reply
from handlers.core.parsing import (
    control_characters,
    normalise,
    parse_date,
    parse_index,
    parse_number,
    parse_yes_no,
    text_length,
)
from models.dialog_state import DialogState, clear_dialog, load_dialog, save_dialog
from models.errors import N_, DomainError, InvalidInput

Data = dict[str, Any]
Validator = Callable[[Context, Any, Data], None]

BACK_WORDS = frozenset({"返回", "上一步", "返回上一步", "返回修改", "back"})
SKIP_WORDS = frozenset({"跳过", "跳過", "skip", "无", "無", "没有", "沒有", "none"})
# fmt: off
DONE_WORDS = frozenset({
    "好了", "好", "好的", "行了", "可以了", "够了", "夠了", "完成", "完成了", "完了", "发完了", "發完了",
    "没有了", "沒有了", "没了", "沒了", "就这些", "就這些", "就这样", "就這樣", "就这么多", "就這麼多",
    "结束", "結束", "ok", "okay", "done", "finished", "that's all", "no more",
})
"""What a member says once they have sent all the photos they meant to: ends a photo step."""
# A "no" to a question whose subject is itself a cancellation, said with its verb: 不取消, 别撤回.
KEEP_WORDS = frozenset(
    no + verb + end
    for no in ("不", "不要", "别", "別", "先不", "不用", "不必", "暂不", "暫不")
    for verb in ("取消", "撤回", "撤销", "撤銷", "解除", "解绑", "解綁")
    for end in ("", "了")
)
# Longest first, so 改一下 is removed whole rather than leaving 一下.
_EDIT_PREFIXES = (
    "修改一下", "我要修改", "我想修改", "重新填写", "重新填寫",
    "改一下", "修改", "更改", "重填", "改下", "改",
)
# fmt: on
_PUNCTUATION = " .。!?~,、;:…'\"“”‘’"
PAYLOAD_PREFIX = "d"


class Invalid(Exception):
    """The answer does not fit the step; ask again with this reason."""

    def __init__(self, msgid: str, *, goto: str | None = None, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.goto = goto
        self.params = params

    @classmethod
    def from_error(cls, error: DomainError, *, goto: str | None = None) -> Invalid:
        return cls(error.msgid, goto=goto, **error.params)


def step_payload(flow: str, step: str, value: str) -> str:
    """The button payload for one answer; it names its flow and step so stale buttons are noticed."""
    return f"{PAYLOAD_PREFIX}:{flow}:{step}:{value}"


@dataclass(frozen=True)
class Option:
    """One choice. ``label`` is a msgid unless ``literal`` (e.g. a language's own name)."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()
    literal: bool = False
    payload: str | None = None

    def text(self, ctx: Context) -> str:
        return self.label if self.literal else ctx.t(self.label)


@dataclass(frozen=True)
class _Labelled:
    label: str | None = field(default=None, kw_only=True)


class Step(_Labelled, ABC):
    """One question of a flow.

    ``label`` (a msgid, e.g. 标题) is what a member calls the answer: a summary
    offers to change it by that name, and a command word typed at a free-text
    step is asked about as "this field or that feature?". Steps that fill one
    field of a summary take the name the summary shows for it; steps sharing a
    label (three photos, a target and its units) are changed together.
    """

    key: str
    skip_if: Callable[[Data], bool] | None

    def skipped(self, data: Data) -> bool:
        return self.skip_if is not None and self.skip_if(data)

    @abstractmethod
    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        """The question, with its buttons."""

    @abstractmethod
    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        """The stored answer for ``ctx.incoming``, or :class:`Invalid`."""

    def hint(self, ctx: Context) -> str:
        return ctx.t("（回复“返回”回到上一步，“取消”退出）")

    def understood(self, ctx: Context, value: Any) -> str | None:
        """What the step made of an answer, said before the next question; None: nothing worth saying.

        An answer read by a rule the member may not share (a date without its
        year) is best said back at once, while the question is still in mind,
        rather than first in the summary at the end.
        """
        return None


def said_word(text: str) -> str:
    """A short answer as compared with words: folded, no punctuation around it ("好了。", "取消！")."""
    return normalise(text).strip(_PUNCTUATION)


def _typed_text(ctx: Context) -> str:
    text = ctx.incoming.text
    if text is None:
        raise Invalid(N_("请用文字回复。"))
    return text


def _pressed(ctx: Context, flow: str, step: str) -> str | None:
    """The value of a pressed button of this very step, if one was pressed."""
    payload = ctx.incoming.button
    if payload is None:
        return None
    prefix = f"{PAYLOAD_PREFIX}:{flow}:{step}:"
    if not payload.startswith(prefix):
        raise Invalid(N_("这个按钮已经失效了，请按下面的提示操作。"))
    return payload[len(prefix) :]


@dataclass(frozen=True)
class Ask(Step):
    """Free text, counted in characters as a member counts them, stored as typed."""

    key: str
    question: str
    min_length: int = 1
    max_length: int = 200
    optional: bool = False
    validate: Validator | None = None
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        text = ctx.t(self.question)
        if self.optional:
            text += "\n" + ctx.t("（没有可回复“跳过”）")
        return Reply(text)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = _typed_text(ctx)
        if not text.strip():
            raise Invalid(N_("内容不能为空，请重新输入。"))
        if self.optional and normalise(text) in SKIP_WORDS:
            return None
        if control_characters(text):
            raise Invalid(N_("内容里有无法显示的控制字符，请删掉后重新发送。"))
        length = text_length(text)
        if length > self.max_length:
            raise Invalid(
                N_("内容太长了：最多 {limit} 个字，您发了 {count} 个字。请精简后重新发送。"),
                limit=self.max_length,
                count=length,
            )
        if length < self.min_length:
            raise Invalid(N_("内容太短了：至少需要 {limit} 个字。"), limit=self.min_length)
        if self.validate is not None:
            self.validate(ctx, text, data)
        return text


@dataclass(frozen=True)
class Choose(Step):
    """One of a numbered list: a button, its number (１, 一, 第一个) or its words."""

    key: str
    question: str
    options: Sequence[Option] | Callable[[Context, Data], Sequence[Option]]
    skip_if: Callable[[Data], bool] | None = None

    def choices(self, ctx: Context, data: Data) -> Sequence[Option]:
        return self.options(ctx, data) if callable(self.options) else self.options

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        buttons = tuple(
            Button(option.text(ctx), option.payload or step_payload(flow, self.key, option.value))
            for option in self.choices(ctx, data)
        )
        return Reply(ctx.t(self.question), buttons=buttons)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        options = self.choices(ctx, data)
        pressed = _pressed(ctx, flow, self.key)
        if pressed is not None:
            for option in options:
                if option.value == pressed:
                    return option.value
            raise Invalid(N_("这个按钮已经失效了，请按下面的提示操作。"))
        text = _typed_text(ctx)
        index = parse_index(text)
        if index is not None:
            if 1 <= index <= len(options):
                return options[index - 1].value
            if len(options) == 1:
                raise Invalid(N_("没有这个选项，请回复 1。"))
            raise Invalid(N_("没有这个选项，请回复 1 到 {count} 之间的数字。"), count=len(options))
        said = normalise(text)
        for option in options:
            names = {
                normalise(option.text(ctx)),
                normalise(option.label),
                *(normalise(a) for a in option.aliases),
            }
            if said in names:
                return option.value
        raise Invalid(N_("请回复选项前的数字，例如 1。"))


@dataclass(frozen=True)
class YesNo(Step):
    """A yes or a no, by button, 是/否, 1/2 (一/二 too) or the everyday words for them.

    ``keeps`` (a msgid) is for a question whose subject is itself a cancellation
    ("确定要取消报名…吗？"): there 取消 is no answer a form can act on, since it
    may mean either, so the engine closes the question without acting and says
    what stays ("好的，您的报名保留着。"); 不取消 is the question's no.
    """

    key: str
    question: str
    params: Callable[[Context, Data], dict[str, Any]] | None = None
    skip_if: Callable[[Data], bool] | None = None
    keeps: str | None = None

    def hint(self, ctx: Context) -> str:
        if self.keeps is not None:
            # "“取消”退出" beside a question about cancelling reads as the way to cancel the sign-up itself.
            return ctx.t("（回复“返回”回到上一步）")
        return super().hint(ctx)

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        question = ctx.t(self.question)
        if self.params is not None:
            question = question.format(**self.params(ctx, data))
        return Reply(
            question,
            buttons=(
                Button(ctx.t("是"), step_payload(flow, self.key, "yes")),
                Button(ctx.t("否"), step_payload(flow, self.key, "no")),
            ),
        )

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        pressed = _pressed(ctx, flow, self.key)
        if pressed is not None:
            return pressed == "yes"
        text = _typed_text(ctx)
        if self.keeps is not None and said_word(text) in KEEP_WORDS:
            return False
        answer = parse_yes_no(text)
        if answer is None:
            raise Invalid(N_("请回复“是”或“否”（也可以回复 1 或 2）。"))
        return answer


@dataclass(frozen=True)
class Number(Step):
    key: str
    question: str
    minimum: Decimal | int
    maximum: Decimal | int
    integer: bool = True
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(ctx.t(self.question))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = parse_number(_typed_text(ctx))
        if value is None:
            raise Invalid(N_("请输入一个数字，例如 {example}。"), example=self.minimum)
        if self.integer and value != value.to_integral_value():
            raise Invalid(N_("请输入整数。"))
        if not self.minimum <= value <= self.maximum:
            raise Invalid(
                N_("请输入 {minimum} 到 {maximum} 之间的数字。"), minimum=self.minimum, maximum=self.maximum
            )
        return int(value) if self.integer else str(value)


@dataclass(frozen=True)
class Yuan(Step):
    """An amount of money as people write it ("86000", "8.6万", "86000元", "¥500", "五百"), kept in fen.

    Fen, like dues, so sums are exact; more than two decimals is refused rather than rounded.
    """

    key: str
    question: str
    optional: bool = False
    maximum_fen: int = 10_000_000 * 100
    unreadable: str = N_("没看懂这个金额。请输入元数，例如“86000”“8.6万”或“86000元”。")
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        text = ctx.t(self.question)
        if self.optional:
            text += "\n" + ctx.t("（没有可回复“跳过”）")
        return Reply(text)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = _typed_text(ctx)
        if self.optional and normalise(text) in SKIP_WORDS:
            return None
        value = parse_number(text)
        if value is None:
            raise Invalid(self.unreadable)
        fen = value * 100
        if fen != fen.to_integral_value():
            raise Invalid(N_("金额最多保留两位小数（精确到分）。"))
        if not 0 <= fen <= self.maximum_fen:
            raise Invalid(N_("金额请填 0 到 {maximum} 元之间的数。"), maximum=self.maximum_fen // 100)
        return int(fen)


@dataclass(frozen=True)
class DateStep(Step):
    """A calendar date in the union's time zone, e.g. "2026-11-23", "11月23日", "明天"."""

    key: str
    question: str
    earliest: Callable[[date], date] | None = None
    latest: Callable[[date], date] | None = None
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(ctx.t(self.question))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        today = ctx.local_now().date()
        value = parse_date(_typed_text(ctx), today=today)
        if value is None:
            raise Invalid(
                N_("没看懂这个日期。请按“{example}”或“{short}”的样子输入。"),
                example=today.isoformat(),
                short=ctx.t("{month}月{day}日").format(month=today.month, day=today.day),
            )
        if self.earliest is not None and value < self.earliest(today):
            raise Invalid(N_("日期不能早于 {date}。"), date=self.earliest(today).isoformat())
        if self.latest is not None and value > self.latest(today):
            raise Invalid(N_("日期不能晚于 {date}。"), date=self.latest(today).isoformat())
        return value.isoformat()


@dataclass(frozen=True)
class Photo(Step):
    """One photo. An optional one ends on 跳过 or on a word that means done (好了, 没有了, 完成…):
    members send photos one after another and then say they have finished."""

    key: str
    question: str
    max_bytes: int = 10 * 1024 * 1024
    mime_types: frozenset[str] = frozenset({"image/jpeg", "image/png"})
    optional: bool = False
    skip_if: Callable[[Data], bool] | None = None
    label: str | None = field(default=N_("照片"), kw_only=True)

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        text = ctx.t(self.question)
        if self.optional:
            text += "\n" + ctx.t("（发完请回复“好了”；不发照片请回复“跳过”）")
        return Reply(text)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        media = ctx.incoming.media
        if media is None:
            said = said_word(ctx.incoming.text or "")
            if self.optional and (said in SKIP_WORDS or said in DONE_WORDS):
                return None
            if self.optional:
                raise Invalid(N_("请发送一张照片；发完了请回复“好了”。"))
            raise Invalid(N_("请发送一张照片。"))
        if media.kind is not MediaKind.PHOTO:
            raise Invalid(N_("请发送照片（JPG 或 PNG），不要以文件或语音发送。"))
        if media.mime_type is not None and media.mime_type not in self.mime_types:
            raise Invalid(N_("只能接收 JPG 或 PNG 格式的照片。"))
        if media.size is not None and media.size > self.max_bytes:
            raise Invalid(
                N_("照片太大了：最大 {limit} MB。请压缩后重新发送。"), limit=self.max_bytes // (1024 * 1024)
            )
        return {"ref": media.ref, "mime_type": media.mime_type, "size": media.size}


@dataclass(frozen=True)
class Confirm(Step):
    """The last look before anything is written: 确认, 返回修改 or 取消."""

    summary: Callable[[Context, Data], str]
    question: str = N_("请核对以上内容。")
    key: str = "confirm"
    skip_if: Callable[[Data], bool] | None = None
    # A broken rule's error code → the step that answers it (a deadline after the start: the
    # deadline), asked when a change made from the summary breaks that rule.
    fixes: Mapping[str, str] = field(default_factory=dict)

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(
            self.summary(ctx, data) + "\n\n" + ctx.t(self.question),
            buttons=(
                Button(ctx.t("确认"), step_payload(flow, self.key, "yes")),
                Button(ctx.t("返回修改"), step_payload(flow, self.key, "back")),
                Button(ctx.t("取消"), step_payload(flow, self.key, "cancel")),
            ),
        )

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        pressed = _pressed(ctx, flow, self.key)
        if pressed is None:
            index = parse_index(_typed_text(ctx))
            pressed = {1: "yes", 2: "back", 3: "cancel"}.get(index or 0)
            if pressed is None and parse_yes_no(_typed_text(ctx)) is True:
                pressed = "yes"
        if pressed == "yes":
            return True
        if pressed == "back":
            raise _Back
        if pressed == "cancel":
            raise _Cancel
        raise Invalid(N_("请回复 1 确认，2 返回修改，3 取消。"))


class _Back(Exception):
    pass


class _Cancel(Exception):
    pass


Done = Callable[[Context, Data], list[Reply]]


@dataclass(frozen=True)
class Flow:
    """A declared form. ``on_done`` gets the answers once the last step is accepted.

    ``browse``: a list to pick from rather than a form, so a command word typed
    at it opens that feature instead of being taken as a wrong answer.
    """

    name: str
    steps: tuple[Step, ...]
    on_done: Done
    on_cancel: Callable[[Context], list[Reply]] | None = None
    # Where 取消 (or 返回 at the first step) leaves the member instead of the main menu: a form
    # opened from a list goes back to what it was about. Gets the answers so far.
    cancel_to: Callable[[Context, Data], list[Reply]] | None = None
    quiet_timeout: bool = False
    browse: bool = False
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {step.key: i for i, step in enumerate(self.steps)})

    def position(self, key: str) -> int:
        return self._index[key]

    def step(self, key: str) -> Step | None:
        """The step called ``key``; None for a name an older version of the flow had."""
        index = self._index.get(key)
        return None if index is None else self.steps[index]

    def first(self, data: Data, start: int = 0) -> Step | None:
        for step in self.steps[start:]:
            if not step.skipped(data):
                return step
        return None

    def previous(self, key: str, data: Data) -> Step | None:
        for step in reversed(self.steps[: self.position(key)]):
            if not step.skipped(data):
                return step
        return None


HEARD = "_heard"
"""Form data key of an answer recognised from speech, waiting for the member's yes."""

HEARD_CHECK = YesNo(
    HEARD,
    N_("我听到的是：“{heard}”\n是这样吗？"),
    params=lambda ctx, data: {"heard": data[HEARD]["said"]},
)
SPOKEN_FIELDS = (Ask, Number, DateStep)
"""Steps whose answer is stored as said; choices and yes/no need no read-back."""


def _heard_confirmed(ctx: Context, flow: str) -> bool | None:
    """The member's yes or no to "我听到的是…", or None when they answered something else."""
    try:
        return bool(HEARD_CHECK.accept(ctx, flow, {}))
    except Invalid:
        return None


WHICH = "_which"
"""Form data key of a command word typed where it could be the answer too, waiting to hear which was meant."""
EDITING = "_editing"
"""Form data key while one answer is changed from the summary: the summary to come back to, the step that
was named, and the answers of the same field set aside meanwhile (the second and third photo)."""


def _which_options(ctx: Context, data: Data) -> Sequence[Option]:
    pending = data[WHICH]
    feature = ctx.t(ctx.features[pending["feature"]].label)
    if pending.get("field"):
        fill = ctx.t("作为{field}填写").format(field=ctx.t(pending["field"]))
    else:
        fill = ctx.t("作为回答填写")
    opening = ctx.t("打开“{feature}”").format(feature=feature)
    return (
        Option("open", opening, ("打开", "打開", "open"), literal=True),
        Option("fill", fill, ("填写", "填寫", "fill in"), literal=True),
    )


@dataclass(frozen=True)
class _WhichMeant(Choose):
    """打开“主菜单”, or 作为标题填写: what a command word typed at a free-text step was meant as."""

    unnamed: str = ""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        pending = data[WHICH]
        buttons = tuple(
            Button(option.text(ctx), step_payload(flow, self.key, option.value))
            for option in self.choices(ctx, data)
        )
        names = {"feature": ctx.t(ctx.features[pending["feature"]].label), "word": pending["word"]}
        if pending.get("field"):
            text = ctx.t(self.question).format(field=ctx.t(pending["field"]), **names)
        else:
            text = ctx.t(self.unnamed).format(**names)
        return Reply(text, buttons=buttons)


WHICH_MEANT = _WhichMeant(
    WHICH,
    N_("您是想打开“{feature}”，还是把“{word}”作为{field}填写？打开的话，正在填写的内容不会保留。"),
    options=_which_options,
    unnamed=N_("您是想打开“{feature}”，还是把“{word}”作为回答填写？打开的话，正在填写的内容不会保留。"),
)


def _answering_with(ctx: Context, text: str) -> Context:
    """The context as if ``text`` had been typed: the answer kept while the member said which was meant."""
    return replace(ctx, incoming=replace(ctx.incoming, text=text, button=None, media=None, spoken=False))


_Field = tuple[str, set[str], Step]
"""A field a summary can change: its label, the names it answers to, and the step asking it."""


def _run_feature(ctx: Context, name: str) -> list[Reply]:
    return ctx.features[name].run(ctx, "")


def _left_out(ctx: Context, step: Step) -> list[Reply]:
    """What of a captioned photo the step did not take, said to the member.

    A photo with a caption (Telegram) is one message, and a step takes one of the two:
    a photo step the photo, any other step the caption as the typed answer.
    """
    photo, caption = ctx.incoming.media, (ctx.incoming.text or "").strip()
    if photo is None or photo.kind is not MediaKind.PHOTO or not caption:
        return []
    if isinstance(step, Photo):
        return [Reply(ctx.t("照片已收到；随照片发来的文字没有保存。"))]
    return [Reply(ctx.t("已记下您写的文字。这一步不需要照片，照片没有保存。"))]


class DialogEngine:
    """Runs declared flows for one account at a time, state in the database."""

    def __init__(
        self,
        flows: Iterable[Flow],
        after_cancel: Callable[[Context, list[Reply]], list[Reply]] = lambda ctx, replies: replies,
        open_feature: Callable[[Context, str], list[Reply]] = _run_feature,
    ) -> None:
        """``after_cancel`` decides where a cancelled form leaves the member (the router shows the menu);
        ``open_feature`` opens a feature by name once the member leaves a form for it (the router checks
        who may use it)."""
        self.flows = {flow.name: flow for flow in flows}
        self.after_cancel = after_cancel
        self.open_feature = open_feature

    def open(self, ctx: Context) -> tuple[DialogState | None, bool]:
        """The account's open dialog, and whether it just expired (and was closed)."""
        if ctx.dialog_closed:
            return None, False
        state = load_dialog(ctx.session, ctx.account_id)
        if state is None:
            return None, False
        if state.flow not in self.flows or ctx.now - state.updated_at > ctx.config.dialog_timeout:
            quiet = state.flow in self.flows and self.flows[state.flow].quiet_timeout
            self.close(ctx)
            ctx.session.flush()
            return None, not quiet
        return state, False

    def close(self, ctx: Context) -> None:
        """Close the account's dialog; the database hears of it in :meth:`settle`.

        Most messages that close a dialog open the next one (a form done shows the
        menu; a word at the menu starts a form), and the upsert that opens it replaces
        the row: deleting it first was one statement more for nothing.
        """
        ctx.dialog_closed = True

    def settle(self, ctx: Context) -> None:
        """Delete the dialog closed in this message if none was opened since; before the commit."""
        if ctx.dialog_closed:
            clear_dialog(ctx.session, ctx.account_id)
            ctx.dialog_closed = False

    def start(
        self, ctx: Context, flow: Flow | str, data: Data | None = None, intro: Sequence[Reply] = ()
    ) -> list[Reply]:
        """Open ``flow`` at its first step that applies, replacing any open dialog."""
        flow = self.flows[flow if isinstance(flow, str) else flow.name]
        answers: Data = dict(data or {})
        step = flow.first(answers)
        if step is None:
            self.close(ctx)
            return [*intro, *flow.on_done(ctx, answers)]
        self._save(ctx, flow, step, answers)
        return [*intro, self._prompt(ctx, flow, step, answers)]

    def cancel(self, ctx: Context, state: DialogState) -> list[Reply]:
        """Close the form without doing it; nothing it asked for is written.

        At a yes/no about cancelling something (``YesNo.keeps``) the member is
        told what stays rather than "已取消", which would read as the very thing
        they were asked about having happened.
        """
        self.close(ctx)
        ctx.session.flush()
        flow = self.flows.get(state.flow)
        step = flow.step(state.step) if flow is not None else None
        if isinstance(step, YesNo) and step.keeps is not None:
            replies = [Reply(ctx.t(step.keeps))]
        elif flow is not None and flow.on_cancel is not None:
            replies = flow.on_cancel(ctx)
        else:
            replies = [Reply(ctx.t("已取消。"))]
        if flow is not None and flow.cancel_to is not None:
            return [*replies, *flow.cancel_to(ctx, dict(state.data))]
        return self.after_cancel(ctx, replies)

    def reprompt(self, ctx: Context, state: DialogState) -> list[Reply]:
        flow = self.flows[state.flow]
        return [self._prompt(ctx, flow, flow.steps[flow.position(state.step)], dict(state.data))]

    def handle(self, ctx: Context, state: DialogState, command: str | None = None) -> list[Reply]:
        """Take the member's answer to the open step and move on.

        An answer recognised from speech that fills a field is shown back first
        ("我听到的是…"), since speech recognition gets names and numbers wrong;
        a yes takes it, a no asks again, anything else is a fresh answer.

        ``command`` names the feature the text is a command word of (the router
        knows the words). At a free-text step it may as well be the answer, so
        the member is asked which they meant rather than having "菜单" stored
        as a title; at any other step it opens the feature, unless the step
        takes it as its answer (an option called like a feature).

        At a summary, the name of a field (标题) goes to that step and, once
        answered, back to the summary, keeping the other answers.
        """
        flow = self.flows[state.flow]
        data: Data = dict(state.data)
        heard = data.pop(HEARD, None)
        which = data.pop(WHICH, None)
        step = flow.steps[flow.position(state.step)]
        text = ctx.incoming.text
        answering = ctx
        try:
            if text is not None and ctx.incoming.button is None and said_word(text) in BACK_WORDS:
                raise _Back
            if which is not None:
                meant = self._meant(ctx, flow, which, data)
                if meant == "open":
                    return self._leave_for(ctx, which["feature"])
                if meant == "fill":
                    answering, command, heard = _answering_with(ctx, which["word"]), None, None
            if command is not None and text is not None and isinstance(step, Ask):
                data[WHICH] = {"word": text.strip(), "feature": command, "field": step.label}
                self._save(ctx, flow, step, data)
                return [self._prompt(ctx, flow, WHICH_MEANT, data)]
            confirmed = _heard_confirmed(ctx, flow.name) if heard is not None else None
            if confirmed is False:
                self._save(ctx, flow, step, data)
                prompt = self._prompt(ctx, flow, step, data)
                again = ctx.t("好的，请再说一遍，或直接打字回复。")
                return [Reply(again + "\n" + prompt.text, buttons=prompt.buttons)]
            if confirmed:
                assert heard is not None
                value = heard["value"]
            else:
                try:
                    value = step.accept(answering, flow.name, data)
                except Invalid:
                    named = self._field_named(ctx, flow, step, data) if isinstance(step, Confirm) else None
                    if named is not None:
                        return [self._edit(ctx, flow, step, named, data)]
                    if command is not None:
                        return self._leave_for(ctx, command)
                    raise
                if answering.incoming.spoken and isinstance(step, SPOKEN_FIELDS):
                    data[HEARD] = {"said": text, "value": value}
                    self._save(ctx, flow, step, data)
                    return [self._prompt(ctx, flow, HEARD_CHECK, data)]
        except _Back:
            return self._back(ctx, flow, state, step, data, from_question=which is not None)
        except _Cancel:
            return self.cancel(ctx, state)
        except Invalid as invalid:
            reason = ctx.t.sentence(invalid.msgid, invalid.params)
            if invalid.goto and isinstance(step, Confirm):
                # A summary that no longer holds (its time has passed): fix that answer, then see it again.
                prompt = self._edit(ctx, flow, step, flow.steps[flow.position(invalid.goto)], data)
            else:
                target = flow.steps[flow.position(invalid.goto)] if invalid.goto else step
                self._save(ctx, flow, target, data)
                prompt = self._prompt(ctx, flow, target, data)
            return [Reply(reason + "\n" + prompt.text, buttons=prompt.buttons)]
        except DomainError:
            self.close(ctx)
            raise
        before = dict(data)
        editing = data.get(EDITING)
        data[step.key] = value
        said = step.understood(ctx, value)
        # What was not kept, and what the answer was taken to mean, come before what follows.
        first = [*_left_out(ctx, step), *([Reply(said)] if said else [])]
        following = self._following(flow, step, data, before)
        if following is None:
            self.close(ctx)
            ctx.session.flush()
            return [*first, *flow.on_done(ctx, data)]
        if editing is not None and following.key == editing["to"]:
            return [*first, self._summary(ctx, flow, following, step, data)]
        self._save(ctx, flow, following, data)
        return [*first, self._prompt(ctx, flow, following, data)]

    def _summary(self, ctx: Context, flow: Flow, confirm: Step, changed: Step, data: Data) -> Reply:
        """The summary again after one answer was changed from it.

        A change can break a rule between answers the summary checks (an
        activity now starting before its sign-up deadline): then the reason,
        and the question that answers the broken rule (the confirm step's
        ``fixes``), else the question after the changed one (or the changed one
        again, when the summary comes next), before the summary is shown again.
        """
        self._save(ctx, flow, confirm, data)
        try:
            return self._prompt(ctx, flow, confirm, data)
        except InvalidInput as error:
            fix = confirm.fixes.get(error.code) if isinstance(confirm, Confirm) else None
            after = flow.first(data, flow.position(changed.key) + 1)
            retry = changed if after is None or after.key == confirm.key else after
            if fix is not None and fix != changed.key:
                retry = flow.steps[flow.position(fix)]
            data[EDITING] = {"to": confirm.key, "from": retry.key, "kept": {}}
            self._save(ctx, flow, retry, data)
            prompt = self._prompt(ctx, flow, retry, data)
            return Reply(ctx.t.error(error) + "\n" + prompt.text, buttons=prompt.buttons)

    def _back(
        self, ctx: Context, flow: Flow, state: DialogState, step: Step, data: Data, *, from_question: bool
    ) -> list[Reply]:
        """返回: from "which did you mean" to its question; while changing one answer from the summary,
        at the step named back to the summary as it was, later in that field to the step named; else
        the step before, or out of the form at its first step."""
        editing = data.get(EDITING)
        if from_question:
            target: Step | None = step
        elif editing is not None and step.key == editing["from"]:
            del data[EDITING]
            data.update(editing["kept"])
            return [self._summary(ctx, flow, flow.steps[flow.position(editing["to"])], step, data)]
        elif editing is not None:
            target = flow.steps[flow.position(editing["from"])]
        else:
            target = flow.previous(step.key, data)
        if target is None:
            return self.cancel(ctx, state)
        self._save(ctx, flow, target, data)
        return [self._prompt(ctx, flow, target, data)]

    def _following(self, flow: Flow, step: Step, data: Data, before: Data) -> Step | None:
        """The step after ``step`` now that it is answered.

        A later answer whose step no longer applies is dropped (a second photo
        once the first is taken back). While changing one answer from the
        summary, steps already answered are passed over, so only what the
        change newly asks for is asked before the summary comes back.
        """
        later = flow.steps[flow.position(step.key) + 1 :]
        for other in later:
            if other.skipped(data) and not other.skipped(before):
                data.pop(other.key, None)
        editing = data.get(EDITING)
        for other in later:
            if other.skipped(data):
                continue
            if editing is not None:
                if other.key == editing["to"]:
                    del data[EDITING]
                elif other.key in data:
                    continue
            return other
        data.pop(EDITING, None)
        return None

    def _fields(self, ctx: Context, flow: Flow, confirm: Step, data: Data) -> list[_Field]:
        """The fields a summary can change: each one's label, the names it answers to, the step asking it."""
        fields: list[_Field] = []
        for step in flow.steps[: flow.position(confirm.key)]:
            label = step.label
            if label is None or any(label == known for known, _, _ in fields) or step.skipped(data):
                continue
            fields.append((label, {normalise(ctx.t(label)), normalise(label)}, step))
        return fields

    def _field_named(self, ctx: Context, flow: Flow, confirm: Step, data: Data) -> Step | None:
        """The step whose field the member named at a summary ("标题", "改标题", "措施"), if exactly one."""
        said = said_word(ctx.incoming.text or "") if ctx.incoming.button is None else ""
        for prefix in _EDIT_PREFIXES:
            if said.startswith(prefix) and len(said) > len(prefix):
                said = said.removeprefix(prefix).strip(_PUNCTUATION)
                break
        if not said:
            return None
        fields = self._fields(ctx, flow, confirm, data)
        for _, names, step in fields:
            if said in names:
                return step
        partly = [step for _, names, step in fields if len(said) >= 2 and any(said in name for name in names)]
        return partly[0] if len(partly) == 1 else None

    def _edit(self, ctx: Context, flow: Flow, confirm: Step, target: Step, data: Data) -> Reply:
        """Ask ``target`` again, to come back to ``confirm`` once it is answered.

        The later answers of the same field are set aside, so the field is
        asked whole (the photos from the first); 返回 puts them back.
        """
        kept = {}
        for later in flow.steps[flow.position(target.key) + 1 : flow.position(confirm.key)]:
            if target.label is not None and later.label == target.label and later.key in data:
                kept[later.key] = data.pop(later.key)
        data[EDITING] = {"to": confirm.key, "from": target.key, "kept": kept}
        self._save(ctx, flow, target, data)
        return self._prompt(ctx, flow, target, data)

    def _meant(self, ctx: Context, flow: Flow, which: Data, data: Data) -> str | None:
        """What the answer to "which did you mean" chose, "open" or "fill"; None for a fresh answer.

        The word said again means the feature: the member insists on it.
        """
        text = ctx.incoming.text
        if ctx.incoming.button is None and text is not None and said_word(text) == said_word(which["word"]):
            return "open"
        try:
            return str(WHICH_MEANT.accept(ctx, flow.name, {**data, WHICH: which}))
        except Invalid:
            return None

    def _leave_for(self, ctx: Context, feature: str) -> list[Reply]:
        self.close(ctx)
        return self.open_feature(ctx, feature)

    def _save(self, ctx: Context, flow: Flow, step: Step, data: Data) -> None:
        ctx.dialog_closed = False  # the upsert replaces whatever dialog was open
        save_dialog(
            ctx.session, account_id=ctx.account_id, flow=flow.name, step=step.key, data=data, now=ctx.now
        )
        ctx.session.flush()

    def _prompt(self, ctx: Context, flow: Flow, step: Step, data: Data) -> Reply:
        reply = step.prompt(ctx, flow.name, data)
        lines = [reply.text]
        if isinstance(step, Confirm):
            fields = self._fields(ctx, flow, step, data)
            if fields:
                typed = [field for field in fields if isinstance(field[2], Ask)] or fields
                example = ctx.t(typed[0][0])
                lines.append(ctx.t("要修改哪一项，请直接回复它的名称，例如“{field}”。").format(field=example))
        if not flow.quiet_timeout:
            lines.append(step.hint(ctx))
        if len(lines) == 1:
            return reply
        return Reply("\n".join(lines), buttons=reply.buttons, image=reply.image, file=reply.file)
