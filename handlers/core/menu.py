"""The main menu and help: the two ways a lost member finds their way."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option
from handlers.core.features import Feature
from handlers.core.messages import Reply
from handlers.core.module import Command, MenuGroup, MenuSlot, Module
from models.errors import N_


def _options(ctx: Context, data: Data) -> Sequence[Option]:
    return [
        Option(feature.name, feature.label, payload=f"go:{feature.name}")
        for feature in ctx.features.values()
        if feature.in_menu and feature.available(ctx)
    ]


def _open(ctx: Context, data: Data) -> list[Reply]:
    return ctx.features[data["item"]].run(ctx, "")


FLOW = Flow(
    name="menu",
    steps=(Choose("item", N_("请选择要办理的事项："), options=_options),),
    on_done=_open,
    quiet_timeout=True,
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
    label=N_("使用帮助"),
    summary=N_("说明怎样使用工会助手"),
    words=("/help", "帮助", "幫助", "help", "使用帮助", "說明", "说明", "?", "？"),
    run=_help,
    for_unbound=True,
)

# The core's own module: the menu and help every feature is reached through.
MODULE = Module(
    name="core",
    features=(HELP, MENU),
    flows=(FLOW,),
    menu=(MenuSlot(MenuGroup.MINE, HELP.name, 30),),
    commands=(
        Command("menu", MENU.label, rank=10),
        Command("help", HELP.label, rank=40),
        Command("cancel", N_("取消当前操作"), rank=50),
    ),
)
