"""送温暖: a hardship cadre opens a campaign, sees who qualifies in their units, records each gift.

送温暖 lists the campaigns the cadre takes part in (opened on their unit, above
or below it) and 开展新活动. A campaign shows its period, its criteria and its
budget against what was given; from there 对象名单 (who qualifies in the
cadre's units and is still to be given, by 工号: the cadre's to-do; each
listing audited), 登记发放 from the list, 汇总 (per unit and against the
budget) and 导出Excel (everyone who qualifies, given or not, and the totals;
audited). The demo union gets one campaign (:func:`seed_demo_campaign`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import Ask, Choose, Confirm, Data, DateStep, Flow, Invalid, Option, Yuan
from handlers.core.features import Feature, MenuSection
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.paging import Page, PagedList, paged_flow
from handlers.core.pushes import Renderer
from handlers.core.steps import UnitsStep
from handlers.hardship.report import ManyChoices
from handlers.hardship.sheets import (
    DATE_FORMAT,
    MIME_TYPE,
    YUAN_FORMAT,
    Sheet,
    first_sheet,
    new_workbook,
    save,
    yuan,
)
from models.errors import N_, InvalidInput
from models.hardship import CATEGORY_LABELS, HardshipCategory, HardshipPolicy, handles_hardship
from models.hardship.actions import hardship_scope
from models.hardship.campaigns import (
    BASIS_LABELS,
    BUDGET_MAX_FEN,
    NAME_MAX,
    PERIOD_MAX_DAYS,
    STAGES_LABELS,
    CampaignBasis,
    CampaignDraft,
    CampaignTotals,
    CaseStages,
    Gift,
    HardshipCampaign,
    Qualifier,
    campaign_export,
    campaign_totals,
    campaign_view,
    campaigns_for,
    give_in_campaign,
    open_campaign,
    qualifier_counts,
    qualifiers,
    spent_fen,
)
from models.hardship.cases import FUND_MAX, GOODS_MAX
from models.members import Member, format_yuan
from models.roles import RoleGrant
from models.units import Unit, UnitTree, unit_path

NEW = "new"
MEMBER = "member"


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _policy(ctx: Context) -> HardshipPolicy:
    return ctx.config.policy(HardshipPolicy)


def _today(ctx: Context) -> date:
    return _policy(ctx).today(ctx.now)


def can_use(ctx: Context) -> bool:
    return ctx.member is not None and handles_hardship(ctx.session, ctx.member)


def money(ctx: Context, fen: int) -> str:
    return ctx.t("{amount} 元").format(amount=format_yuan(fen))


def _period(ctx: Context, campaign: HardshipCampaign) -> str:
    return ctx.t("{start} 至 {end}").format(
        start=campaign.starts_on.isoformat(), end=campaign.ends_on.isoformat()
    )


def _criteria(ctx: Context, campaign: HardshipCampaign) -> str:
    _ = ctx.t
    if campaign.basis is CampaignBasis.UNITS:
        tree = UnitTree(ctx.session)
        names = []
        for unit_id in campaign.unit_ids:
            unit = ctx.session.get(Unit, unit_id)
            if unit is not None:
                names.append(tree.path_of(unit))
        return _("{units} 全体会员").format(units="、".join(names))
    categories = "、".join(_(CATEGORY_LABELS[HardshipCategory(code)]) for code in campaign.categories)
    stages = _(STAGES_LABELS[campaign.stages or CaseStages.OPEN])
    return _("{stages}（{categories}）").format(stages=stages, categories=categories or _("全部类别"))


def _standard(ctx: Context, campaign: HardshipCampaign) -> str:
    parts = []
    if campaign.standard_fen:
        parts.append(money(ctx, campaign.standard_fen))
    if campaign.goods:
        parts.append(campaign.goods)
    return ctx.t("，").join(parts) if parts else ctx.t("未定")


# ----------------------------------------------------------------------------- the campaigns


@dataclass(frozen=True)
class CampaignList(PagedList[HardshipCampaign]):
    """The campaigns the cadre takes part in, running and coming ones first; then 开展新活动."""

    def fetch(
        self, ctx: Context, data: Data, offset: int, limit: int
    ) -> tuple[Sequence[HardshipCampaign], int]:
        found = campaigns_for(ctx.session, actor=_actor(ctx), today=_today(ctx))
        return found[offset : offset + limit], len(found)

    def item(self, ctx: Context, item: HardshipCampaign) -> Option:
        label = ctx.t("{name}（{period}）").format(name=item.name, period=_period(ctx, item))
        return Option(str(item.id), label, literal=True)

    def text(self, ctx: Context, data: Data, page: Page[HardshipCampaign]) -> str:
        if not page.total:
            return ctx.t("您负责的单位目前没有送温暖活动。可以开展一个新活动。")
        return ctx.t("送温暖活动（共 {count} 个），请选择：").format(count=page.total)


def _list_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(NEW, N_("开展新活动"), aliases=("新活动", "new campaign"))]


def _picked_campaign(ctx: Context, data: Data) -> list[Reply]:
    if data["campaign"] == NEW:
        return start_opening(ctx)
    return show_campaign(ctx, int(data["campaign"]))


CAMPAIGNS = paged_flow(
    name="hardship_campaigns",
    steps=(CampaignList("campaign", N_("送温暖活动"), options=_list_options),),
    on_pick=_picked_campaign,
    browse=True,
)


def _summary_text(ctx: Context, campaign: HardshipCampaign, spent: int) -> str:
    _ = ctx.t
    lines = [
        _("【{name}】").format(name=campaign.name),
        _("时间：{period}").format(period=_period(ctx, campaign)),
        _("对象：{criteria}").format(criteria=_criteria(ctx, campaign)),
        _("标准：{standard}；资金来源：{fund}").format(standard=_standard(ctx, campaign), fund=campaign.fund),
        _("预算 {budget}，已发放 {spent}，剩余 {left}").format(
            budget=money(ctx, campaign.budget_fen),
            spent=money(ctx, spent),
            left=money(ctx, campaign.budget_fen - spent),
        ),
    ]
    return "\n".join(lines)


def show_campaign(ctx: Context, campaign_id: int) -> list[Reply]:
    """A campaign and what can be done with it.

    Raises:
        NotFound, PermissionDenied: see :func:`models.hardship.campaigns.campaign_view`.
    """
    view = campaign_view(ctx.session, actor=_actor(ctx), campaign_id=campaign_id)
    intro = Reply(_summary_text(ctx, view.campaign, spent_fen(ctx.session, campaign_id)))
    return ctx.dialogs.start(ctx, CAMPAIGN_MENU, data={"campaign": campaign_id}, intro=[intro])


def _menu_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option("list", N_("对象名单"), aliases=("名单", "登记发放", "发放")),
        Option("totals", N_("汇总"), aliases=("统计", "totals")),
        Option("export", N_("导出Excel"), aliases=("导出", "導出", "excel", "export")),
        Option("back", N_("返回活动列表"), aliases=("活动列表",)),
    ]


def _menu_chosen(ctx: Context, data: Data) -> list[Reply]:
    campaign_id = int(data["campaign"])
    action = str(data["action"])
    if action == "list":
        return ctx.dialogs.start(ctx, QUALIFIERS, data={"campaign": campaign_id})
    if action == "totals":
        totals = campaign_totals(
            ctx.session, actor=_actor(ctx), campaign_id=campaign_id, channel=ctx.incoming.channel
        )
        return ctx.dialogs.start(
            ctx, CAMPAIGN_MENU, data={"campaign": campaign_id}, intro=[Reply(totals_text(ctx, totals))]
        )
    if action == "export":
        reply = export_campaign(ctx, campaign_id)
        return ctx.dialogs.start(ctx, CAMPAIGN_MENU, data={"campaign": campaign_id}, intro=[reply])
    return ctx.dialogs.start(ctx, CAMPAIGNS)


CAMPAIGN_MENU = Flow(
    name="hardship_campaign",
    steps=(Choose("action", N_("需要做什么？"), options=_menu_options),),
    on_done=_menu_chosen,
    browse=True,
)


# ----------------------------------------------------------------------------- who qualifies, giving


def _given_text(ctx: Context, row: Qualifier) -> str:
    if not row.given:
        return ctx.t("未发放")
    parts = [money(ctx, row.amount_fen)] if row.amount_fen else []
    if row.goods:
        parts.append(row.goods)
    return ctx.t("已发放 {what}").format(what=ctx.t("，").join(parts) or ctx.t("物品"))


@dataclass(frozen=True)
class QualifierList(PagedList[Qualifier]):
    """Who qualifies in the cadre's units and has not been given yet; picking one records their gift."""

    def fetch(self, ctx: Context, data: Data, offset: int, limit: int) -> tuple[Sequence[Qualifier], int]:
        page = qualifiers(
            ctx.session,
            actor=_actor(ctx),
            campaign_id=int(data["campaign"]),
            offset=offset,
            limit=limit,
            channel=ctx.incoming.channel,
            not_given_only=True,
        )
        return page.rows, page.listed

    def item(self, ctx: Context, item: Qualifier) -> Option:
        label = ctx.t("{name}（{unit}）{given}").format(
            name=item.name, unit=item.unit_name, given=_given_text(ctx, item)
        )
        return Option(str(item.member_id), label, literal=True)

    def text(self, ctx: Context, data: Data, page: Page[Qualifier]) -> str:
        if page.total:
            return ctx.t("还没发放的有 {count} 人（按工号排列），选择一位登记发放：").format(count=page.total)
        total, _given = qualifier_counts(ctx.session, actor=_actor(ctx), campaign_id=int(data["campaign"]))
        if not total:
            return ctx.t("您负责的单位里没有符合本次活动条件的会员。")
        return ctx.t("符合条件的 {count} 人都已登记发放。").format(count=total)


def _qualifier_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option("back", N_("返回活动"), aliases=("返回活动",))]


def _picked_member(ctx: Context, data: Data) -> list[Reply]:
    campaign_id = int(data["campaign"])
    if data[MEMBER] == "back":
        return show_campaign(ctx, campaign_id)
    return ctx.dialogs.start(ctx, GIVE, data={"campaign": campaign_id, MEMBER: int(data[MEMBER])})


QUALIFIERS = paged_flow(
    name="hardship_campaign_members",
    steps=(QualifierList(MEMBER, N_("对象名单"), options=_qualifier_options),),
    on_pick=_picked_member,
    browse=True,
)


def _campaign(ctx: Context, data: Data) -> HardshipCampaign:
    return campaign_view(ctx.session, actor=_actor(ctx), campaign_id=int(data["campaign"])).campaign


def _way_options(ctx: Context, data: Data) -> Sequence[Option]:
    campaign = _campaign(ctx, data)
    options = []
    if campaign.standard_fen or campaign.goods:
        label = ctx.t("按标准：{standard}").format(standard=_standard(ctx, campaign))
        options.append(Option("standard", label, literal=True, aliases=("按标准", "标准")))
    options.append(Option("other", N_("其他金额或物品"), aliases=("其他",)))
    return options


def _gift_of(ctx: Context, data: Data) -> Gift:
    campaign = _campaign(ctx, data)
    if data.get("way") == "standard":
        amount, goods = campaign.standard_fen, campaign.goods
    else:
        amount = int(data["amount"]) if data.get("amount") is not None else None
        goods = str(data["goods"]) if data.get("goods") else None
    return Gift(
        member_id=int(data[MEMBER]),
        given_on=date.fromisoformat(str(data["given_on"])),
        amount_fen=amount,
        goods=goods,
        fund=campaign.fund,
    )


def _gift_summary(ctx: Context, data: Data) -> str:
    _ = ctx.t
    gift = _gift_of(ctx, data)
    member = ctx.session.get(Member, gift.member_id)
    what = [money(ctx, gift.amount_fen)] if gift.amount_fen else []
    if gift.goods:
        what.append(gift.goods)
    return "\n".join(
        [
            _("登记发放：{campaign}").format(campaign=_campaign(ctx, data).name),
            _("对象：{name}").format(name=member.name if member else ""),
            _("发放：{what}").format(what=_("，").join(what) or _("（未填写）")),
            _("日期：{date}").format(date=gift.given_on.isoformat()),
            _("资金来源：{fund}").format(fund=gift.fund),
        ]
    )


def _give(ctx: Context, data: Data) -> list[Reply]:
    gift = _gift_of(ctx, data)
    if gift.amount_fen is None and not gift.goods:
        raise InvalidInput("campaign.nothing_given", N_("请写明发放的金额或物品。"))
    give_in_campaign(
        ctx.session,
        actor=_actor(ctx),
        campaign_id=int(data["campaign"]),
        gift=gift,
        now=ctx.now,
        policy=_policy(ctx),
        channel=ctx.incoming.channel,
    )
    done = Reply(ctx.t("已登记。"))
    return ctx.dialogs.start(ctx, QUALIFIERS, data={"campaign": int(data["campaign"])}, intro=[done])


def _back_to_list(ctx: Context, data: Data) -> list[Reply]:
    return ctx.dialogs.start(ctx, QUALIFIERS, data={"campaign": int(data["campaign"])})


GIVE = Flow(
    name="hardship_campaign_give",
    steps=(
        Choose("way", N_("发放什么？"), options=_way_options),
        Yuan(
            "amount",
            N_("发放金额是多少元？（只发物品请回复“跳过”）"),
            optional=True,
            skip_if=lambda d: d.get("way") == "standard",
        ),
        Ask(
            "goods",
            N_("发放了哪些物品？"),
            max_length=GOODS_MAX,
            optional=True,
            skip_if=lambda d: d.get("way") == "standard",
        ),
        DateStep("given_on", N_("发放日期？例如“今天”或“1月20日”。"), latest=lambda today: today),
        Confirm(summary=_gift_summary),
    ),
    on_done=_give,
    cancel_to=_back_to_list,
)


# ----------------------------------------------------------------------------- totals and the workbook


def _unit_line(ctx: Context, name: str, own: bool) -> str:
    return ctx.t("{unit}（本级）").format(unit=name) if own else name


def totals_text(ctx: Context, totals: CampaignTotals) -> str:
    _ = ctx.t
    lines = [_("【{name}】汇总").format(name=totals.campaign.name)]
    for row in totals.rows:
        lines.append(
            _("{unit}：符合条件 {qualifying} 人，已发放 {given} 人，金额 {amount}，物品 {goods} 份").format(
                unit=_unit_line(ctx, row.name, row.own),
                qualifying=row.qualifying,
                given=row.given,
                amount=money(ctx, row.amount_fen),
                goods=row.goods,
            )
        )
    total = totals.total
    lines.append(
        _("合计：符合条件 {qualifying} 人，已发放 {given} 人，金额 {amount}，物品 {goods} 份").format(
            qualifying=total.qualifying,
            given=total.given,
            amount=money(ctx, total.amount_fen),
            goods=total.goods,
        )
    )
    lines.append(
        _("全活动预算 {budget}，已发放 {spent}，剩余 {left}").format(
            budget=money(ctx, totals.budget_fen),
            spent=money(ctx, totals.spent_fen),
            left=money(ctx, totals.left_fen),
        )
    )
    return "\n".join(lines)


LIST_HEADERS = (
    N_("单位"),
    N_("姓名"),
    N_("工号"),
    N_("是否发放"),
    N_("发放日期"),
    N_("金额（元）"),
    N_("物品"),
)
TOTAL_HEADERS = (N_("单位"), N_("符合条件（人）"), N_("已发放（人）"), N_("金额（元）"), N_("物品（份）"))


def export_campaign(ctx: Context, campaign_id: int) -> Reply:
    """The list and the totals as a workbook (the export is audited).

    Raises:
        NotFound, PermissionDenied: see :func:`models.hardship.campaigns.campaign_view`.
    """
    _ = ctx.t
    totals, rows = campaign_export(
        ctx.session, actor=_actor(ctx), campaign_id=campaign_id, channel=ctx.incoming.channel
    )
    campaign = totals.campaign
    workbook = new_workbook()
    listing = Sheet(first_sheet(workbook, _("对象名单")), campaign.name, [_(h) for h in LIST_HEADERS])
    for row in rows:
        listing.add(
            (
                row.unit_name,
                row.name,
                row.employee_no,
                _("是") if row.given else _("否"),
                row.given_on,
                yuan(row.amount_fen),
                row.goods or "",
            ),
            (None, None, None, None, DATE_FORMAT, YUAN_FORMAT),
        )
    summary = Sheet(workbook.create_sheet(_("汇总")), campaign.name, [_(h) for h in TOTAL_HEADERS])
    for line in (*totals.rows, totals.total):
        name = _("合计") if line is totals.total else _unit_line(ctx, line.name, line.own)
        summary.add(
            (name, line.qualifying, line.given, yuan(line.amount_fen), line.goods),
            (None, None, None, YUAN_FORMAT),
            bold=line is totals.total,
        )
    summary.next_row += 1
    summary.add((_("预算（元）"), yuan(totals.budget_fen)), (None, YUAN_FORMAT))
    summary.add((_("已发放（元）"), yuan(totals.spent_fen)), (None, YUAN_FORMAT))
    summary.add((_("剩余（元）"), yuan(totals.left_fen)), (None, YUAN_FORMAT))
    for sheet in (listing, summary):
        sheet.finish()
    path = save(workbook, ctx.config.export_dir, f"campaign-{campaign_id}")
    name = _("{name}-名单与汇总.xlsx").format(name=campaign.name)
    text = _("{name}的对象名单和汇总表。").format(name=campaign.name)
    return Reply(text, file=OutgoingFile(str(path), name=name, mime_type=MIME_TYPE))


# ----------------------------------------------------------------------------- opening a campaign


def _scope_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(str(unit.id), unit_path(ctx.session, unit), literal=True)
        for unit in hardship_scope(ctx.session, _actor(ctx))
    ]


def _basis_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(CampaignBasis.CASES.value, BASIS_LABELS[CampaignBasis.CASES], aliases=("帮扶对象",)),
        Option(CampaignBasis.UNITS.value, BASIS_LABELS[CampaignBasis.UNITS], aliases=("全体会员",)),
    ]


def _stages_options(ctx: Context, data: Data) -> Sequence[Option]:
    return [Option(stage.value, label) for stage, label in STAGES_LABELS.items()]


CATEGORY_OPTIONS = (
    *(Option(category.value, label) for category, label in CATEGORY_LABELS.items()),
    Option("all", N_("全部类别"), aliases=("全部",)),
)


def _subtree(session: Session, member: Member) -> Sequence[Unit]:
    """Every unit the cadre handles hardship for, highest first: what a units campaign may list."""
    tops = hardship_scope(session, member)
    units = session.exec(
        select(Unit).where(sa.or_(*(col(Unit.id_path).startswith(top.id_path) for top in tops)))
    )
    return sorted(units, key=lambda unit: (unit.id_path.count("/"), unit.id_path))


def _is_units(data: Data) -> bool:
    return data.get("basis") == CampaignBasis.UNITS.value


def _draft(data: Data) -> CampaignDraft:
    categories = [code for code in data.get("categories") or [] if code != "all"]
    return CampaignDraft(
        name=str(data["name"]),
        unit_id=int(data["unit"]),
        starts_on=date.fromisoformat(str(data["starts_on"])),
        ends_on=date.fromisoformat(str(data["ends_on"])),
        budget_fen=int(data["budget"]),
        basis=CampaignBasis(str(data["basis"])),
        fund=str(data["fund"]),
        categories=tuple(HardshipCategory(code) for code in categories) if not _is_units(data) else (),
        stages=CaseStages(str(data.get("stages") or CaseStages.OPEN.value)),
        unit_ids=tuple(int(unit_id) for unit_id in data.get("units") or []) if _is_units(data) else (),
        standard_fen=int(data["standard"]) if data.get("standard") is not None else None,
        goods=str(data["goods"]) if data.get("goods") else None,
    )


def _no_check(ctx: Context, unit_ids: tuple[int, ...]) -> None:
    """The units offered are the cadre's own; :class:`CampaignUnits` checks them against the campaign's."""


@dataclass(frozen=True)
class CampaignUnits(UnitsStep):
    """The units whose members a holiday gift goes to: inside the unit the campaign is opened on."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        chosen = super().accept(ctx, flow, data)
        top = ctx.session.get(Unit, int(data["unit"]))
        for unit_id in chosen:
            unit = ctx.session.get(Unit, unit_id)
            if top is None or unit is None or not top.contains(unit):
                raise Invalid(
                    N_("所选单位“{unit}”不在活动所属单位之内。"), unit=unit.name if unit is not None else ""
                )
        return chosen


@dataclass(frozen=True)
class EndDate(DateStep):
    """The last day: not before the first, and within a year of it."""

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        starts, ends = date.fromisoformat(str(data["starts_on"])), date.fromisoformat(str(value))
        if ends < starts:
            raise Invalid(N_("结束日期不能早于开始日期。"))
        if (ends - starts).days >= PERIOD_MAX_DAYS:
            raise Invalid(N_("活动时间最长一年，请检查日期。"))
        return value


@dataclass(frozen=True)
class Budget(Yuan):
    """The budget: something, and not beyond reason."""

    maximum_fen: int = BUDGET_MAX_FEN

    def accept(self, ctx: Context, flow: str, data: Data) -> Any:
        value = super().accept(ctx, flow, data)
        if not value:
            raise Invalid(N_("预算请填 0 到 {maximum} 元之间的数。"), maximum=BUDGET_MAX_FEN // 100)
        return value


def _open_summary(ctx: Context, data: Data) -> str:
    _ = ctx.t
    draft = _draft(data)
    preview = HardshipCampaign(
        name=draft.name,
        unit_id=draft.unit_id,
        starts_on=draft.starts_on,
        ends_on=draft.ends_on,
        budget_fen=draft.budget_fen,
        basis=draft.basis,
        categories=[category.value for category in draft.categories],
        stages=draft.stages if draft.basis is CampaignBasis.CASES else None,
        unit_ids=list(draft.unit_ids),
        standard_fen=draft.standard_fen,
        goods=draft.goods,
        fund=draft.fund,
        created_by_id=_actor(ctx).id or 0,
    )
    unit = ctx.session.get(Unit, draft.unit_id)
    return "\n".join(
        [
            _("开展送温暖活动：{name}").format(name=draft.name),
            _("单位：{unit}").format(unit=unit_path(ctx.session, unit) if unit else ""),
            _("时间：{period}").format(period=_period(ctx, preview)),
            _("对象：{criteria}").format(criteria=_criteria(ctx, preview)),
            _("预算：{budget}").format(budget=money(ctx, draft.budget_fen)),
            _("标准：{standard}；资金来源：{fund}").format(standard=_standard(ctx, preview), fund=draft.fund),
        ]
    )


def start_opening(ctx: Context) -> list[Reply]:
    """开展新活动; a cadre over one unit is not asked which."""
    units = hardship_scope(ctx.session, _actor(ctx))
    data: Data = {"unit": units[0].id, "one_unit": True} if len(units) == 1 else {}
    return ctx.dialogs.start(ctx, OPEN, data=data)


def _opened(ctx: Context, data: Data) -> list[Reply]:
    campaign = open_campaign(ctx.session, actor=_actor(ctx), draft=_draft(data), now=ctx.now)
    assert campaign.id is not None
    done = Reply(ctx.t("送温暖活动“{name}”已开展。").format(name=campaign.name))
    return [done, *show_campaign(ctx, campaign.id)]


OPEN = Flow(
    name="hardship_campaign_open",
    steps=(
        Ask("name", N_("活动名称？例如“2027年元旦春节送温暖”。"), max_length=NAME_MAX),
        Choose(
            "unit",
            N_("在哪个单位开展？"),
            options=_scope_options,
            skip_if=lambda d: d.get("one_unit") is True,
        ),
        DateStep("starts_on", N_("开始日期？")),
        EndDate("ends_on", N_("结束日期？")),
        Budget("budget", N_("活动预算是多少元？")),
        Choose("basis", N_("发放对象是？"), options=_basis_options),
        ManyChoices(
            "categories",
            N_("哪些困难类别的帮扶对象？"),
            options=CATEGORY_OPTIONS,
            skip_if=_is_units,
        ),
        Choose("stages", N_("哪些帮扶对象？"), options=_stages_options, skip_if=_is_units),
        CampaignUnits(
            "units",
            N_("哪些单位的全体会员？请回复编号或名称，可以多个。"),
            scope=_subtree,
            check=_no_check,
            skip_if=lambda d: not _is_units(d),
        ),
        Yuan("standard", N_("每人发放标准是多少元？"), optional=True),
        Ask("goods", N_("每人发放哪些物品？例如“米、油各一份”。"), max_length=GOODS_MAX, optional=True),
        Ask("fund", N_("资金来源？例如“工会经费”“上级帮扶资金”。"), max_length=FUND_MAX),
        Confirm(summary=_open_summary),
    ),
    on_done=_opened,
)


# ----------------------------------------------------------------------------- feature, demo


def _campaigns(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, CAMPAIGNS)


CAMPAIGNS_FEATURE = Feature(
    name="hardship_campaigns",
    rank=262,
    section=MenuSection.HARDSHIP,
    label=N_("送温暖"),
    summary=N_("送温暖活动：对象名单、登记发放、汇总和导出"),
    words=("/campaigns", "送温暖", "送温暖活动", "campaigns"),
    run=_campaigns,
    available=can_use,
)

FEATURES: tuple[Feature, ...] = (CAMPAIGNS_FEATURE,)
FLOWS: tuple[Flow, ...] = (CAMPAIGNS, CAMPAIGN_MENU, QUALIFIERS, GIVE, OPEN)
RENDERERS: dict[str, Renderer] = {}
PRODUCES: tuple[str, ...] = ()


def seed_demo_campaign(session: Session, config: CoreConfig, now: datetime) -> None:
    """The demo union's 元旦春节送温暖, opened by its first hardship cadre, one gift recorded."""
    policy = config.policy(HardshipPolicy)
    today = policy.today(now)
    holders = (
        session.get(Member, grant.member_id)
        for grant in session.exec(select(RoleGrant).order_by(col(RoleGrant.id)))
    )
    cadre = next(
        (member for member in holders if member is not None and handles_hardship(session, member)), None
    )
    if cadre is None:
        return
    root = hardship_scope(session, cadre)[0]
    assert root.id is not None
    campaign = open_campaign(
        session,
        actor=cadre,
        draft=CampaignDraft(
            name=f"{today.year + (1 if today.month >= 11 else 0)}年元旦春节送温暖",
            unit_id=root.id,
            starts_on=today - timedelta(days=7),
            ends_on=today + timedelta(days=45),
            budget_fen=50_000_00,
            basis=CampaignBasis.CASES,
            fund="工会经费",
            categories=(),
            stages=CaseStages.OPEN,
            standard_fen=500_00,
            goods="米、油各一份",
        ),
        now=now,
    )
    assert campaign.id is not None
    page = qualifiers(session, actor=cadre, campaign_id=campaign.id, limit=1)
    if page.rows:
        gift = Gift(
            member_id=page.rows[0].member_id,
            given_on=today,
            amount_fen=500_00,
            goods="米、油各一份",
            fund="工会经费",
        )
        give_in_campaign(session, actor=cadre, campaign_id=campaign.id, gift=gift, now=now, policy=policy)
