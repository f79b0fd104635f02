"""``python -m bot run``: serve the configured chat channels."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.app import App


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    run = subparsers.add_parser("run", help="serve the configured chat channels")
    run.set_defaults(func=_run)


def _run(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    configured = app.settings.channels_configured()
    if not configured:
        print(
            _(
                "没有配置任何聊天渠道。设置 UNIONBOT_TELEGRAM_TOKEN 可启用 Telegram，"
                "设置 UNIONBOT_WECHAT_TOKEN、UNIONBOT_WECHAT_APP_ID 和 UNIONBOT_WECHAT_APP_SECRET "
                "可启用微信公众号。"
                "只想在终端里试用，请运行 make demo。"
            ),
            file=sys.stderr,
        )
        return 2
    app.prepare()
    print(
        _("本版本还不能连接 {channels}：请先用 make demo 在终端里使用。").format(
            channels=", ".join(configured)
        ),
        file=sys.stderr,
    )
    return 2
