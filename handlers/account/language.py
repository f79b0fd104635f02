"""/lang: each member reads the bot in 简体中文, 繁體中文 or English."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option
from handlers.core.features import Feature, MenuSection
from handlers.core.i18n import LOCALE_NAMES, SUPPORTED_LOCALES
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from handlers.core.parsing import normalise
from models.errors import N_
from models.members import set_member_locale

# What members type for a language, in any of the three: each switches at once, outside the picker too.
_ALIASES = {
    "zh_CN": ("简体", "简体中文", "簡體中文", "中文", "普通话", "chinese", "simplified chinese"),
    "zh_TW": ("繁体", "繁體", "繁体中文", "繁體中文", "traditional chinese"),
    "en": ("english", "英文", "英语", "英語"),
}
# Codes a member may put after /lang: "/lang en", "/lang zh-TW".
_CODES = {"zh_CN": ("zh", "zh_cn", "zh-cn", "cn"), "zh_TW": ("zh_tw", "zh-tw", "tw", "hk"), "en": ("en",)}
_TYPED = {
    normalise(word): locale
    for locale in SUPPORTED_LOCALES
    for word in (LOCALE_NAMES[locale], *_ALIASES[locale], *_CODES[locale])
}

OPTIONS = tuple(
    Option(locale, LOCALE_NAMES[locale], aliases=_ALIASES[locale], literal=True)
    for locale in SUPPORTED_LOCALES
)


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    return _switch(ctx, data["locale"])


def _switch(ctx: Context, locale: str) -> list[Reply]:
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
    # A list to pick from: 我的, 菜单 and the other command words leave it rather than being refused.
    browse=True,
)


def _ask(ctx: Context, arg: str) -> list[Reply]:
    """Switch at once when the language is named ("/lang en", "中文", "English"); otherwise ask."""
    wanted = _TYPED.get(normalise(arg)) if arg else _TYPED.get(normalise(ctx.incoming.text or ""))
    if wanted is not None:
        return _switch(ctx, wanted)
    return ctx.dialogs.start(ctx, FLOW)


# Language names typed on their own switch directly, in whichever language the member reads now.
_NAMES = tuple(
    dict.fromkeys(word for locale in SUPPORTED_LOCALES for word in (LOCALE_NAMES[locale], *_ALIASES[locale]))
)


FEATURE = Feature(
    name="lang",
    rank=140,
    section=MenuSection.SETTINGS,
    label=N_("切换语言"),
    summary=N_("简体中文、繁體中文或 English"),
    words=("/lang", "语言", "語言", "切换语言", "切換語言", "language", "lang", *_NAMES),
    run=_ask,
    for_unbound=True,
)
