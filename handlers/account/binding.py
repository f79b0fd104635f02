"""Binding a chat account to a member, and unbinding it.

An unbound account can only bind, read help or change language. Binding
takes 工号 then the last four digits of the roster phone, or a one-time code
from the union (typed, or through a Telegram ``/start CODE`` link).
"""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.dialogs import Ask, Data, Flow, Invalid, YesNo
from handlers.core.features import Feature, MenuSection
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from models.accounts import (
    WrongCredentials,
    bind_own_account,
    check_cooldown,
    find_member_for_binding,
    other_account_on_channel,
    unbind_account,
)
from models.errors import N_, InvalidInput
from models.invites import normalise_code, redeem_invite_for_binding
from models.members import Member, clean_employee_no, normalise_digits

CHANNEL_LABELS = {"telegram": N_("Telegram"), "wechat": N_("微信"), "console": N_("终端")}


def _found(ctx: Context, member: Member, data: Data, *, by_code: bool = False) -> None:
    data["member_id"] = member.id
    data["by_code"] = by_code
    if other_account_on_channel(ctx.session, member=member, account=ctx.account) is not None:
        data["replace_needed"] = True


def _check_employee_no(ctx: Context, text: str, data: Data) -> None:
    """A code is redeemed on the spot; otherwise the 工号 must look like one."""
    for key in ("member_id", "replace_needed", "by_code"):
        data.pop(key, None)
    if normalise_code(text) is not None:  # checks the account's cooldown before using the code
        member = redeem_invite_for_binding(
            ctx.session,
            ctx.store,
            ctx.config.binding,
            account=ctx.account,
            code=text,
            now=ctx.now,
            typed_as_employee_no=True,
        )
        if member is not None:
            _found(ctx, member, data, by_code=True)
            return
    try:
        data["employee_key"] = clean_employee_no(text)
    except InvalidInput as error:
        if error.code == "member.employee_no_invalid" and not any(
            character.isascii() and character.isalnum() for character in normalise_digits(text)
        ):
            # A greeting or a question ("你好", "我想提建议"), not a mistyped 工号: say why we ask.
            raise Invalid(
                N_(
                    "先确认一下您的会员身份，之后就能办理各项事务了。"
                    "工号一般是数字，例如 1001；不清楚的话，可以问问本单位工会。"
                )
            ) from None
        raise Invalid.from_error(error) from None
    check_cooldown(ctx.store, account=ctx.account, employee_no=data["employee_key"], now=ctx.now)


def _check_last4(ctx: Context, text: str, data: Data) -> None:
    try:
        member = find_member_for_binding(
            ctx.session,
            ctx.store,
            ctx.config.binding,
            account=ctx.account,
            employee_no=data["employee_key"],
            phone_last4=text,
            now=ctx.now,
        )
    except InvalidInput as error:
        raise Invalid.from_error(error) from None
    except WrongCredentials as error:
        raise Invalid.from_error(error, goto="employee_no") from None
    _found(ctx, member, data)


def _by_code(data: Data) -> bool:
    """A code names the member outright: no 工号 or phone digits to ask for."""
    return bool(data.get("by_code"))


def _finish(ctx: Context, data: Data) -> list[Reply]:
    member = ctx.session.get(Member, data["member_id"])
    assert member is not None
    if data.get("replace_needed") and not data.get("replace"):
        return [Reply(ctx.t("好的，保留原来的绑定，当前账号没有绑定。"))]
    bind_own_account(
        ctx.session,
        ctx.store,
        ctx.config.binding,
        account=ctx.account,
        member=member,
        now=ctx.now,
        replace=bool(data.get("replace")),
    )
    ctx.member = member
    if member.locale:
        ctx.use_locale(member.locale)
    elif ctx.account.locale:
        member.locale = ctx.account.locale
        ctx.session.add(member)
    welcome = ctx.t("绑定成功！{name}，欢迎使用工会助手。").format(name=member.name)
    return show_menu(ctx, intro=[Reply(welcome)])


def _cancelled(ctx: Context) -> list[Reply]:
    return [Reply(ctx.t("已取消绑定。需要时回复您的工号即可重新开始。"))]


BIND_FLOW = Flow(
    name="bind",
    steps=(
        Ask(
            "employee_no",
            N_("请输入您的工号（如果工会给了您绑定码，也可以直接输入绑定码）："),
            max_length=32,
            validate=_check_employee_no,
            skip_if=_by_code,
        ),
        Ask(
            "last4",
            N_("请输入您在工会登记的手机号的后四位："),
            max_length=8,
            validate=_check_last4,
            skip_if=_by_code,
        ),
        YesNo(
            "replace",
            N_("您的工号已在另一个{channel}账号上绑定。要改用当前账号吗？原账号将解除绑定。"),
            params=lambda ctx, data: {
                "channel": ctx.t(CHANNEL_LABELS.get(ctx.account.channel, ctx.account.channel))
            },
            skip_if=lambda data: not data.get("replace_needed"),
            keeps=N_("好的，保留原来的绑定，当前账号没有绑定。"),
        ),
    ),
    on_done=_finish,
    on_cancel=_cancelled,
)


def _looks_like_an_answer(text: str | None) -> bool:
    """A 工号 or a code typed straight away, before we asked: take it as the answer."""
    if text is None:
        return False
    if normalise_code(text) is not None:
        return True
    try:
        return any(ch.isdigit() for ch in clean_employee_no(text))
    except InvalidInput:
        return False


def start_binding(ctx: Context, intro: list[Reply] | None = None, answer: str | None = None) -> list[Reply]:
    """Welcome an unbound person and ask for their 工号 (or take it, if that is what they sent)."""
    welcome = intro if intro is not None else [Reply(ctx.t("您好，欢迎使用工会助手！请先绑定会员身份。"))]
    replies = ctx.dialogs.start(ctx, BIND_FLOW, intro=welcome)
    if intro is None and _looks_like_an_answer(answer):
        state, _ = ctx.dialogs.open(ctx)
        assert state is not None
        return ctx.dialogs.handle(ctx, state)
    return replies


def _start(ctx: Context, arg: str) -> list[Reply]:
    """``/start`` and ``/start CODE`` (Telegram deep links)."""
    code = arg.strip()
    if ctx.member is not None:
        if code:
            return show_menu(ctx, intro=[Reply(ctx.t("您已经绑定了会员身份，无需再次绑定。"))])
        return show_menu(ctx, intro=[Reply(ctx.t("{name}，欢迎回来！").format(name=ctx.member.name))])
    if code:
        # A WeChat QR scene arrives here too (bot.channels.wechat): every wrong code is counted.
        member = redeem_invite_for_binding(
            ctx.session, ctx.store, ctx.config.binding, account=ctx.account, code=code, now=ctx.now
        )
        if member is None:
            return start_binding(
                ctx, [Reply(ctx.t("这个绑定码无效或已过期。请向本单位工会索取新的绑定码，或用工号绑定。"))]
            )
        data: Data = {}
        _found(ctx, member, data, by_code=True)
        return ctx.dialogs.start(ctx, BIND_FLOW, data)
    return start_binding(ctx)


def _unbind_params(ctx: Context, data: Data) -> dict[str, Any]:
    assert ctx.member is not None
    return {"name": ctx.member.name, "employee_no": ctx.member.employee_no}


def _unbind(ctx: Context, data: Data) -> list[Reply]:
    if not data["sure"]:
        return show_menu(ctx, intro=[Reply(ctx.t("好的，绑定保持不变。"))])
    unbind_account(ctx.session, account=ctx.account)
    ctx.member = None
    return [Reply(ctx.t("已解除当前账号的绑定。以后需要时，回复工号即可重新绑定。"))]


UNBIND_FLOW = Flow(
    name="unbind",
    steps=(
        YesNo(
            "sure",
            N_(
                "确定要解除当前账号与 {name}（工号 {employee_no}）的绑定吗？"
                "解除后这个账号将收不到工会通知，也不能办理业务。"
            ),
            params=_unbind_params,
            keeps=N_("好的，绑定保持不变。"),
        ),
    ),
    on_done=_unbind,
)


def _ask_unbind(ctx: Context, arg: str) -> list[Reply]:
    return ctx.dialogs.start(ctx, UNBIND_FLOW)


START = Feature(
    name="start",
    rank=180,
    label=N_("开始"),
    summary=N_("开始使用或绑定会员身份"),
    words=("/start", "开始", "開始", "绑定", "綁定", "start"),
    run=_start,
    in_menu=False,
    for_unbound=True,
)
UNBIND = Feature(
    name="unbind",
    rank=150,
    section=MenuSection.SETTINGS,
    label=N_("解除绑定"),
    summary=N_("让当前账号不再代表您"),
    words=("/unbind", "解除绑定", "解绑", "解除綁定", "unbind"),
    run=_ask_unbind,
)
