"""Activities: who may organise them for whom, signing up within the places and the deadline, cancelling."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.activities import (
    DESCRIPTION_MAX,
    PLACE_MAX,
    TITLE_MAX,
    Activity,
    ActivityDraft,
    ActivitySignup,
    ActivityStatus,
    SignupOutcome,
    SignupStatus,
    activities_managed_by,
    activity_units,
    cancel_activity,
    cancel_signup,
    check_cancel_reason,
    create_activity,
    open_activities_for,
    sign_up,
    signups_for,
    signups_of,
)
from models.db import SessionFactory
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from models.outbox import Outbox, PushKind
from models.roles import Role
from models.units import UnitTree
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, make_member, wait_for_a_lock_wait

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STARTS = NOW + timedelta(days=5)
DEADLINE = NOW + timedelta(days=3)


def unit_id(session: Session, path: str) -> int:
    unit = UnitTree(session).find(path)
    assert unit is not None
    assert unit.id is not None
    return unit.id


def draft(session: Session, path: str = "厂工会/一车间", /, **changes: object) -> ActivityDraft:
    fields: dict[str, object] = {
        "title": HOSTILE_TITLE,
        "description": HOSTILE_BODY,
        "place": "职工之家<b>二楼</b>",
        "starts_at": STARTS,
        "signup_deadline": DEADLINE,
        "capacity": None,
        "unit_ids": (unit_id(session, path),),
    }
    fields.update(changes)
    return ActivityDraft(**fields)  # type: ignore[arg-type]


def member(session: Session, employee_no: str) -> Member:
    return session.exec(select(Member).where(Member.employee_no == employee_no)).one()


@pytest.fixture
def cadre(session: Session) -> Member:
    """The chair of 一车间, members in its 甲班 and 乙班, and one in 二车间 next door."""
    chair = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
    make_member(session, employee_no="1001", name="甲一")
    make_member(session, employee_no="1002", name="乙一", unit="厂工会/一车间/乙班")
    make_member(session, employee_no="1003", name="乙二", unit="厂工会/一车间/乙班")
    make_member(session, employee_no="2001", name="二车间", unit="厂工会/二车间")
    return chair


def test_a_cadre_opens_an_activity_to_their_units(session: Session, cadre: Member) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session, capacity=10), now=NOW)
    assert (activity.title, activity.status, activity.capacity) == (HOSTILE_TITLE, ActivityStatus.OPEN, 10)
    assert activity.organiser_id == cadre.id
    assert activity.description == HOSTILE_BODY.strip()
    for employee_no in ("1001", "1002", "C1"):
        assert open_activities_for(session, member=member(session, employee_no), now=NOW) == ([activity], 1)
    assert open_activities_for(session, member=member(session, "2001"), now=NOW) == ([], 0)


def test_only_cadres_with_the_permission_organise_and_only_in_their_subtree(
    session: Session, cadre: Member
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        create_activity(session, actor=member(session, "1001"), draft=draft(session), now=NOW)
    assert refused.value.code == "activity.not_allowed"
    treasurer = make_member(session, employee_no="T1", roles=[(Role.TREASURER, "厂工会")])
    with pytest.raises(PermissionDenied):
        create_activity(session, actor=treasurer, draft=draft(session), now=NOW)
    for path in ("厂工会/二车间", "厂工会"):
        with pytest.raises(PermissionDenied) as refused:
            create_activity(session, actor=cadre, draft=draft(session, path), now=NOW)
        assert (refused.value.code, refused.value.params) == ("activity.out_of_scope", {"unit": path})
    assert session.exec(select(Activity)).all() == []


@pytest.mark.parametrize(
    ("changes", "code", "params"),
    [
        ({"title": "标" * 41}, "activity.title_too_long", {"limit": TITLE_MAX, "count": 41}),
        ({"title": " "}, "activity.title_empty", {}),
        (
            {"description": "字" * 2001},
            "activity.description_too_long",
            {"limit": DESCRIPTION_MAX, "count": 2001},
        ),
        ({"place": "地" * 101}, "activity.place_too_long", {"limit": PLACE_MAX, "count": 101}),
        ({"place": ""}, "activity.place_empty", {}),
        ({"starts_at": NOW, "signup_deadline": NOW}, "activity.start_past", {}),
        ({"signup_deadline": NOW - timedelta(minutes=1)}, "activity.deadline_past", {}),
        ({"signup_deadline": STARTS + timedelta(minutes=1)}, "activity.deadline_after_start", {}),
        ({"capacity": 0}, "activity.capacity", {"maximum": 100_000}),
        ({"unit_ids": ()}, "activity.no_units", {}),
    ],
)
def test_bad_input_is_refused_with_its_limit_and_nothing_is_written(
    session: Session, cadre: Member, changes: dict[str, object], code: str, params: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_activity(session, actor=cadre, draft=draft(session, **changes), now=NOW)
    assert (refused.value.code, refused.value.params) == (code, params)
    assert session.exec(select(Activity)).all() == []


def test_a_unit_inside_another_chosen_is_left_out(session: Session, cadre: Member) -> None:
    both = (unit_id(session, "厂工会/一车间/乙班"), unit_id(session, "厂工会/一车间"))
    activity = create_activity(session, actor=cadre, draft=draft(session, unit_ids=both), now=NOW)
    assert activity.id is not None
    assert [unit.name for unit in activity_units(session, activity.id)] == ["一车间"]


def test_a_deadline_at_the_start_is_allowed(session: Session, cadre: Member) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session, signup_deadline=STARTS), now=NOW)
    assert activity.signup_deadline == activity.starts_at


def test_members_see_what_is_open_soonest_first(session: Session, cadre: Member) -> None:
    later = create_activity(session, actor=cadre, draft=draft(session, title="后面的"), now=NOW)
    sooner = create_activity(
        session,
        actor=cadre,
        draft=draft(
            session,
            "厂工会/一车间/乙班",
            title="乙班的",
            starts_at=NOW + timedelta(days=2),
            signup_deadline=NOW + timedelta(days=1),
        ),
        now=NOW,
    )
    closing = create_activity(
        session,
        actor=cadre,
        draft=draft(session, title="今天截止", signup_deadline=NOW + timedelta(hours=1)),
        now=NOW,
    )
    assert open_activities_for(session, member=member(session, "1002"), now=NOW) == (
        [sooner, later, closing],
        3,
    )
    assert open_activities_for(session, member=member(session, "1001"), now=NOW) == ([later, closing], 2)
    assert open_activities_for(session, member=member(session, "1001"), now=NOW, offset=1, limit=1) == (
        [closing],
        2,
    )
    after_deadline = NOW + timedelta(hours=1)
    assert open_activities_for(session, member=member(session, "1001"), now=after_deadline) == ([later], 1)
    assert later.id is not None
    cancel_activity(session, actor=cadre, activity_id=later.id, now=NOW)
    assert open_activities_for(session, member=member(session, "1001"), now=NOW) == ([closing], 1)
    gone = member(session, "1002")
    gone.status = MemberStatus.LEFT
    assert open_activities_for(session, member=gone, now=NOW) == ([], 0)


def test_signing_up_twice_is_kind_and_cancelling_frees_the_place(session: Session, cadre: Member) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session, capacity=1), now=NOW)
    assert activity.id is not None
    first, second = member(session, "1001"), member(session, "1002")
    assert sign_up(session, actor=first, activity_id=activity.id, now=NOW) is SignupOutcome.SIGNED_UP
    assert sign_up(session, actor=first, activity_id=activity.id, now=NOW) is SignupOutcome.ALREADY_SIGNED_UP
    with pytest.raises(InvalidInput) as full:
        sign_up(session, actor=second, activity_id=activity.id, now=NOW)
    assert (full.value.code, full.value.params) == ("activity.full", {"capacity": 1})
    assert signups_for(session, member=first, now=NOW) == ([activity], 1)

    cancel_signup(session, actor=first, activity_id=activity.id, now=NOW)
    assert signups_for(session, member=first, now=NOW) == ([], 0)
    assert sign_up(session, actor=second, activity_id=activity.id, now=NOW) is SignupOutcome.SIGNED_UP
    with pytest.raises(InvalidInput) as again:
        cancel_signup(session, actor=first, activity_id=activity.id, now=NOW)
    assert again.value.code == "activity.not_signed_up"
    cancel_signup(session, actor=second, activity_id=activity.id, now=NOW)
    assert sign_up(session, actor=first, activity_id=activity.id, now=NOW) is SignupOutcome.SIGNED_UP
    rows = session.exec(select(ActivitySignup).where(ActivitySignup.member_id == first.id)).all()
    assert [(row.status, row.cancelled_at) for row in rows] == [(SignupStatus.SIGNED_UP, None)]  # one row


def test_sign_up_is_refused_outside_the_units_after_the_deadline_and_when_cancelled(
    session: Session, cadre: Member
) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session, "厂工会/一车间/乙班"), now=NOW)
    assert activity.id is not None
    with pytest.raises(PermissionDenied) as refused:
        sign_up(session, actor=member(session, "1001"), activity_id=activity.id, now=NOW)
    assert refused.value.code == "activity.not_eligible"
    with pytest.raises(InvalidInput) as late:
        sign_up(session, actor=member(session, "1002"), activity_id=activity.id, now=DEADLINE)
    assert late.value.code == "activity.deadline_passed"
    sign_up(session, actor=member(session, "1003"), activity_id=activity.id, now=NOW)
    with pytest.raises(InvalidInput) as too_late:
        cancel_signup(session, actor=member(session, "1003"), activity_id=activity.id, now=DEADLINE)
    assert too_late.value.code == "activity.cancel_too_late"
    cancel_activity(session, actor=cadre, activity_id=activity.id, now=NOW)
    with pytest.raises(InvalidInput) as cancelled:
        sign_up(session, actor=member(session, "1002"), activity_id=activity.id, now=NOW)
    assert cancelled.value.code == "activity.cancelled"
    with pytest.raises(NotFound):
        sign_up(session, actor=member(session, "1002"), activity_id=activity.id + 100, now=NOW)


def test_cancelling_tells_exactly_those_signed_up(session: Session, cadre: Member) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session), now=NOW)
    assert activity.id is not None
    for employee_no in ("1001", "1002", "1003"):
        sign_up(session, actor=member(session, employee_no), activity_id=activity.id, now=NOW)
    cancel_signup(session, actor=member(session, "1002"), activity_id=activity.id, now=NOW)
    gone = member(session, "1003")
    gone.status = MemberStatus.LEFT
    session.add(gone)

    neighbour = make_member(session, employee_no="C2", roles=[(Role.CHAIR, "厂工会/二车间")])
    with pytest.raises(PermissionDenied):
        cancel_activity(session, actor=neighbour, activity_id=activity.id, now=NOW)
    assert session.exec(select(Outbox)).all() == []

    assert cancel_activity(session, actor=cadre, activity_id=activity.id, now=NOW) == 1
    assert activity.status is ActivityStatus.CANCELLED
    [row] = session.exec(select(Outbox)).all()
    first = member(session, "1001")
    assert (row.key, row.member_id, row.topic, row.subject_id, row.kind) == (
        f"activity:{activity.id}:cancelled:member:{first.id}",
        first.id,
        "activity_cancelled",
        activity.id,
        PushKind.STATUS,
    )
    with pytest.raises(InvalidInput) as again:
        cancel_activity(session, actor=cadre, activity_id=activity.id, now=NOW)
    assert again.value.code == "activity.already_cancelled"
    assert signups_for(session, member=first, now=NOW) == ([activity], 1)  # so they see it is off


def test_the_reason_for_cancelling_is_kept_trimmed_and_limited(session: Session, cadre: Member) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session), now=NOW)
    assert activity.id is not None
    with pytest.raises(InvalidInput) as too_long:
        cancel_activity(session, actor=cadre, activity_id=activity.id, now=NOW, reason="雨" * 101)
    assert (too_long.value.code, too_long.value.params) == (
        "activity.reason_too_long",
        {"limit": 100, "count": 101},
    )
    assert activity.status is ActivityStatus.OPEN
    emoji = "👨‍👩‍👧" * 100  # a hundred characters as a member counts them, many more code points
    assert check_cancel_reason(emoji) == emoji
    assert check_cancel_reason("   ") is None
    cancel_activity(session, actor=cadre, activity_id=activity.id, now=NOW, reason="  下雨改期。 ")
    assert (activity.status, activity.cancel_reason) == (ActivityStatus.CANCELLED, "下雨改期。")


def test_an_activity_that_started_cannot_be_cancelled(session: Session, cadre: Member) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session), now=NOW)
    assert activity.id is not None
    with pytest.raises(InvalidInput) as refused:
        cancel_activity(session, actor=cadre, activity_id=activity.id, now=STARTS)
    assert refused.value.code == "activity.already_started"


def test_the_cadre_sees_who_comes_and_the_plant_chair_too(session: Session, cadre: Member) -> None:
    activity = create_activity(session, actor=cadre, draft=draft(session), now=NOW)
    assert activity.id is not None
    for minutes, employee_no in enumerate(("1003", "1001")):
        sign_up(
            session,
            actor=member(session, employee_no),
            activity_id=activity.id,
            now=NOW + timedelta(minutes=minutes),
        )
    attendees = signups_of(session, actor=cadre, activity_id=activity.id)
    assert [(a.member.name, a.member.employee_no, a.unit) for a in attendees] == [
        ("乙二", "1003", "厂工会/一车间/乙班"),
        ("甲一", "1001", "厂工会/一车间/甲班"),
    ]
    plant = make_member(session, employee_no="C3", unit="厂工会", roles=[(Role.CHAIR, "厂工会")])
    assert len(signups_of(session, actor=plant, activity_id=activity.id)) == 2
    assert activities_managed_by(session, actor=plant) == ([activity], 1)
    assert activities_managed_by(session, actor=cadre) == ([activity], 1)
    with pytest.raises(PermissionDenied):
        signups_of(session, actor=member(session, "1001"), activity_id=activity.id)
    neighbour = make_member(session, employee_no="C2", roles=[(Role.CHAIR, "厂工会/二车间")])
    with pytest.raises(PermissionDenied):
        signups_of(session, actor=neighbour, activity_id=activity.id)
    assert activities_managed_by(session, actor=neighbour) == ([], 0)


def test_the_list_of_managed_activities_is_newest_first(session: Session, cadre: Member) -> None:
    made = [
        create_activity(session, actor=cadre, draft=draft(session, title=f"第{n}场"), now=NOW)
        for n in range(3)
    ]
    assert activities_managed_by(session, actor=cadre, limit=2) == ([made[2], made[1]], 3)
    assert activities_managed_by(session, actor=cadre, offset=2, limit=2) == ([made[0]], 3)


def test_two_members_cannot_both_take_the_last_place(db: SessionFactory) -> None:
    """On PostgreSQL the second sign-up waits for the first to commit, then finds the activity full."""
    with db() as session:
        cadre = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
        make_member(session, employee_no="1001")
        make_member(session, employee_no="1002")
        activity = create_activity(session, actor=cadre, draft=draft(session, capacity=1), now=NOW)
        activity_id = activity.id
    assert activity_id is not None
    outcomes: list[object] = []
    done = threading.Event()

    def second() -> None:
        try:
            with db() as session:
                outcomes.append(
                    sign_up(session, actor=member(session, "1002"), activity_id=activity_id, now=NOW)
                )
        except InvalidInput as error:
            outcomes.append(error.code)
        finally:
            done.set()

    with db() as session:
        assert sign_up(session, actor=member(session, "1001"), activity_id=activity_id, now=NOW) is (
            SignupOutcome.SIGNED_UP
        )
        thread = threading.Thread(target=second)
        if db.engine.dialect.name == "postgresql":
            thread.start()
            wait_for_a_lock_wait(db, done)
        # On SQLite the first transaction holds the write lock (BEGIN IMMEDIATE) until it commits.
    if not thread.is_alive() and not done.is_set():
        thread.start()
    thread.join(timeout=30)
    assert outcomes == ["activity.full"]
    with db() as session:
        signed = session.exec(
            select(ActivitySignup).where(col(ActivitySignup.status) == SignupStatus.SIGNED_UP)
        ).all()
        assert len(signed) == 1
