"""推送渠道: which channel a member's notices go to first, when they use both WeChat and Telegram.

Offered only to members bound on both: with one channel there is nothing to choose.
"""

from __future__ import annotations

from handlers.account.binding import CHANNEL_LABELS
from handlers.core.context import Context
from handlers.core.dialogs import Choose, Data, Flow, Option
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from models.errors import N_
from models.reach import push_channels_in, set_preferred_channel

AUTO = "auto"

OPTIONS = (
    Option("wechat", N_("微信"), aliases=("weixin", "wechat")),
    Option("telegram", N_("Telegram"), aliases=("tg", "电报")),
    Option(AUTO, N_("最近使用的那个"), aliases=("自动", "auto")),
)


def uses_both_channels(ctx: Context) -> bool:
    return len(push_channels_in(ctx.accounts)) > 1


def preference_line(ctx: Context) -> str | None:
    """The /me line saying where notices go first; None for a member with one channel."""
    if not uses_both_channels(ctx):
        return None
    assert ctx.member is not None
    _ = ctx.t
    channel = ctx.member.preferred_channel
    where = _(CHANNEL_LABELS[channel]) if channel else _("最近使用的那个")
    return _("通知优先发到：{channel}（回复“推送渠道”可以更改）").format(channel=where)


def _chosen(ctx: Context, data: Data) -> list[Reply]:
    assert ctx.member is not None
    choice = data["channel"]
    channel = None if choice == AUTO else choice
    set_preferred_channel(ctx.session, member=ctx.member, channel=channel)
    _ = ctx.t
    if channel is None:
        done = _("好的，通知会发到您最近使用的那个渠道。")
    else:
        done = _("好的，通知会优先发到{channel}；那边发不到时，再发到另一个。").format(
            channel=_(CHANNEL_LABELS[channel])
        )
    return show_menu(ctx, intro=[Reply(done)])


FLOW = Flow(
    name="push_channel",
    steps=(Choose("channel", N_("您同时绑定了微信和 Telegram。通知优先发到哪里？"), options=OPTIONS),),
    on_done=_chosen,
)


def _ask(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, FLOW)


FEATURE = Feature(
    name="push_channel",
    rank=130,
    section=MenuSection.SETTINGS,
    label=N_("推送渠道"),
    summary=N_("同时用微信和 Telegram 时，选择通知优先发到哪里"),
    words=("/push", "推送渠道", "推送", "通知渠道", "推送設定", "通知渠道設定", "push"),
    run=_ask,
    available=uses_both_channels,
    unavailable=N_("同时绑定了微信和 Telegram 时，才需要选择通知发到哪里。"),
)
