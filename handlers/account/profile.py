"""/me (我的): what the union knows about the member, so they can spot a mistake."""

from __future__ import annotations

from handlers.account.binding import CHANNEL_LABELS
from handlers.account.push_channel import preference_line
from handlers.core.context import Context
from handlers.core.features import Feature, MenuSection
from handlers.core.i18n import LOCALE_NAMES
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from models.errors import N_
from models.members import STATUS_LABELS, format_yuan
from models.roles import ROLE_LABELS
from models.units import Unit, unit_path


def mask_phone(phone: str | None) -> str | None:
    """138****1234: enough for the member to recognise, little for an onlooker."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else phone


def _me(ctx: Context, arg: str) -> list[Reply]:
    member = ctx.member
    assert member is not None
    _ = ctx.t
    unit = ctx.session.get(Unit, member.unit_id)
    assert unit is not None
    lines = [
        _("我的信息"),
        _("姓名：{name}").format(name=member.name),
        _("工号：{employee_no}").format(employee_no=member.employee_no),
        _("单位：{unit}").format(unit=unit_path(ctx.session, unit)),
        _("手机：{phone}").format(phone=mask_phone(member.phone) or _("未登记")),
        _("会员状态：{status}").format(status=_(STATUS_LABELS[member.status])),
        _("月会费：{amount} 元").format(amount=format_yuan(member.monthly_dues_fen)),
    ]
    grants = ctx.grants
    if grants:
        roles = "；".join(
            _("{role}（{unit}）").format(role=_(ROLE_LABELS[grant.role]), unit=unit_path(ctx.session, scope))
            for grant, scope in grants
        )
        lines.append(_("职务：{roles}").format(roles=roles))
    channels = "、".join(_(CHANNEL_LABELS.get(account.channel, account.channel)) for account in ctx.accounts)
    lines.append(_("已绑定：{channels}").format(channels=channels))
    preference = preference_line(ctx)
    if preference is not None:
        lines.append(preference)
    lines.append(_("语言：{language}").format(language=LOCALE_NAMES[ctx.t.locale]))
    lines.append(_("信息有误请联系本单位工会更正。"))
    return show_menu(ctx, intro=[Reply("\n".join(lines))])


FEATURE = Feature(
    name="me",
    rank=10,
    section=MenuSection.SETTINGS,
    label=N_("我的信息"),
    summary=N_("查看您的单位、职务、会费和已绑定的账号"),
    words=("/me", "我的", "我的信息", "me", "個人資料", "我的資料"),
    run=_me,
)
