"""查阅记录: an admin reads in chat who opened which hardship case, list or export, newest first.

"查阅记录" shows the latest entries; "/audit 1001" those of the member with
工号 1001. Refused attempts are marked. The same log is read at the command line
with ``python -m bot audit list``.
"""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.dialogs import Flow
from handlers.core.features import Feature, MenuSection
from handlers.core.messages import Reply
from handlers.core.pushes import Renderer
from models.audit import list_audit, require_audit_reader
from models.errors import N_, InvalidInput, PermissionDenied
from models.members import clean_employee_no
from models.roles import Permission, grants_of

SHOWN = 20

# What each action reads as; an action from elsewhere is shown by its code.
ACTION_LABELS: dict[str, str] = {
    "hardship.case.open": N_("查看帮扶申请"),
    "hardship.campaign.list": N_("查看送温暖名单"),
    "hardship.campaign.export": N_("导出送温暖名单"),
    "hardship.figures.export": N_("导出帮扶统计"),
    "hardship.publication.publish": N_("发布帮扶公示"),
}


def can_read(ctx: Context) -> bool:
    return (
        ctx.member is not None
        and ctx.member.is_active
        and grants_of(ctx.session, ctx.member).holds(Permission.ADMINISTER)
    )


def _show(ctx: Context, arg: str) -> list[Reply]:
    _ = ctx.t
    assert ctx.member is not None
    try:
        require_audit_reader(ctx.session, ctx.member)
    except PermissionDenied as error:
        return [Reply(_.error(error))]
    employee_no = None
    if arg.strip():
        try:
            employee_no = clean_employee_no(arg)
        except InvalidInput as error:
            return [Reply(_.error(error))]
    rows = list_audit(ctx.session, actor=ctx.member, member_employee_no=employee_no, limit=SHOWN)
    if not rows:
        return [Reply(_("没有查阅记录。"))]
    zone = ctx.config.timezone
    lines = [
        _("最近 {count} 条查阅记录：").format(count=len(rows))
        if employee_no is None
        else _("工号 {employee_no} 最近 {count} 条查阅记录：").format(
            employee_no=employee_no, count=len(rows)
        )
    ]
    for row in rows:
        action = _(ACTION_LABELS[row.action]) if row.action in ACTION_LABELS else row.action
        who = (
            _("{name}（{employee_no}）").format(name=row.actor_name, employee_no=row.actor_employee_no)
            if row.actor_employee_no
            else _("系统")
        )
        line = _("{time} {who} {action} {subject}（{channel}）").format(
            time=row.at.astimezone(zone).strftime("%m-%d %H:%M"),
            who=who,
            action=action,
            subject=row.subject,
            channel=row.channel,
        )
        if not row.allowed:
            line += _("，已拒绝")
        lines.append(line)
    lines.append(_("按工号查看，请发送“/audit 工号”。"))
    return [Reply("\n".join(lines))]


AUDIT_FEATURE = Feature(
    name="hardship_audit",
    rank=267,
    section=MenuSection.HARDSHIP,
    label=N_("查阅记录"),
    summary=N_("谁在何时查看了哪件帮扶申请、名单或导出"),
    words=("/audit", "查阅记录", "查閱記錄", "audit log"),
    run=_show,
    available=can_read,
)

FEATURES: tuple[Feature, ...] = (AUDIT_FEATURE,)
FLOWS: tuple[Flow, ...] = ()
RENDERERS: dict[str, Renderer] = {}
PRODUCES: tuple[str, ...] = ()
