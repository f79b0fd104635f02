"""/me (我的): what the union knows about the member, so they can spot a mistake, and their reminders.

Every reminder a module declares (``Module.reminders``: 每月征集提醒, 会费提醒…) is
listed with whether it is on, and a button turns it off or on again
(models.preferences). One the union's settings make compulsory is shown as
always on, without a button.
"""

from __future__ import annotations

from handlers.account.binding import CHANNEL_LABELS
from handlers.account.push_channel import preference_line
from handlers.core.context import Context
from handlers.core.features import Feature, MenuSection
from handlers.core.i18n import LOCALE_NAMES
from handlers.core.menu import show_menu
from handlers.core.messages import Button, Reply
from handlers.core.module import Reminder
from models.errors import N_
from models.members import STATUS_LABELS, format_yuan
from models.preferences import reminders_off, turn_off_reminder, turn_on_reminder
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
    reminder_lines, buttons = _reminders(ctx)
    lines.extend(reminder_lines)
    lines.append(_("信息有误请联系本单位工会更正。"))
    return show_menu(ctx, intro=[Reply("\n".join(lines), buttons=buttons)])


def _reminders(ctx: Context) -> tuple[list[str], tuple[Button, ...]]:
    """Each registered reminder with its state, and a button to switch each one the member may."""
    if not ctx.reminders:
        return [], ()
    assert ctx.member is not None
    assert ctx.member.id is not None
    _ = ctx.t
    off = reminders_off(ctx.session, ctx.member.id)
    lines = [_("提醒：")]
    buttons: list[Button] = []
    for reminder in ctx.reminders:
        label = _(reminder.label)
        if not reminder.optional(ctx.config):
            lines.append(_("· {reminder}：始终开启").format(reminder=label))
        elif reminder.topic in off:
            lines.append(_("· {reminder}：已关闭").format(reminder=label))
            buttons.append(
                Button(_("开启{reminder}").format(reminder=label), f"go:{REMINDER}:{reminder.topic}")
            )
        else:
            lines.append(_("· {reminder}：开启").format(reminder=label))
            buttons.append(
                Button(_("关闭{reminder}").format(reminder=label), f"go:{REMINDER}:{reminder.topic}")
            )
    return lines, tuple(buttons)


def _find(ctx: Context, topic: str) -> Reminder | None:
    return next((reminder for reminder in ctx.reminders if reminder.topic == topic), None)


def _toggle(ctx: Context, arg: str) -> list[Reply]:
    """Turn one reminder off, or on again; without a reminder named, list them as 我的信息 does."""
    member = ctx.member
    assert member is not None
    _ = ctx.t
    reminder = _find(ctx, arg.strip())
    if reminder is None:
        lines, buttons = _reminders(ctx)
        if not lines:
            return show_menu(ctx, intro=[Reply(_("目前没有可以设置的提醒。"))])
        return show_menu(ctx, intro=[Reply("\n".join(lines), buttons=buttons)])
    label = _(reminder.label)
    if not reminder.optional(ctx.config):
        text = _("“{reminder}”按本会规定不能关闭。").format(reminder=label)
    elif reminder.topic in reminders_off(ctx.session, member.id or 0):
        turn_on_reminder(ctx.session, actor=member, topic=reminder.topic)
        text = _("已开启“{reminder}”。").format(reminder=label)
    else:
        turn_off_reminder(ctx.session, actor=member, topic=reminder.topic)
        text = _("已关闭“{reminder}”，以后不再发给您。想再收到时，在“我的信息”里开启即可。").format(
            reminder=label
        )
    return show_menu(ctx, intro=[Reply(text)])


FEATURE = Feature(
    name="me",
    rank=10,
    section=MenuSection.SETTINGS,
    label=N_("我的信息"),
    summary=N_("查看您的单位、职务、会费和已绑定的账号"),
    words=("/me", "我的", "我的信息", "me", "個人資料", "我的資料"),
    run=_me,
)


REMINDER = "reminder"

REMINDERS = Feature(
    name=REMINDER,
    rank=15,
    section=MenuSection.SETTINGS,
    label=N_("提醒设置"),
    summary=N_("关闭或重新开启每月征集等提醒"),
    words=("提醒设置", "提醒設置", "提醒", "reminders"),
    run=_toggle,
    in_menu=False,
)
