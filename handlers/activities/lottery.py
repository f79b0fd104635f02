"""抽签 as members meet it: entering the draw, the result with its seed, confirming or passing on a place.

The draw itself and its rules are models.activities.lottery; this is what each
member reads, on the activity and in the pushes, and the job that draws at the
deadline and passes on offers not confirmed in time.
"""

from __future__ import annotations

import logging
from datetime import tzinfo

from sqlmodel import Session

from handlers.activities.render import local_time, unit_of
from handlers.core.context import Context
from handlers.core.dialogs import Option
from handlers.core.i18n import Translator
from handlers.core.messages import Button, Reply
from handlers.core.module import Job, JobContext
from handlers.core.pushes import Push
from models.activities import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    Allocation,
    SignupStatus,
    entered_count,
    signup_of,
)
from models.activities.lottery import run_draws
from models.errors import N_
from models.members import Member
from models.outbox import PushRow

log = logging.getLogger(__name__)


def places_text(ctx: Context, activity: Activity) -> str:
    """What a lottery's places line says: how many, when it is drawn, how many entered."""
    assert activity.id is not None
    entered = entered_count(ctx.session, activity.id)
    if activity.drawn_at is None:
        return ctx.t("抽签，共 {capacity} 个名额，{time} 抽签；已有 {count} 人报名").format(
            capacity=activity.capacity,
            time=local_time(activity.signup_deadline, ctx.config.timezone),
            count=entered,
        )
    return ctx.t("抽签，共 {capacity} 个名额，已于 {time} 抽签（{count} 人参加）").format(
        capacity=activity.capacity, time=local_time(activity.drawn_at, ctx.config.timezone), count=entered
    )


def status_line(ctx: Context, activity: Activity, signup: ActivitySignup | None) -> str | None:
    """Where the member stands in the draw, in a sentence; None when the draw is not theirs."""
    if activity.allocation is not Allocation.LOTTERY or signup is None:
        return None
    zone = ctx.config.timezone
    if signup.status is SignupStatus.ENTERED:
        return ctx.t("您已报名参加抽签，{time} 抽签后会告诉您结果。").format(
            time=local_time(activity.signup_deadline, zone)
        )
    if signup.status is SignupStatus.OFFERED and signup.offer_expires_at is not None:
        return ctx.t("恭喜中签！请在 {time} 前确认参加，逾期名额让给下一位。").format(
            time=local_time(signup.offer_expires_at, zone)
        )
    if signup.status is SignupStatus.NOT_DRAWN:
        return ctx.t(
            "很遗憾这次没有中签。您在抽签顺序中排第 {rank} 位，有人放弃时会按顺序递补并通知您。"
        ).format(rank=signup.draw_rank)
    if signup.status is SignupStatus.LAPSED:
        return ctx.t("您没有在规定时间内确认，名额已让给下一位。")
    return None


def options(ctx: Context, activity: Activity, signup: ActivitySignup | None) -> list[Option]:
    """The member's choices on a lottery's activity."""
    status = signup.status if signup is not None else None
    if status is SignupStatus.SIGNED_UP:
        return [Option("cancel", N_("放弃名额"), aliases=("放棄名額", "give up the place"))]
    if status is SignupStatus.OFFERED:
        return [
            Option("confirm", N_("确认参加"), aliases=("確認參加", "confirm")),
            Option("cancel", N_("放弃名额"), aliases=("放棄名額", "give up the place")),
        ]
    if activity.drawn_at is not None or activity.signup_deadline <= ctx.now:
        return []
    if status is SignupStatus.ENTERED:
        return [Option("cancel", N_("退出抽签"), aliases=("退出抽簽", "leave the draw"))]
    if status in (None, SignupStatus.CANCELLED):
        return [Option("sign_up", N_("报名参加抽签"), aliases=("报名", "報名", "参加抽签", "enter the draw"))]
    return []


def _activity(session: Session, row: PushRow) -> tuple[Activity, ActivitySignup] | None:
    activity = session.get(Activity, row.subject_id) if row.subject_id is not None else None
    member = session.get(Member, row.member_id)
    if activity is None or member is None or activity.status is not ActivityStatus.OPEN:
        return None
    assert activity.id is not None
    signup = signup_of(session, member=member, activity_id=activity.id)
    return (activity, signup) if signup is not None else None


def _open_button(t: Translator, activity: Activity) -> Button:
    return Button(t("查看活动"), f"go:activities:{activity.id}")


def render_drawn(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """The draw's result to one entrant, with the seed and the number drawn so anyone can check it."""
    found = _activity(session, row)
    if found is None:
        return None
    activity, signup = found
    assert activity.id is not None
    if signup.status is SignupStatus.OFFERED and signup.offer_expires_at is not None:
        head = t(
            "恭喜！您在“{title}”的抽签中中签了。请在 {time} 前回复“活动 {number}”确认参加，逾期名额让给下一位。"  # noqa: E501
        )
        text = head.format(
            title=activity.title, time=local_time(signup.offer_expires_at, zone), number=activity.id
        )
    elif signup.status is SignupStatus.NOT_DRAWN:
        text = t(
            "“{title}”抽签结果：很遗憾这次没有中签。您在抽签顺序中排第 {rank} 位，有人放弃时会按顺序递补并通知您。"  # noqa: E501
        ).format(title=activity.title, rank=signup.draw_rank)
    else:
        return None  # confirmed, gave up or lapsed meanwhile: the result is old news
    check = t("抽签种子：{seed}，共 {count} 人参加抽签；工会可以用这个种子重新抽一遍核对结果。").format(
        seed=activity.draw_seed, count=entered_count(session, activity.id)
    )
    body = text + "\n" + check
    reply = Reply(body, buttons=(_open_button(t, activity),))
    return Push(title=t("抽签结果"), reply=reply, body=body, unit=unit_of(session, activity))


def render_offered(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    """A place passed on to the next drawn, while it still waits for them."""
    found = _activity(session, row)
    if found is None:
        return None
    activity, signup = found
    if signup.status is not SignupStatus.OFFERED or signup.offer_expires_at is None:
        return None
    text = t(
        "有人放弃了“{title}”的名额，按抽签顺序递补给您了！请在 {time} 前回复“活动 {number}”确认参加。"
    ).format(title=activity.title, time=local_time(signup.offer_expires_at, zone), number=activity.id)
    reply = Reply(text, buttons=(_open_button(t, activity),))
    return Push(title=t("抽签递补通知"), reply=reply, body=text, unit=unit_of(session, activity))


def queue_draws(context: JobContext) -> int:
    """Draw the lotteries whose sign-up has closed; pass on offers not confirmed in time."""
    with context.sessions() as session:
        done = run_draws(session, now=context.clock())
    log.info("activity draws: %d draws and offers passed on", done)
    return done


# Every five minutes: a draw at most five minutes after the deadline, an expired offer passed on as soon.
DRAWS_JOB = Job(id="activity_draws", run=queue_draws, schedule="*/5 * * * *")
