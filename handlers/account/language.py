"""/lang: each member reads the bot in 简体中文, 繁體中文 or English."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option
from handlers.core.features import Feature
from handlers.core.i18n import LOCALE_NAMES, SUPPORTED_LOCALES
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from models.errors import N_
from models.members import set_member_locale

_ALIASES = {
    "zh_CN": ("简体", "简体中文", "中文", "普通话"),
    "zh_TW": ("繁体", "繁體", "繁体中文"),
    "en": ("english", "英文", "英语"),
}

OPTIONS = tuple(
    Option(locale, LOCALE_NAMES[locale], aliases=_ALIASES[locale], literal=True)
    for locale in SUPPORTED_LOCALES
)


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    locale = data["locale"]
    if ctx.member is not None:
        set_member_locale(ctx.session, member=ctx.member, locale=locale)
    ctx.account.locale = locale
    ctx.session.add(ctx.account)
    ctx.use_locale(locale)
    done = Reply(ctx.t("好的，以后用简体中文和您交流。"))
    if ctx.member is None:
        return [done, Reply(ctx.t("请先绑定会员身份：回复您的工号即可开始。"))]
    return show_menu(ctx, intro=[done])


FLOW = Flow(
    name="lang",
    steps=(Choose("locale", N_("请选择语言 / 請選擇語言 / Choose a language:"), options=OPTIONS),),
    on_done=_chosen,
)


def _ask(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, FLOW)


FEATURE = Feature(
    name="lang",
    rank=140,
    label=N_("切换语言"),
    summary=N_("简体中文、繁體中文或 English"),
    words=("/lang", "语言", "語言", "切换语言", "切換語言", "language", "lang"),
    run=_ask,
    for_unbound=True,
)
