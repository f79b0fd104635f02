"""困难申报: a member asks for help privately, after being told plainly what is kept and who sees it.

The form begins with what will be collected, who will see it (the cadres of
the member's unit who handle hardship) and how long it is kept, then asks for
an explicit consent: a "no" ends the form and nothing is stored. Then the
category, what happened, the household and its income, the help wanted
(several may be chosen), the urgency, optional photos of documents, how and
when to be contacted, and a summary to confirm.

The form's answers wait in the dialog's row between messages; what a member
confides there (the story, household, income, contact) is sealed at once by
the steps below, so even a half-filled form shows nothing in a copy of the
database. A cadre may file for a member (代为申报): the member is told and sees
it under 我的申请.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import (
    Ask,
    Choose,
    Confirm,
    Data,
    Flow,
    Invalid,
    Number,
    Option,
    Photo,
    Step,
    YesNo,
    Yuan,
)
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.parsing import normalise, parse_index
from models.errors import N_, DomainError
from models.hardship import (
    CATEGORY_LABELS,
    HELP_LABELS,
    CaseDraft,
    HardshipCase,
    HardshipCategory,
    HardshipPolicy,
    HelpKind,
    handles_hardship,
    submit_case,
)
from models.hardship.cases import CONTACT_WAY_MAX, HOUSEHOLD_MAX, INCOME_MAX_FEN, STORY_MAX
from models.members import Member, format_yuan, get_member_by_employee_no
from models.roles import Permission, has_permission
from models.sealed import seal, sealed_in_forms, unseal
from models.units import Unit

# The dialog row holds these answers sealed for the form's own purpose: only this form opens them.
# Declared, so changing the data key re-seals them in the forms still open (python -m bot keys rotate).
DRAFT_PURPOSE = sealed_in_forms("hardship.draft")
FOR = "for"
"""Form data key of the member a cadre files for (代为申报)."""
URGENT, ORDINARY = "urgent", "ordinary"


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def opened(value: Any) -> str:
    """A sealed answer of the form, in clear, for the summary and the application."""
    return unseal(str(value), DRAFT_PURPOSE)


@dataclass(frozen=True)
class SealedAsk(Step):
    """Free text that is sealed the moment it is accepted: the dialog's row never holds it in clear.

    It asks as :class:`Ask` does but is no ``Ask`` to the engine: the engine keeps a spoken
    answer in clear in the form's row while it reads it back ("我听到的是…"), and what a member
    confides here must never wait there in clear, so a spoken answer is taken as said (the
    summary shows it, and any answer can be changed from there).
    """

    key: str
    question: str
    min_length: int = 1
    max_length: int = 200
    optional: bool = False
    skip_if: Callable[[Data], bool] | None = None

    def _ask(self) -> Ask:
        return Ask(
            self.key,
            self.question,
            min_length=self.min_length,
            max_length=self.max_length,
            optional=self.optional,
            label=self.label,
        )

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return self._ask().prompt(ctx, flow, data)

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = self._ask().accept(ctx, flow, data)
        return None if value is None else seal(value, DRAFT_PURPOSE)


@dataclass(frozen=True)
class SealedNumber(Step):
    """A whole number sealed once accepted (the household's size); no read-back of speech, as above."""

    key: str
    question: str
    minimum: int
    maximum: int
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        return Reply(ctx.t(self.question))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        number = Number(self.key, self.question, minimum=self.minimum, maximum=self.maximum)
        return seal(str(number.accept(ctx, flow, data)), DRAFT_PURPOSE)


@dataclass(frozen=True)
class SealedYuan(Yuan):
    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        return None if value is None else seal(str(value), DRAFT_PURPOSE)


@dataclass(frozen=True)
class ManyChoices(Step):
    """Several of a numbered list at once: "1 3", "1、3", "慰问 助学"; 好了-free, one answer."""

    key: str
    question: str
    options: Sequence[Option]
    skip_if: Callable[[Data], bool] | None = None

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        lines = [ctx.t(self.question)]
        lines += [f"{index}. {option.text(ctx)}" for index, option in enumerate(self.options, start=1)]
        lines.append(ctx.t("（可以多选，例如回复“1 3”）"))
        return Reply("\n".join(lines))

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        text = ctx.incoming.text
        if text is None or not text.strip():
            raise Invalid(N_("请回复选项前的数字，可以多选，例如“1 3”。"))
        chosen: list[str] = []
        for part in _split_choices(text):
            value = self._one(ctx, part)
            if value is None:
                raise Invalid(
                    N_("没有“{said}”这个选项，请回复 1 到 {count} 之间的数字，可以多选。"),
                    said=part,
                    count=len(self.options),
                )
            if value not in chosen:
                chosen.append(value)
        if not chosen:
            raise Invalid(N_("请回复选项前的数字，可以多选，例如“1 3”。"))
        return chosen

    def _one(self, ctx: Context, part: str) -> str | None:
        index = parse_index(part)
        if index is not None:
            return self.options[index - 1].value if 1 <= index <= len(self.options) else None
        said = normalise(part)
        for option in self.options:
            if said in {
                normalise(option.text(ctx)),
                normalise(option.label),
                *map(normalise, option.aliases),
            }:
                return option.value
        return None


def _split_choices(text: str) -> list[str]:
    parts = [part for part in re.split(r"[\s,，、;；和及]+", text.strip()) if part]
    # "13" typed without a space means 1 and 3 when the list is short enough for single digits.
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) > 1:
        return list(parts[0])
    return parts


CATEGORY_OPTIONS = tuple(Option(category.value, label) for category, label in CATEGORY_LABELS.items())
HELP_OPTIONS = tuple(Option(kind.value, label) for kind, label in HELP_LABELS.items())
URGENCY_OPTIONS = (
    Option(URGENT, N_("紧急"), aliases=("緊急", "urgent", "很急", "急")),
    Option(ORDINARY, N_("一般"), aliases=("普通", "不急", "ordinary")),
)


def _consent_text(ctx: Context, data: Data) -> dict[str, Any]:
    return {"years": ctx.config.policy(HardshipPolicy).retention_years}


CONSENT_QUESTION = N_(
    "申请困难帮扶前，请先了解：\n"
    "· 我们会收集：困难类别、家里发生的事、家庭人口和月收入、希望得到的帮助、联系方式，"
    "以及您自愿提供的证明材料照片。\n"
    "· 只有负责您所在单位困难帮扶的工会干部能看到这些内容；内容加密保存，每次查阅都有记录，"
    "通知消息里不会出现任何细节。\n"
    "· 申请办结满 {years} 年后，这些个人信息会被删除，只保留不含姓名的统计数字。\n"
    "您同意提供以上信息吗？"
)
CONSENT_FOR_QUESTION = N_(
    "代为申报前，请确认：您已向这位会员说明我们会收集哪些信息、只有负责其单位困难帮扶的工会干部能看到、"
    "申请办结满 {years} 年后个人信息会被删除，并且本人同意由您代为申报。确认吗？"
)


def _refused(data: Data) -> bool:
    return data.get("consent") is False


def _lines(ctx: Context, data: Data) -> list[str]:
    _ = ctx.t
    kinds = "、".join(_(HELP_LABELS[HelpKind(kind)]) for kind in data["help"])
    photos = sum(1 for key in ("photo1", "photo2", "photo3") if data.get(key))
    lines = [
        _("困难类别：{category}").format(category=_(CATEGORY_LABELS[HardshipCategory(data["category"])])),
        _("情况说明：{story}").format(story=opened(data["story"])),
        _("家庭人口：{count} 人").format(count=opened(data["household"])),
        _("家庭月收入：{amount} 元").format(amount=format_yuan(int(opened(data["income"])))),
        _("希望得到的帮助：{kinds}").format(kinds=kinds),
        _("紧急程度：{urgency}").format(
            urgency=_(URGENCY_OPTIONS[0 if data["urgency"] == URGENT else 1].label)
        ),
        _("联系方式：{contact}").format(contact=opened(data["contact"])),
    ]
    if photos:
        lines.append(
            _.ngettext("证明材料照片：{count} 张", "证明材料照片：{count} 张", photos).format(count=photos)
        )
    return lines


def _summary(ctx: Context, data: Data) -> str:
    lines = [ctx.t("请核对您的帮扶申请：")]
    if FOR in data:
        member = ctx.session.get(Member, int(data[FOR]))
        assert member is not None
        lines = [ctx.t("请核对为{name}代为申报的帮扶申请：").format(name=member.name)]
    return "\n".join([*lines, *_lines(ctx, data)])


def _draft(data: Data) -> CaseDraft:
    photos = [
        (str(photo["ref"]), photo.get("mime_type"))
        for key in ("photo1", "photo2", "photo3")
        if isinstance(photo := data.get(key), dict) and photo.get("ref")
    ]
    return CaseDraft(
        consented=bool(data.get("consent")),
        category=HardshipCategory(data["category"]),
        story=opened(data["story"]),
        household_size=int(opened(data["household"])),
        income_fen=int(opened(data["income"])),
        help_wanted=[HelpKind(kind) for kind in data["help"]],
        urgent=data["urgency"] == URGENT,
        contact_way=opened(data["contact"]),
        photos=photos,
    )


def receipt(ctx: Context, case: HardshipCase, *, for_member: Member | None = None) -> str:
    _ = ctx.t
    day = _("{month}月{day}日")
    contact = day.format(month=case.contact_due_on.month, day=case.contact_due_on.day)
    visit = day.format(month=case.visit_due_on.month, day=case.visit_due_on.day)
    if for_member is not None:
        lines = [
            _("已为{name}登记帮扶申请，编号 {number}。本人会收到通知，也能在“我的申请”里看到。").format(
                name=for_member.name, number=case.number
            )
        ]
    else:
        lines = [_("已收到您的帮扶申请，编号 {number}。").format(number=case.number)]
    lines.append(
        _("按规定，工会干部会在 {contact} 前和您联系，{visit} 前上门走访。").format(
            contact=contact, visit=visit
        )
    )
    if case.urgent:
        lines.append(_("这是紧急申请，我们已经通知负责的工会干部尽快处理。"))
    lines.append(_("每有进展都会通知您（通知里不含任何细节），也可以随时回复“我的申请”查看。"))
    return "\n".join(lines)


def _submitted(ctx: Context, data: Data) -> list[Reply]:
    if not data.get("consent"):
        text = ctx.t("好的，我们没有保存任何信息。如需帮助，也可以直接找本单位工会。")
        return show_menu(ctx, intro=[Reply(text)])
    for_member = ctx.session.get(Member, int(data[FOR])) if FOR in data else None
    case = submit_case(
        ctx.session,
        actor=_actor(ctx),
        draft=_draft(data),
        policy=ctx.config.policy(HardshipPolicy),
        now=ctx.now,
        on_behalf_of=for_member,
        channel=ctx.incoming.channel,
    )
    return show_menu(ctx, intro=[Reply(receipt(ctx, case, for_member=for_member))])


def _steps() -> tuple[Step, ...]:
    return (
        Choose(
            "category",
            N_("请选择困难类别："),
            options=CATEGORY_OPTIONS,
            skip_if=_refused,
            label=N_("困难类别"),
        ),
        SealedAsk(
            "story",
            N_("请说说家里遇到了什么困难（不超过 2000 字）："),
            max_length=STORY_MAX,
            skip_if=_refused,
            label=N_("情况说明"),
        ),
        SealedNumber(
            "household",
            N_("家里一共几口人？（请回复数字）"),
            minimum=1,
            maximum=HOUSEHOLD_MAX,
            skip_if=_refused,
            label=N_("家庭人口"),
        ),
        SealedYuan(
            "income",
            N_("全家每月总收入大约多少元？（例如“3000”；没有收入请回复“0”）"),
            maximum_fen=INCOME_MAX_FEN,
            unreadable=N_("没看懂这个金额。请输入每月多少元，例如“3000”或“3000元”。"),
            skip_if=_refused,
            label=N_("家庭月收入"),
        ),
        ManyChoices(
            "help",
            N_("希望得到哪些帮助？"),
            options=HELP_OPTIONS,
            skip_if=_refused,
            label=N_("希望得到的帮助"),
        ),
        Choose(
            "urgency", N_("情况紧急吗？"), options=URGENCY_OPTIONS, skip_if=_refused, label=N_("紧急程度")
        ),
        Photo(
            "photo1",
            N_("可以发证明材料的照片（如诊断书、收入证明，最多 3 张），照片加密保存。"),
            optional=True,
            skip_if=_refused,
            label=N_("证明材料照片"),
        ),
        Photo(
            "photo2",
            N_("收到照片。还可以再发一张。"),
            optional=True,
            skip_if=lambda data: _refused(data) or not data.get("photo1"),
            label=N_("证明材料照片"),
        ),
        Photo(
            "photo3",
            N_("收到照片。还可以再发最后一张。"),
            optional=True,
            skip_if=lambda data: _refused(data) or not data.get("photo2"),
            label=N_("证明材料照片"),
        ),
        SealedAsk(
            "contact",
            N_("工会干部怎样、在什么时间和您联系比较方便？（例如“工作日晚上打电话”）"),
            max_length=CONTACT_WAY_MAX,
            skip_if=_refused,
            label=N_("联系方式"),
        ),
        Confirm(summary=_summary, skip_if=_refused),
    )


REPORT = Flow(
    name="hardship_report",
    steps=(YesNo("consent", CONSENT_QUESTION, params=_consent_text), *_steps()),
    on_done=_submitted,
)


def _member_for(ctx: Context, text: str, data: Data) -> None:
    """The member a cadre files for, by 工号, if the cadre handles hardship over their unit."""
    try:
        member = get_member_by_employee_no(ctx.session, text.strip())
    except DomainError:
        raise Invalid(
            N_("找不到工号为 {employee_no} 的会员，请核对后重新输入。"), employee_no=text.strip()
        ) from None
    unit = ctx.session.get(Unit, member.unit_id)
    if unit is None or not has_permission(ctx.session, _actor(ctx), Permission.HANDLE_HARDSHIP, unit):
        raise Invalid(
            N_("工号 {employee_no} 的会员不在您负责的单位，不能代为申报。"), employee_no=text.strip()
        )
    data[FOR] = member.id


REPORT_FOR = Flow(
    name="hardship_report_for",
    steps=(
        Ask(
            "employee_no",
            N_("请输入要代为申报的会员的工号："),
            max_length=32,
            validate=_member_for,
            label=N_("工号"),
        ),
        YesNo("consent", CONSENT_FOR_QUESTION, params=_consent_text),
        *_steps(),
    ),
    on_done=_submitted,
)


def _report(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, REPORT)


def _report_for(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, REPORT_FOR)


def can_handle(ctx: Context) -> bool:
    return ctx.member is not None and handles_hardship(ctx.session, ctx.member)


FLOWS: tuple[Flow, ...] = (REPORT, REPORT_FOR)

REPORT_FEATURE = Feature(
    name="hardship",
    rank=25,
    label=N_("困难申报"),
    summary=N_("家里遇到困难，私下向工会申请帮扶；内容加密保存，只有负责的干部能看到"),
    words=(
        "/hardship",
        "困难申报",
        "困難申報",
        "困难帮扶",
        "困難幫扶",
        "申请困难补助",
        "申請困難補助",
        "困难补助",
        "困難補助",
        "困难",
        "困難",
        "帮扶",
        "幫扶",
        "救助",
        "申请救助",
        "申請救助",
        "hardship",
    ),
    phrases=(
        "困难补助",
        "困難補助",
        "困难帮扶",
        "困難幫扶",
        "申请补助",
        "申請補助",
        "救助",
        "困难",
        "困難",
        "帮扶",
        "幫扶",
    ),
    run=_report,
)

REPORT_FOR_FEATURE = Feature(
    name="hardship_report_for",
    rank=106,
    section=MenuSection.HARDSHIP,
    label=N_("代为申报"),
    summary=N_("为不方便使用手机的会员代为登记帮扶申请"),
    words=("代为申报", "代為申報", "代申报", "代申報", "file for a member"),
    run=_report_for,
    available=can_handle,
)
