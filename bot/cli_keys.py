"""``python -m bot keys``: a fresh data key, and re-sealing everything under the current one.

Changing the data key (a key that may have leaked, a staff change, a yearly
routine) goes:

1. ``python -m bot keys generate`` prints a fresh key;
2. set it as ``UNIONBOT_DATA_KEY``, the key used so far as ``UNIONBOT_DATA_KEY_OLD``
   (the content of ``data/data.key`` when no key was set), and restart the bot:
   it seals with the new key and still opens what the old one sealed;
3. ``python -m bot keys rotate`` re-seals every sealed column and sealed media
   file (models/key_rotation.py). Interrupted, it is run again and goes on where
   it stopped;
4. once it says it is done, remove ``UNIONBOT_DATA_KEY_OLD`` and restart.

Exit codes: 0 done, 1 a value opens with none of the keys (named, never shown).
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
from typing import Any

from bot.app import App
from bot.settings import old_data_keys
from handlers.core.i18n import Translator
from models.key_rotation import BATCH, FORMS_TARGET, MEDIA_TARGET, rotate_keys
from models.sealed import SealBroken


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    keys = subparsers.add_parser("keys", help="the data key: generate a new one, re-seal under it")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser("generate", help="print a fresh data key for UNIONBOT_DATA_KEY")
    generate.set_defaults(func=_generate)
    rotate = actions.add_parser(
        "rotate",
        help="re-seal every sealed field and media file under UNIONBOT_DATA_KEY (resumable)",
    )
    rotate.add_argument(
        "--batch", type=int, default=BATCH, metavar="N", help=f"rows per transaction ({BATCH})"
    )
    rotate.set_defaults(func=_rotate)


def _generate(app: App, args: argparse.Namespace) -> int:
    print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return 0


def _rotate(app: App, args: argparse.Namespace) -> int:
    _: Translator = app.translator
    app.prepare()
    if not old_data_keys(app.settings):
        print(_("未设置旧密钥（UNIONBOT_DATA_KEY_OLD），只检查所有数据是否已用当前密钥加密。"))

    def progress(target: str, count: int) -> None:
        if count:
            print(
                _("{target}：又重新加密 {count} 项").format(target=_label(_, target), count=count), flush=True
            )

    try:
        report = rotate_keys(
            app.sessions,
            media_dir=app.settings.data_dir / "media",
            batch=max(1, args.batch),
            after_batch=progress,
        )
    except SealBroken as error:
        # The error names the field, never its content.
        print(_("有数据用现有的密钥都无法解开：{reason}").format(reason=error), file=sys.stderr)
        print(
            _("请在 UNIONBOT_DATA_KEY_OLD 中加上加密它的密钥后再运行。已完成的部分不会重做。"),
            file=sys.stderr,
        )
        return 1
    for target, count in report.resealed.items():
        print(_("{target}：共重新加密 {count} 项").format(target=_label(_, target), count=count))
    for target in report.already_done:
        print(_("{target}：此前已完成").format(target=_label(_, target)))
    print(_("密钥轮换已完成。现在可以删除 UNIONBOT_DATA_KEY_OLD 并重启。"))
    return 0


def _label(_: Translator, target: str) -> str:
    if target == MEDIA_TARGET:
        return str(_("媒体文件"))
    if target == FORMS_TARGET:
        return str(_("填写中的表单"))
    return target
