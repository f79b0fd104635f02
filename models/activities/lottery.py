"""The lottery (抽签): oversubscribed activities draw their places at the deadline, openly.

Until the deadline members enter the draw. Then a job draws: a random seed is
made and recorded; the entrants, sorted by member id, are shuffled with a
generator seeded by it — the priority group first, then everyone else — which
gives each entrant a rank. The first ranks, as many as there are places, are
offered a place to confirm within a set time; the rest wait in rank order. An
offer declined or not confirmed in time passes to the next rank. Everyone is
told the result and the seed, so the office can re-run the draw from the seed
and the list of entrants (``python -m bot activities draw ID --verify``) and
get the same order.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models.activities.tables import (
    DRAWN_TOPIC,
    OFFERED_TOPIC,
    Activity,
    ActivityPriority,
    ActivitySignup,
    ActivityStatus,
    Allocation,
    SignupStatus,
    locked_activity,
    transition_signup,
)
from models.errors import N_, InvalidInput
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, enqueue
from models.roles import RoleGrant


def in_priority(session: Session, activity: Activity, member_id: int) -> bool:
    """Whether the member is of the activity's priority group: its role, or its list."""
    if activity.priority_role is not None:
        held = session.exec(
            select(RoleGrant.id).where(
                RoleGrant.member_id == member_id, RoleGrant.role == activity.priority_role
            )
        ).first()
        if held is not None:
            return True
    listed = session.exec(
        select(ActivityPriority.member_id).where(
            ActivityPriority.activity_id == activity.id, ActivityPriority.member_id == member_id
        )
    ).first()
    return listed is not None


def draw_order(seed: str, entrants: Sequence[tuple[int, bool]]) -> list[int]:
    """The members in the order drawn: (member id, in priority) pairs → ids, the priority group first.

    Pure, so the office re-runs it from the published seed and gets the same order.
    """
    # Reproducible on purpose: fairness rests on the seed being secret until the draw, then public.
    rng = random.Random(seed)  # noqa: S311
    first = sorted(member_id for member_id, priority in entrants if priority)
    rest = sorted(member_id for member_id, priority in entrants if not priority)
    rng.shuffle(first)
    rng.shuffle(rest)
    return first + rest


def _push(key: str, member_id: int, topic: str, activity_id: int) -> NewPush:
    return NewPush(key=key, member_id=member_id, kind=PushKind.STATUS, topic=topic, subject_id=activity_id)


def draw_activity(session: Session, *, activity: Activity, now: datetime, seed: str | None = None) -> int:
    """Draw an activity whose sign-up has closed; returns how many entered. Called under its lock."""
    assert activity.id is not None
    assert activity.capacity is not None
    entries = session.exec(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id, ActivitySignup.status == SignupStatus.ENTERED
        )
    ).all()
    seed = seed or secrets.token_hex(16)
    by_member = {entry.member_id: entry for entry in entries}
    for entry in entries:
        entry.drawn_with_priority = in_priority(session, activity, entry.member_id)
    order = draw_order(seed, [(entry.member_id, entry.drawn_with_priority) for entry in entries])
    expires = now + timedelta(hours=activity.confirm_hours)
    pushes = []
    for rank, member_id in enumerate(order, start=1):
        entry = by_member[member_id]
        entry.draw_rank = rank
        if rank <= activity.capacity:
            transition_signup(entry, SignupStatus.OFFERED)
            entry.offer_expires_at = expires
        else:
            transition_signup(entry, SignupStatus.NOT_DRAWN)
        session.add(entry)
        pushes.append(
            _push(f"activity:{activity.id}:drawn:member:{member_id}", member_id, DRAWN_TOPIC, activity.id)
        )
    activity.drawn_at, activity.draw_seed = now, seed
    session.add(activity)
    if pushes:
        enqueue(session, pushes, now=now)
    session.flush()
    return len(entries)


def offer_next(session: Session, *, activity: Activity, now: datetime) -> int | None:
    """Offer a freed place to the next in the draw's order, if a place is free; their id, or None."""
    assert activity.id is not None
    assert activity.capacity is not None
    held = session.exec(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id,
            col(ActivitySignup.status).in_([SignupStatus.OFFERED, SignupStatus.SIGNED_UP]),
        )
    ).all()
    if len(held) >= activity.capacity:
        return None
    following = session.exec(
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity.id, ActivitySignup.status == SignupStatus.NOT_DRAWN)
        .order_by(col(ActivitySignup.draw_rank))
        .limit(1)
    ).first()
    if following is None:
        return None
    transition_signup(following, SignupStatus.OFFERED)
    following.offer_expires_at = now + timedelta(hours=activity.confirm_hours)
    session.add(following)
    key = f"activity:{activity.id}:offered:member:{following.member_id}:rank:{following.draw_rank}"
    enqueue(session, [_push(key, following.member_id, OFFERED_TOPIC, activity.id)], now=now)
    session.flush()
    return following.member_id


def run_draws(session: Session, *, now: datetime) -> int:
    """Draw every lottery whose deadline has passed, and pass on offers not confirmed in time.

    Idempotent: an activity is drawn once (``drawn_at``), an offer lapses once.

    Returns:
        How many activities were drawn and offers passed on.
    """
    done = 0
    due = session.exec(
        select(Activity.id).where(
            Activity.allocation == Allocation.LOTTERY,
            Activity.status == ActivityStatus.OPEN,
            col(Activity.drawn_at).is_(None),
            col(Activity.signup_deadline) <= now,
        )
    ).all()
    for activity_id in due:
        activity = locked_activity(session, activity_id)
        if activity.drawn_at is None:
            draw_activity(session, activity=activity, now=now)
            done += 1
    lapsed = session.exec(
        select(ActivitySignup).where(
            ActivitySignup.status == SignupStatus.OFFERED, col(ActivitySignup.offer_expires_at) <= now
        )
    ).all()
    for offer in lapsed:
        activity = locked_activity(session, offer.activity_id)
        session.refresh(offer)
        if offer.status is not SignupStatus.OFFERED or activity.status is ActivityStatus.CANCELLED:
            continue
        transition_signup(offer, SignupStatus.LAPSED)
        session.add(offer)
        session.flush()
        offer_next(session, activity=activity, now=now)
        done += 1
    return done


def confirm_place(session: Session, *, actor: Member, activity_id: int, now: datetime) -> Activity:
    """The member takes the place the draw offered them.

    Raises:
        InvalidInput: ``activity.no_offer`` (none, or it lapsed), ``activity.cancelled``.
    """
    activity = locked_activity(session, activity_id)
    offer = session.exec(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.member_id == actor.id
        )
    ).first()
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity.cancelled", N_("很抱歉，这个活动已经取消了。"))
    if offer is None or offer.status is not SignupStatus.OFFERED:
        raise InvalidInput("activity.no_offer", N_("您现在没有待确认的名额。"))
    if offer.offer_expires_at is not None and offer.offer_expires_at <= now:
        raise InvalidInput("activity.offer_lapsed", N_("很抱歉，确认时间已过，名额已让给下一位。"))
    transition_signup(offer, SignupStatus.SIGNED_UP)
    session.add(offer)
    session.flush()
    return activity


@dataclass(frozen=True)
class DrawCheck:
    """A draw re-run: the order recorded and the order the seed gives."""

    seed: str
    recorded: list[int]
    recomputed: list[int]

    @property
    def holds(self) -> bool:
        return self.recorded == self.recomputed


def verify_draw(session: Session, *, activity_id: int) -> DrawCheck:
    """Re-run an activity's draw from its seed and its entrants, against the ranks recorded.

    Raises:
        InvalidInput: ``activity.not_drawn``: no draw yet.
    """
    activity = session.get(Activity, activity_id)
    if activity is None or activity.draw_seed is None:
        raise InvalidInput("activity.not_drawn", N_("这个活动还没有抽签。"))
    drawn = session.exec(
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id, col(ActivitySignup.draw_rank).is_not(None))
        .order_by(col(ActivitySignup.draw_rank))
    ).all()
    recorded = [entry.member_id for entry in drawn]
    entrants = [(entry.member_id, entry.drawn_with_priority) for entry in drawn]
    return DrawCheck(activity.draw_seed, recorded, draw_order(activity.draw_seed, entrants))


def set_priority_list(session: Session, *, activity_id: int, employee_nos: Sequence[str]) -> int:
    """Replace an activity's priority list with these members, all or nothing; returns how many.

    Raises:
        InvalidInput: ``activity.not_found``, ``activity.already_drawn`` (the list no longer
            matters), or ``activity.priority_unknown`` naming the first 工号 that is no active member.
    """
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise InvalidInput("activity.not_found", N_("找不到这个活动。"))
    if activity.drawn_at is not None:
        raise InvalidInput("activity.already_drawn", N_("这个活动已经抽过签了，优先名单不能再改。"))
    wanted = list(dict.fromkeys(employee_nos))
    found: dict[str, int] = dict(
        session.exec(  # type: ignore[arg-type]
            select(Member.employee_no, Member.id).where(
                col(Member.employee_no).in_(wanted), Member.status == MemberStatus.ACTIVE
            )
        ).all()
    )
    missing = [number for number in wanted if number not in found]
    if missing:
        raise InvalidInput(
            "activity.priority_unknown",
            N_("工号 {employee_no} 不是在册会员，名单没有导入，请改正后重新导入。"),
            employee_no=missing[0],
        )
    for row in session.exec(
        select(ActivityPriority).where(ActivityPriority.activity_id == activity_id)
    ).all():
        session.delete(row)
    session.flush()
    for number in wanted:
        session.add(ActivityPriority(activity_id=activity_id, member_id=found[number]))
    session.flush()
    return len(wanted)
