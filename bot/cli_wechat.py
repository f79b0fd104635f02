"""``python -m bot wechat menu publish|show``: the Official Account's custom menu.

The menu lives at WeChat, not in our database: publishing replaces it for
every member (their phones fetch it within minutes), so an admin runs
``publish`` again whenever a release adds a feature, and ``show`` to see what
members have now. The token goes through the same store as the running bot,
and stable_token never disturbs the bot's own.
Exit codes: 0 done, 1 WeChat refused or nothing to publish, 2 settings missing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.app import App
from bot.channels.wechat.api import CredentialsRejected, WeChatApi, WeChatApiError
from bot.channels.wechat.menu import MenuPlan, build_menu, describe_menu
from handlers.core.i18n import Translator


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    wechat = subparsers.add_parser("wechat", help="WeChat Official Account: the custom menu")
    actions = wechat.add_subparsers(dest="action", required=True, metavar="ACTION")
    menu = actions.add_parser("menu", help="the custom menu at the bottom of the chat")
    menu_actions = menu.add_subparsers(dest="menu_action", required=True, metavar="ACTION")
    publish = menu_actions.add_parser(
        "publish", help="publish the menu, with an entry for each feature the bot has now"
    )
    publish.set_defaults(func=_publish)
    show = menu_actions.add_parser("show", help="print the menu members see now")
    show.set_defaults(func=_show)


def _configured(app: App) -> bool:
    return bool(app.settings.wechat_app_id and app.settings.wechat_app_secret)


def _plan(app: App) -> MenuPlan:
    return build_menu(app.registry, app.translator)


def _publish(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    if not _configured(app):
        return _missing_settings(_)
    plan = _plan(app)
    if plan.empty:
        print(_("没有可以发布的菜单项。"), file=sys.stderr)
        return 1

    async def publish() -> None:
        async with WeChatApi.from_settings(app.settings, app.store) as api:
            await api.create_menu(plan.menu)

    try:
        asyncio.run(publish())
    except WeChatApiError as error:
        print(_wechat_error(_, error), file=sys.stderr)
        return 1
    print(_("已发布微信自定义菜单："))
    for line in describe_menu(plan.menu):
        print(line)
    return 0


def _show(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    if not _configured(app):
        return _missing_settings(_)

    async def fetch() -> dict[str, Any] | None:
        async with WeChatApi.from_settings(app.settings, app.store) as api:
            return await api.get_menu()

    try:
        live = asyncio.run(fetch())
    except WeChatApiError as error:
        print(_wechat_error(_, error), file=sys.stderr)
        return 1
    if live is None:
        print(_("公众号现在没有自定义菜单。运行 python -m bot wechat menu publish 发布。"))
        return 0
    for line in describe_menu(live):
        print(line)
    if describe_menu(live) != describe_menu(_plan(app).menu):
        print(_("这与本版本的功能不一致；运行 python -m bot wechat menu publish 更新。"))
    return 0


def _missing_settings(_: Translator) -> int:
    print(
        _(
            "请先设置 UNIONBOT_WECHAT_APP_ID 和 UNIONBOT_WECHAT_APP_SECRET"
            "（微信公众平台“设置与开发 → 基本配置”里的 AppID 和 AppSecret）。"
        ),
        file=sys.stderr,
    )
    return 2


def _wechat_error(_: Translator, error: WeChatApiError) -> str:
    if error.errcode is None:
        return _("微信接口没有回应（{reason}），请稍后再试。").format(reason=error.errmsg)
    if isinstance(error, CredentialsRejected):
        return _(
            "微信不给访问令牌（错误 {errcode}：{errmsg}）：请核对 AppID、AppSecret，"
            "以及本机 IP 是否在公众平台的 IP 白名单里。"
        ).format(errcode=error.errcode, errmsg=error.errmsg)
    return _("微信返回错误 {errcode}：{errmsg}").format(errcode=error.errcode, errmsg=error.errmsg)
