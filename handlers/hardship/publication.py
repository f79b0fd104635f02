"""帮扶公示: an admin publishes a period's assistance, names masked; each member concerned hears first.

The admin picks a period and sees what would be shown (张*明 · 一车间 · 重大疾病 ·
2000.00 元); confirming tells each member concerned (a push that names no amount
and no category) and fixes the lines. The member may answer 公示意见 and, where
the union allows it, ask to be left out. After the notice days the admin
publishes: the lines go out as openness notices (会费使用公开), split into
several when they do not fit one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlmodel import Session

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Invalid, Option, YesNo
from handlers.core.features import Feature, MenuSection
from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.parsing import parse_index
from handlers.core.pushes import Push, Renderer
from models.errors import N_, InvalidInput
from models.hardship import CATEGORY_LABELS, HardshipPolicy
from models.hardship.publication import (
    BODY_LIMIT,
    NOTICE_TOPIC,
    NOTICE_TOPIC_OF_NOTICES,
    NoticeText,
    PublicationPreview,
    PublicationState,
    PublicationStatus,
    PublicLine,
    announce_publication,
    can_publish,
    cancel_publication,
    coming_publications,
    label_is_category,
    my_publications,
    policy_notice_days,
    preview_publication,
    publication_state,
    publish_publication,
    withhold_entries,
)
from models.hardship.publication import HardshipPublication as Publication
from models.members import Member, format_yuan
from models.outbox import PushRow
from models.periods import Period, parse_period
from models.units import Unit

PREVIEW_LINES = 10
NEW = "new"


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _policy(ctx: Context) -> HardshipPolicy:
    return ctx.config.policy(HardshipPolicy)


def _may_publish(ctx: Context) -> bool:
    return ctx.member is not None and can_publish(ctx.session, ctx.member)


def period_title(t: Any, period: Period) -> str:
    msgid, params = period.title
    return str(t(msgid)).format(**params)


def _label(t: Any, line_label: str, campaigns: dict[int, str]) -> str:
    category = label_is_category(line_label)
    if category is not None:
        return str(t(CATEGORY_LABELS[category]))
    campaign_id = int(line_label.split(":")[1])
    return campaigns.get(campaign_id, str(t("送温暖")))


def line_text(t: Any, line: PublicLine, campaigns: dict[int, str]) -> str:
    """张*明　一车间　重大疾病　2000.00 元: the only facts a 公示 shows."""
    return str(t("{name}　{unit}　{label}　{amount} 元")).format(
        name=line.masked_name,
        unit=line.unit_name,
        label=_label(t, line.label, campaigns),
        amount=format_yuan(line.amount_fen),
    )


def notice_texts(t: Any, state: PublicationState) -> list[NoticeText]:
    """The lines as notices, each within a notice's length; a title naming the part when there are several."""
    header = str(
        t("以下为{period}困难职工帮扶资金发放情况（姓名已作隐去处理），如有异议请向工会反映。")
    ).format(period=period_title(t, state.period))
    footer = str(t("合计 {count} 项，{amount} 元。")).format(
        count=len(state.lines), amount=format_yuan(state.total_fen)
    )
    room = BODY_LIMIT - len(header) - len(footer) - 4
    chunks: list[list[str]] = [[]]
    used = 0
    for line in state.lines:
        text = line_text(t, line, state.campaigns)
        if chunks[-1] and used + len(text) + 1 > room:
            chunks.append([])
            used = 0
        chunks[-1].append(text)
        used += len(text) + 1
    title = str(t("{period}帮扶资金公示")).format(period=period_title(t, state.period))
    texts = []
    for number, chunk in enumerate(chunks, start=1):
        heading = (
            title
            if len(chunks) == 1
            else str(t("{title}（{part}/{parts}）")).format(title=title, part=number, parts=len(chunks))
        )
        body = "\n".join([header, "", *chunk, "", footer])
        texts.append(NoticeText(title=heading, body=body))
    return texts if state.lines else []


# ----------------------------------------------------------------------------- the admin


def _period_options(ctx: Context, data: Data) -> Sequence[Option]:
    today = _policy(ctx).today(ctx.now)
    month, quarter = Period.month_of(today).previous(), Period.quarter_of(today).previous()
    year = Period.year_of(today).previous()
    return [
        Option(month.key, period_title(ctx.t, month), literal=True),
        Option(quarter.key, period_title(ctx.t, quarter), literal=True),
        Option(year.key, period_title(ctx.t, year), literal=True),
    ]


@dataclass(frozen=True)
class PeriodStep(Choose):
    """Last month, last quarter, last year — or a period typed as 2026Q3 or 2026-10."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        try:
            return super().accept(ctx, flow, data)
        except Invalid:
            text = ctx.incoming.text
            if text is None or parse_index(text) is not None:
                raise
            try:
                return parse_period(text).key
            except InvalidInput as error:
                raise Invalid.from_error(error) from None


def _confirm_params(ctx: Context, data: Data) -> dict[str, Any]:
    period = parse_period(str(data["period"]))
    preview = preview_publication(ctx.session, actor=_actor(ctx), period=period, policy=_policy(ctx))
    return {
        "period": period_title(ctx.t, period),
        "lines": len(preview.lines),
        "members": preview.members,
        "amount": format_yuan(preview.total_fen),
        "days": _notice_days(ctx),
        "sample": _sample(ctx, preview),
    }


def _sample(ctx: Context, preview: PublicationPreview) -> str:
    """The first lines as the 公示 will show them, so the admin sees the masking before anyone is told."""
    shown = [
        line_text(
            ctx.t,
            PublicLine(line.masked_name, _unit_name(ctx.session, line.unit_id), line.label, line.amount_fen),
            preview.campaigns,
        )
        for line in preview.lines[:PREVIEW_LINES]
    ]
    if len(preview.lines) > PREVIEW_LINES:
        shown.append(ctx.t("……共 {count} 项").format(count=len(preview.lines)))
    return "\n".join(shown)


def _notice_days(ctx: Context) -> int:
    return policy_notice_days(_policy(ctx))


def _announced(ctx: Context, data: Data) -> list[Reply]:
    if not data.get("confirm"):
        return [Reply(ctx.t("好的，没有通知任何人。"))]
    period = parse_period(str(data["period"]))
    publication = announce_publication(
        ctx.session, actor=_actor(ctx), period=period, now=ctx.now, policy=_policy(ctx)
    )
    state = publication_state(
        ctx.session, actor=_actor(ctx), publication_id=publication.id or 0, policy=_policy(ctx)
    )
    when = publication.publish_from.astimezone(_policy(ctx).zone).strftime("%Y-%m-%d %H:%M")
    return [
        Reply(
            ctx.t("已通知 {members} 位相关会员。{date} 以后可以在“帮扶公示”中发布。").format(
                members=state.members, date=when
            )
        )
    ]


NEW_PUBLICATION = Flow(
    name="hardship_publication_new",
    steps=(
        PeriodStep(
            "period",
            N_("公示哪个时段的帮扶发放？请选择，或输入例如 2026Q4、2026-11。"),
            options=_period_options,
        ),
        YesNo(
            "confirm",
            N_(
                "{period}共发放帮扶 {lines} 项，涉及 {members} 人，合计 {amount} 元。"
                "公示只显示打码后的姓名、单位、类别和金额：\n{sample}\n"
                "先通知相关会员，{days} 天后再发布，可以吗？"
            ),
            params=_confirm_params,
        ),
    ),
    on_done=_announced,
)


@dataclass(frozen=True)
class ComingList(Choose):
    """The admin's announced 公示, and a new one."""


def _coming_options(ctx: Context, data: Data) -> Sequence[Option]:
    options = [
        Option(str(publication.id), _coming_label(ctx, publication), literal=True)
        for publication in coming_publications(ctx.session, actor=_actor(ctx))
    ]
    options.append(Option(NEW, N_("新的公示"), aliases=("新公示",)))
    return options


def _coming_label(ctx: Context, publication: Publication) -> str:
    return ctx.t("{period}（待发布）").format(
        period=period_title(ctx.t, parse_period(publication.period_key))
    )


def state_text(ctx: Context, state: PublicationState) -> str:
    _ = ctx.t
    when = state.publication.publish_from.astimezone(_policy(ctx).zone).strftime("%Y-%m-%d %H:%M")
    lines = [
        _("【{period}帮扶资金公示】").format(period=period_title(_, state.period)),
        _("已通知 {members} 人；{withheld} 项应本人要求不公示；可发布时间：{date}。").format(
            members=state.members, withheld=state.withheld, date=when
        ),
        _("将公示 {count} 项，合计 {amount} 元：").format(
            count=len(state.lines), amount=format_yuan(state.total_fen)
        ),
    ]
    lines += [line_text(_, line, state.campaigns) for line in state.lines[:PREVIEW_LINES]]
    if len(state.lines) > PREVIEW_LINES:
        lines.append(_("……共 {count} 项").format(count=len(state.lines)))
    return "\n".join(lines)


def _picked(ctx: Context, data: Data) -> list[Reply]:
    if data["publication"] == NEW:
        return ctx.dialogs.start(ctx, NEW_PUBLICATION)
    publication_id = int(data["publication"])
    state = publication_state(
        ctx.session, actor=_actor(ctx), publication_id=publication_id, policy=_policy(ctx)
    )
    return ctx.dialogs.start(
        ctx, ACT, data={"publication": publication_id}, intro=[Reply(state_text(ctx, state))]
    )


COMING = Flow(
    name="hardship_publications",
    steps=(ComingList("publication", N_("帮扶公示："), options=_coming_options),),
    on_done=_picked,
    browse=True,
)


def _act_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("publish", N_("发布"), aliases=("发布公示",)),
        Option("cancel", N_("撤销这次公示"), aliases=("撤销",)),
        Option("back", N_("返回"), aliases=()),
    ]


def _acted(ctx: Context, data: Data) -> list[Reply]:
    publication_id = int(data["publication"])
    action = str(data["action"])
    if action == "publish":
        state = publication_state(
            ctx.session, actor=_actor(ctx), publication_id=publication_id, policy=_policy(ctx)
        )
        texts = notice_texts(ctx.t, state)
        publish_publication(
            ctx.session,
            actor=_actor(ctx),
            publication_id=publication_id,
            texts=texts,
            now=ctx.now,
            policy=_policy(ctx),
            channel=ctx.incoming.channel,
        )
        return [Reply(ctx.t("帮扶公示已发布（{count} 条会费使用公开通知）。").format(count=len(texts)))]
    if action == "cancel":
        cancel_publication(ctx.session, actor=_actor(ctx), publication_id=publication_id, now=ctx.now)
        return [Reply(ctx.t("这次公示已撤销，可以重新选择时段公示。"))]
    return ctx.dialogs.start(ctx, COMING)


ACT = Flow(
    name="hardship_publication_act",
    steps=(Choose("action", N_("需要做什么？"), options=_act_options),),
    on_done=_acted,
    browse=True,
)


def _publications(ctx: Context, arg: str) -> list[Reply]:
    if not coming_publications(ctx.session, actor=_actor(ctx)):
        return ctx.dialogs.start(ctx, NEW_PUBLICATION)
    return ctx.dialogs.start(ctx, COMING)


PUBLICATION_FEATURE = Feature(
    name="hardship_publication",
    rank=264,
    section=MenuSection.HARDSHIP,
    label=N_("帮扶公示"),
    summary=N_("公示一个时段的帮扶发放，姓名打码，先告知本人"),
    words=("/publication", "帮扶公示", "公示帮扶"),
    run=_publications,
    available=_may_publish,
)


# ----------------------------------------------------------------------------- the member concerned


def _mine_text(ctx: Context, member: Member) -> tuple[str, list[int]]:
    _ = ctx.t
    mine = my_publications(ctx.session, actor=member)
    if not mine:
        return _("目前没有涉及您的帮扶公示。"), []
    lines = []
    open_ids = []
    for item in mine:
        period = period_title(_, parse_period(item.publication.period_key))
        lines.append(_("工会将公示{period}的帮扶发放，涉及您的内容将显示为：").format(period=period))
        for entry in item.entries:
            line = PublicLine(
                entry.masked_name, _unit_name(ctx.session, entry.unit_id), entry.label, entry.amount_fen
            )
            lines.append(line_text(_, line, {}))
        if item.withheld:
            lines.append(_("您已申请不公示，这些内容不会公示。"))
        else:
            open_ids.append(item.publication.id or 0)
    return "\n".join(lines), open_ids


def _unit_name(session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    return unit.name if unit is not None else ""


def _withhold_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("withhold", N_("申请不公示"), aliases=("不公示",)),
        Option("agree", N_("同意公示"), aliases=("同意",)),
    ]


def _withhold_chosen(ctx: Context, data: Data) -> list[Reply]:
    if data["choice"] != "withhold":
        return [Reply(ctx.t("好的，谢谢您的理解。"))]
    for publication_id in data.get("open", []):
        withhold_entries(
            ctx.session,
            actor=_actor(ctx),
            publication_id=int(publication_id),
            now=ctx.now,
            policy=_policy(ctx),
        )
    return [Reply(ctx.t("已记下：涉及您的内容不会公示。"))]


WITHHOLD = Flow(
    name="hardship_publication_withhold",
    steps=(Choose("choice", N_("您的意见是？"), options=_withhold_options),),
    on_done=_withhold_chosen,
)


def _mine(ctx: Context, arg: str) -> list[Reply]:
    text, open_ids = _mine_text(ctx, _actor(ctx))
    if not open_ids:
        return [Reply(text)]
    if not _policy(ctx).publication_may_withhold:
        note = ctx.t("按本会规定，帮扶公示不能申请不公示。如有顾虑，请联系工会干部。")
        return [Reply(text + "\n\n" + note)]
    return ctx.dialogs.start(ctx, WITHHOLD, data={"open": open_ids}, intro=[Reply(text)])


MY_PUBLICATION = Feature(
    name="hardship_publication_mine",
    rank=268,
    label=N_("公示意见"),
    summary=N_("查看涉及您的帮扶公示，可以申请不公示"),
    words=("公示意见", "不公示", "我的公示"),
    run=_mine,
    available=lambda ctx: ctx.member is not None,
    in_menu=False,
)


# ----------------------------------------------------------------------------- the push


TOLD_TITLE = N_("帮扶公示告知")
TOLD_TEXT = N_(
    "工会将公示{period}的帮扶发放情况，其中包括您（只显示打码后的姓名、单位、类别和金额）。如有意见，请回复“公示意见”。"
)


def render_told(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The member concerned hears a 公示 is coming; nothing of what they were given."""
    publication = session.get(Publication, row.subject_id) if row.subject_id is not None else None
    if publication is None:
        return None
    if publication.status is not PublicationStatus.NOTIFIED:
        return None
    text = t(TOLD_TEXT).format(period=period_title(t, parse_period(publication.period_key)))
    heading = t(TOLD_TITLE)
    return Push(title=heading, reply=Reply(t("【{title}】").format(title=heading) + text), body=text)


FEATURES: tuple[Feature, ...] = (PUBLICATION_FEATURE, MY_PUBLICATION)
FLOWS: tuple[Flow, ...] = (NEW_PUBLICATION, COMING, ACT, WITHHOLD)
RENDERERS: dict[str, Renderer] = {NOTICE_TOPIC: render_told}
PRODUCES: tuple[str, ...] = (NOTICE_TOPIC, NOTICE_TOPIC_OF_NOTICES)
