"""Who was there: check-in with the day's code, or a cadre's mark; attendance is what figures count.

Each activity has a short code for each day it runs, six digits derived from a
key of its own and the date (an HMAC), so nothing needs storing per day, the
code changes at midnight in the union's zone, and yesterday's code — or
another activity's — is told apart from a typo. A member checks in by sending
the code (or opening the Telegram link of the QR code the cadre shows), only
for an activity they are signed up for and only on its day. A cadre may mark
attendance by hand for those without a phone at hand.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.activities.organise import managed_activity
from models.activities.tables import (
    Activity,
    ActivityBatch,
    ActivitySignup,
    ActivityStatus,
    SignupStatus,
    batches_of,
)
from models.errors import N_, InvalidInput
from models.members import Member, normalise_digits

CODE_DIGITS = 6
# How far back and ahead a code is recognised as "this activity, another day", for a kinder answer.
_OTHER_DAYS = 7


class CheckInOutcome(StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY = "already"  # a second scan is not an error


@dataclass(frozen=True)
class CheckIn:
    outcome: CheckInOutcome
    activity: Activity


def activity_days(session: Session, activity: Activity, zone: tzinfo) -> tuple[date, ...]:
    """The days an activity runs, in the union's zone: its start's, or each batch's."""
    assert activity.id is not None
    batches = batches_of(session, activity.id)
    starts = [batch.starts_at for batch in batches] or [activity.starts_at]
    return tuple(sorted({start.astimezone(zone).date() for start in starts}))


def _member_days(
    session: Session, activity: Activity, signup: ActivitySignup, zone: tzinfo
) -> tuple[date, ...]:
    """The day a member signed up for: their batch's, or the activity's."""
    if signup.batch_id is not None:
        batch = session.get(ActivityBatch, signup.batch_id)
        if batch is not None:
            return (batch.starts_at.astimezone(zone).date(),)
    return activity_days(session, activity, zone)


def _code(secret: str, day: date) -> str:
    digest = hmac.new(secret.encode(), day.isoformat().encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def checkin_code(session: Session, *, actor: Member, activity_id: int, day: date) -> str:
    """The code members check in with on ``day``, for the organiser or a cadre over the activity.

    Raises:
        NotFound, PermissionDenied: as :func:`managed_activity`.
    """
    activity = managed_activity(session, actor=actor, activity_id=activity_id)
    if activity.checkin_secret is None:
        activity.checkin_secret = secrets.token_hex(16)
        session.add(activity)
        session.flush()
    return _code(activity.checkin_secret, day)


def _today_window(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=zone)
    return start - timedelta(days=_OTHER_DAYS), start + timedelta(days=_OTHER_DAYS + 1)


def check_in(session: Session, *, actor: Member, code: str, now: datetime, zone: tzinfo) -> CheckIn:
    """Record that the actor is at the activity whose code for today they sent.

    Raises:
        InvalidInput: ``checkin.bad_code`` (not six digits, or nobody's code), ``checkin.wrong_day``
            (the code of one of their activities, for another day), ``checkin.not_signed_up``
            (today's code of an activity they did not sign up for), ``checkin.nothing_today``.
    """
    typed = "".join(normalise_digits(code).split())
    if len(typed) != CODE_DIGITS or not typed.isdigit():
        raise InvalidInput(
            "checkin.bad_code", N_("签到码是 {digits} 位数字，请核对后再发一次。"), digits=CODE_DIGITS
        )
    today = now.astimezone(zone).date()
    start, end = _today_window(today, zone)
    batched = select(ActivityBatch.activity_id).where(
        col(ActivityBatch.starts_at) >= start, col(ActivityBatch.starts_at) < end
    )
    nearby = session.exec(
        select(Activity).where(
            Activity.status == ActivityStatus.OPEN,
            col(Activity.checkin_secret).is_not(None),
            sa.or_(
                sa.and_(col(Activity.starts_at) >= start, col(Activity.starts_at) < end),
                col(Activity.id).in_(batched),
            ),
        )
    ).all()
    mine = {
        signup.activity_id: signup
        for signup in session.exec(
            select(ActivitySignup).where(
                ActivitySignup.member_id == actor.id,
                ActivitySignup.status == SignupStatus.SIGNED_UP,
                col(ActivitySignup.activity_id).in_([a.id for a in nearby]),
            )
        )
    }
    wrong_day = False
    not_mine = False
    for activity in nearby:
        assert activity.checkin_secret is not None
        days = activity_days(session, activity, zone)
        signup = mine.get(activity.id or 0)
        if today in days and hmac.compare_digest(_code(activity.checkin_secret, today), typed):
            if signup is None:
                not_mine = True
                continue
            if today not in _member_days(session, activity, signup, zone):
                wrong_day = True  # today is another batch's day
                continue
            if signup.attended_at is not None:
                return CheckIn(CheckInOutcome.ALREADY, activity)
            signup.attended_at, signup.attendance_marked_by = now, None
            session.add(signup)
            session.flush()
            return CheckIn(CheckInOutcome.CHECKED_IN, activity)
        if signup is not None and any(
            hmac.compare_digest(_code(activity.checkin_secret, day), typed) for day in days
        ):
            wrong_day = True
    if wrong_day:
        raise InvalidInput(
            "checkin.wrong_day", N_("这是别的日子的签到码。签到只能在活动当天，用当天的签到码。")
        )
    if not_mine:
        raise InvalidInput(
            "checkin.not_signed_up", N_("您没有报名这个活动，不能签到。如有疑问请联系活动组织人。")
        )
    if not any(
        today in _member_days(session, a, mine[a.id or 0], zone) for a in nearby if (a.id or 0) in mine
    ):
        raise InvalidInput("checkin.nothing_today", N_("您今天没有报名的活动需要签到。"))
    raise InvalidInput("checkin.bad_code", N_("签到码不对，请核对组织人公布的签到码后再发一次。"))


def mark_attendance(
    session: Session, *, actor: Member, activity_id: int, member_ids: Collection[int], now: datetime
) -> int:
    """A cadre marks members signed up as there; returns how many were newly marked.

    Raises:
        NotFound, PermissionDenied: as :func:`managed_activity`.
        InvalidInput: ``activity.not_started``: attendance is marked from the activity's day on.
    """
    activity = managed_activity(session, actor=actor, activity_id=activity_id)
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.cancelled", N_("很抱歉，这个活动已经取消了。"))
    if now < activity.starts_at - timedelta(hours=12):
        raise InvalidInput("activity.not_started", N_("活动还没到，到场情况等活动当天再登记。"))
    signups = session.exec(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.status == SignupStatus.SIGNED_UP,
            col(ActivitySignup.member_id).in_(list(member_ids)),
            col(ActivitySignup.attended_at).is_(None),
        )
    ).all()
    for signup in signups:
        signup.attended_at, signup.attendance_marked_by = now, actor.id
        session.add(signup)
    session.flush()
    return len(signups)


def attendance_counts(session: Session, activity_id: int) -> int:
    """How many of those signed up were there."""
    return int(
        session.exec(
            select(func.count())
            .select_from(ActivitySignup)
            .where(
                ActivitySignup.activity_id == activity_id,
                ActivitySignup.status == SignupStatus.SIGNED_UP,
                col(ActivitySignup.attended_at).is_not(None),
            )
        ).one()
    )
