"""The main menu and help: the two ways a lost member finds their way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option
from handlers.core.features import SECTION_LABELS, Feature, MenuSection
from handlers.core.messages import Reply
from handlers.core.module import Command, MenuGroup, MenuSlot, Module
from models.errors import N_

# Up to this many entries the menu is one list; beyond it (a cadre's), a list of sections first.
# Twelve: a member's own services (建议, 困难申报, 会费, 活动, 排行榜 and the settings, 推送渠道 for
# one bound on both channels) still fit on one phone screen as one list; a cadre's do not.
FLAT_MAX = 12
SECTION_PREFIX = "s:"
BACK_TO_MENU = "menu"


def _offered(ctx: Context) -> list[Feature]:
    return [feature for feature in ctx.features.values() if feature.in_menu and feature.available(ctx)]


def _entry(feature: Feature) -> Option:
    return Option(feature.name, feature.label, payload=f"go:{feature.name}")


def _options(ctx: Context, data: Data) -> Sequence[Option]:
    offered = _offered(ctx)
    if len(offered) <= FLAT_MAX:
        return [_entry(feature) for feature in offered]
    sections = [section for section in MenuSection if any(feature.section is section for feature in offered)]
    return [Option(SECTION_PREFIX + section, SECTION_LABELS[section]) for section in sections]


def _open(ctx: Context, data: Data) -> list[Reply]:
    item = data["item"]
    if item.startswith(SECTION_PREFIX):
        return open_section(ctx, MenuSection(item.removeprefix(SECTION_PREFIX)))
    return ctx.features[item].run(ctx, "")


def open_section(ctx: Context, section: MenuSection) -> list[Reply]:
    """One section's entries: what a cadre picks second, or types by the section's name."""
    return ctx.dialogs.start(ctx, SECTION, data={"section": section.value})


FLOW = Flow(
    name="menu",
    steps=(Choose("item", N_("请选择要办理的事项："), options=_options),),
    on_done=_open,
    quiet_timeout=True,
)


def _section_options(ctx: Context, data: Data) -> Sequence[Option]:
    section = MenuSection(data["section"])
    entries = [_entry(feature) for feature in _offered(ctx) if feature.section is section]
    return [*entries, Option(BACK_TO_MENU, N_("返回主菜单"))]


@dataclass(frozen=True)
class SectionChoose(Choose):
    """The entries of one section, headed by the section's name."""

    def prompt(self, ctx: Context, flow: str, data: Data) -> Reply:
        reply = super().prompt(ctx, flow, data)
        section = ctx.t(SECTION_LABELS[MenuSection(data["section"])])
        return replace(reply, text=reply.text.format(section=section))


def _picked(ctx: Context, data: Data) -> list[Reply]:
    if data["item"] == BACK_TO_MENU:
        return show_menu(ctx)
    return ctx.features[data["item"]].run(ctx, "")


# One section of a long menu: a list, so a command word typed here opens its feature.
SECTION = Flow(
    name="menu_section",
    steps=(SectionChoose("item", N_("{section}：请选择要办理的事项："), options=_section_options),),
    on_done=_picked,
    quiet_timeout=True,
    browse=True,
)


def show_menu(ctx: Context, intro: Sequence[Reply] = ()) -> list[Reply]:
    """The main menu, answerable by button, number or name."""
    return ctx.dialogs.start(ctx, FLOW, intro=intro)


def _menu(ctx: Context, arg: str) -> list[Reply]:
    return show_menu(ctx)


def _help(ctx: Context, arg: str) -> list[Reply]:
    _ = ctx.t
    if ctx.member is None:
        return [
            Reply(
                _(
                    "工会助手为本单位工会会员服务。\n"
                    "使用前请先绑定会员身份：回复您的工号，再按提示输入手机号后四位；"
                    "如果工会给了您绑定码，直接回复绑定码即可。\n"
                    "回复“语言”可以切换语言，回复“取消”可以随时退出。"
                )
            )
        ]
    lines = [_("工会助手可以帮您办理这些事项：")]
    for feature in ctx.features.values():
        if feature.in_menu and feature.available(ctx) and feature.name != "help":
            lines.append(_("· {label}：{summary}").format(label=_(feature.label), summary=_(feature.summary)))
    lines.append(_("随时回复“菜单”查看全部功能，回复“取消”退出正在进行的操作，回复“返回”回到上一步。"))
    return show_menu(ctx, intro=[Reply("\n".join(lines))])


MENU = Feature(
    name="menu",
    rank=170,
    label=N_("主菜单"),
    summary=N_("列出您可以办理的全部事项"),
    words=("/menu", "菜单", "主菜单", "menu", "選單", "主選單"),
    run=_menu,
    in_menu=False,
)
HELP = Feature(
    name="help",
    rank=160,
    section=MenuSection.SETTINGS,
    label=N_("使用帮助"),
    summary=N_("说明怎样使用工会助手"),
    words=("/help", "帮助", "幫助", "help", "使用帮助", "說明", "说明", "?", "？"),
    run=_help,
    for_unbound=True,
)


def _section_feature(section: MenuSection) -> Feature:
    """A section's name typed anywhere ("建议管理") opens it, as the menu's own choice does."""

    def run(ctx: Context, arg: str) -> list[Reply]:
        return open_section(ctx, section)

    def available(ctx: Context) -> bool:
        return any(feature.section is section for feature in _offered(ctx))

    label = SECTION_LABELS[section]
    return Feature(
        name=f"section_{section.value}",
        label=label,
        summary=label,
        words=(label,),
        run=run,
        available=available,
        in_menu=False,
    )


SECTION_FEATURES = tuple(_section_feature(section) for section in MenuSection)

# The core's own module: the menu and help every feature is reached through.
MODULE = Module(
    name="core",
    features=(HELP, MENU, *SECTION_FEATURES),
    flows=(FLOW, SECTION),
    menu=(MenuSlot(MenuGroup.MINE, HELP.name, 30),),
    commands=(
        Command("menu", MENU.label, rank=10),
        Command("help", HELP.label, rank=40),
        Command("cancel", N_("取消当前操作"), rank=50),
    ),
)
