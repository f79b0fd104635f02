"""活动签到: members check in with the day's code; the organiser shows the code (and its QR) and
marks by hand who came without a phone.

The member's side is one question, or none when the code came with the message
(``/checkin 123456``, or the Telegram link behind the QR code, ``/start ci_123456``).
"""

from __future__ import annotations

import re
import secrets
from datetime import date

import qrcode
from qrcode.image.pure import PyPNGImage

from handlers.activities.render import local_time
from handlers.core.context import Context
from handlers.core.dialogs import Ask, Data, Flow, Invalid
from handlers.core.features import Feature
from handlers.core.menu import show_menu
from handlers.core.messages import OutgoingFile, Reply
from handlers.core.parsing import normalise
from models.activities import Activity, signups_of
from models.activities.attendance import (
    CheckInOutcome,
    activity_days,
    check_in,
    checkin_code,
    mark_attendance,
)
from models.errors import N_, InvalidInput
from models.members import Member

CHECKIN_LINK_PREFIX = "ci"


def _actor(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


def _checked_in(ctx: Context, code: str) -> str:
    """Check the member in and say so; raises InvalidInput with the reason it cannot be."""
    result = check_in(ctx.session, actor=_actor(ctx), code=code, now=ctx.now, zone=ctx.config.timezone)
    if result.outcome is CheckInOutcome.ALREADY:
        return ctx.t("您已经签到过了，不用再签。欢迎参加“{title}”！").format(title=result.activity.title)
    return ctx.t("签到成功！欢迎参加“{title}”。").format(title=result.activity.title)


def _validate_code(ctx: Context, text: str, data: Data) -> None:
    try:
        data["said"] = _checked_in(ctx, text)
    except InvalidInput as error:
        raise Invalid.from_error(error) from error


def _done(ctx: Context, data: Data) -> list[Reply]:
    return show_menu(ctx, intro=[Reply(str(data["said"]))])


CHECK_IN_FLOW = Flow(
    name="activity_check_in",
    steps=(Ask("code", N_("请输入活动组织人公布的 6 位签到码："), max_length=20, validate=_validate_code),),
    on_done=_done,
)


def _check_in(ctx: Context, arg: str) -> list[Reply]:
    if arg.strip():
        try:
            text = _checked_in(ctx, arg)
        except InvalidInput as error:
            return ctx.dialogs.start(ctx, CHECK_IN_FLOW, intro=[Reply(ctx.t.error(error))])
        return show_menu(ctx, intro=[Reply(text)])
    return ctx.dialogs.start(ctx, CHECK_IN_FLOW)


CHECK_IN = Feature(
    name="activity_check_in",
    rank=55,
    label=N_("活动签到"),
    summary=N_("到了活动现场，用组织人公布的签到码签到"),
    words=("/checkin", "签到", "簽到", "活动签到", "活動簽到", "check in"),
    run=_check_in,
    in_menu=False,
)


# ------------------------------------------------------------------------------ the organiser


def code_reply(ctx: Context, activity: Activity, bot_username: str | None) -> Reply:
    """The check-in code of the activity's day, and a QR code opening the bot with it on Telegram."""
    assert activity.id is not None
    zone = ctx.config.timezone
    today = ctx.now.astimezone(zone).date()
    days = activity_days(ctx.session, activity, zone)
    day: date = today if today in days else days[0]
    code = checkin_code(ctx.session, actor=_actor(ctx), activity_id=activity.id, day=day)
    lines = [
        ctx.t("“{title}”{day}的签到码：{code}").format(title=activity.title, day=day.isoformat(), code=code),
        ctx.t("请会员到场后发送“签到”，再输入这个签到码；签到码每天更换，只在活动当天有效。"),
    ]
    if day != today:
        lines.append(ctx.t("（活动当天才能签到：{time}）").format(time=local_time(activity.starts_at, zone)))
    if not bot_username:
        return Reply("\n".join(lines))
    link = f"https://t.me/{bot_username}?start={CHECKIN_LINK_PREFIX}_{code}"
    lines.append(ctx.t("Telegram 用户扫描二维码即可签到。"))
    path = ctx.config.export_dir / f"checkin-{activity.id}-{day.isoformat()}-{secrets.token_hex(6)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as png:  # saved to a path, qrcode leaves the file open
        qrcode.make(link, image_factory=PyPNGImage).save(png)
    name = ctx.t("签到二维码-{day}.png").format(day=day.isoformat())
    return Reply("\n".join(lines), image=OutgoingFile(str(path), name=name, mime_type="image/png"))


_NUMBERS = re.compile(r"\d+")
ALL_WORDS = frozenset({"全部", "都到了", "全到", "all"})


def attendee_numbers(ctx: Context, text: str, data: Data) -> None:
    """The numbers of the cadre's list as typed: "1 3 5", "1,3,5", "１、３"; or 全部."""
    if normalise(text) in ALL_WORDS:
        data["attended"] = "all"
        return
    count = len(signups_of(ctx.session, actor=_actor(ctx), activity_id=int(data["activity_id"])))
    numbers = [int(n) for n in _NUMBERS.findall(normalise(text))]
    if not numbers or re.sub(r"[\d\s,，、;；]", "", normalise(text)):
        raise Invalid(N_("请回复名单前面的序号，用空格或逗号分开，例如 1 3 5；都到了请回复“全部”。"))
    wrong = [n for n in numbers if not 1 <= n <= count]
    if wrong:
        raise Invalid(
            N_("没有序号 {number}：名单上是 1 到 {count}。请重新输入。"), number=wrong[0], count=count
        )
    data["attended"] = sorted(set(numbers))


def marked(ctx: Context, data: Data) -> str:
    """Mark those the cadre named as there, and say how many came in all."""
    activity_id = int(data["activity_id"])
    attendees = signups_of(ctx.session, actor=_actor(ctx), activity_id=activity_id)
    chosen = data["attended"]
    picked = attendees if chosen == "all" else [attendees[n - 1] for n in chosen]
    ids = [a.member.id for a in picked if a.member.id is not None]
    added = mark_attendance(
        ctx.session, actor=_actor(ctx), activity_id=activity_id, member_ids=ids, now=ctx.now
    )
    there = sum(1 for a in attendees if a.attended_at is not None) + added
    return ctx.t("已登记 {added} 人到场，共 {there}/{count} 人到场。").format(
        added=added, there=there, count=len(attendees)
    )
