"""Notices: who may send them where, what is queued with them, withdrawing, reading and reporting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.activities import ActivityDraft, cancel_signup, create_activity, sign_up
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from models.notices import (
    BODY_MAX,
    PROGRESS_INTERVAL,
    Attachment,
    AttachmentKind,
    Notice,
    NoticeCategory,
    NoticeDraft,
    NoticeRecipient,
    NoticeStatus,
    Target,
    TargetKind,
    authored_notices,
    category_counts,
    create_notice,
    list_notices,
    mark_notice_read,
    notice_report,
    plan_reminder,
    preview_notice,
    progress_key,
    read_notice,
    refresh_progress,
    remind_unread,
    reminder_key,
    reminder_of,
    unread_recipient,
    unread_recipients,
    visible_length,
    withdraw_notice,
)
from models.outbox import Outbox, OutboxStatus, Outcome, PushKind
from models.reach import Reach
from models.roles import Role
from models.units import Unit, UnitTree
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, bind, make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def unit_id(session: Session, path: str) -> int:
    unit = UnitTree(session).find(path)
    assert unit is not None
    assert unit.id is not None
    return unit.id


def everyone(session: Session, path: str = "厂工会/一车间") -> Target:
    return Target(TargetKind.UNITS, (unit_id(session, path),))


def draft(target: Target, **changes: object) -> NoticeDraft:
    fields: dict[str, object] = {
        "title": HOSTILE_TITLE,
        "body": HOSTILE_BODY,
        "category": NoticeCategory.NOTICE,
        "target": target,
    }
    fields.update(changes)
    return NoticeDraft(**fields)  # type: ignore[arg-type]


@pytest.fixture
def cadre(session: Session) -> Member:
    """The chair of 一车间, with members in 甲班 and 乙班 and one in 二车间 next door."""
    chair = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
    make_member(session, employee_no="1001", roles=[(Role.REPRESENTATIVE, "厂工会/一车间")])
    make_member(session, employee_no="1002", unit="厂工会/一车间/乙班")
    make_member(session, employee_no="2001", unit="厂工会/二车间")
    return chair


def test_a_notice_queues_one_push_per_member_and_the_authors_progress(
    session: Session, cadre: Member
) -> None:
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    rows = session.exec(select(Outbox).order_by(col(Outbox.id))).all()
    members = session.exec(select(Member).where(col(Member.employee_no).in_(["C1", "1001", "1002"]))).all()
    assert notice.recipient_count == 3
    assert {(row.key, row.member_id) for row in rows[:3]} == {
        (f"notice:{notice.id}:member:{member.id}", member.id) for member in members
    }
    assert all(row.kind is PushKind.NOTICE and row.topic == "notice" for row in rows[:3])
    assert all(row.subject_id == notice.id and row.due_at == NOW and not row.urgent for row in rows[:3])
    progress = rows[3]
    assert (progress.key, progress.topic, progress.member_id) == (
        f"notice:{notice.id}:progress",
        "notice_progress",
        cadre.id,
    )
    assert progress.urgent
    assert notice.title == HOSTILE_TITLE
    assert notice.body == HOSTILE_BODY.strip()


def test_recipients_are_fixed_when_the_notice_is_queued(session: Session, cadre: Member) -> None:
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    late = make_member(session, employee_no="1009")
    assert list_notices(session, member=late, category=NoticeCategory.NOTICE, now=NOW) == ([], 0)
    assert notice.recipient_count == 3


def test_left_and_transferred_members_get_nothing(session: Session, cadre: Member) -> None:
    gone = session.exec(select(Member).where(Member.employee_no == "1002")).one()
    gone.status = MemberStatus.LEFT
    session.add(gone)
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    assert notice.recipient_count == 2


def test_a_role_target_reaches_its_holders_in_the_cadres_units(session: Session, cadre: Member) -> None:
    make_member(
        session, employee_no="2002", unit="厂工会/二车间", roles=[(Role.REPRESENTATIVE, "厂工会/二车间")]
    )
    target = Target(TargetKind.ROLE, (unit_id(session, "厂工会/一车间"),), Role.REPRESENTATIVE)
    notice = create_notice(session, actor=cadre, draft=draft(target), now=NOW)
    recipients = session.exec(select(NoticeRecipient.member_id).where(NoticeRecipient.notice_id == notice.id))
    employee_nos = {session.get(Member, member_id).employee_no for member_id in recipients}  # type: ignore[union-attr]
    assert employee_nos == {"1001"}


def test_members_cannot_send_notices(session: Session, cadre: Member) -> None:
    member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
    with pytest.raises(PermissionDenied) as refused:
        create_notice(session, actor=member, draft=draft(everyone(session)), now=NOW)
    assert refused.value.code == "notice.not_allowed"
    treasurer = make_member(session, employee_no="T1", roles=[(Role.TREASURER, "厂工会")])
    with pytest.raises(PermissionDenied):
        create_notice(session, actor=treasurer, draft=draft(everyone(session)), now=NOW)
    assert session.exec(select(Notice)).all() == []


def test_cadres_cannot_target_outside_their_subtree(session: Session, cadre: Member) -> None:
    for path in ("厂工会/二车间", "厂工会"):
        with pytest.raises(PermissionDenied) as refused:
            create_notice(session, actor=cadre, draft=draft(everyone(session, path)), now=NOW)
        assert refused.value.code == "notice.out_of_scope"
        assert refused.value.params == {"unit": path}
    mixed = Target(
        TargetKind.UNITS, (unit_id(session, "厂工会/一车间/乙班"), unit_id(session, "厂工会/二车间"))
    )
    with pytest.raises(PermissionDenied):
        create_notice(session, actor=cadre, draft=draft(mixed), now=NOW)
    assert session.exec(select(Outbox)).all() == []


@pytest.mark.parametrize(
    ("changes", "code", "params"),
    [
        ({"body": ""}, "notice.body_empty", {}),
        ({"body": " \n "}, "notice.body_empty", {}),
        ({"body": "字" * 10_000}, "notice.body_too_long", {"limit": BODY_MAX, "count": 10_000}),
        ({"title": "标" * 41}, "notice.title_too_long", {"limit": 40, "count": 41}),
        ({"title": ""}, "notice.title_empty", {}),
        ({"send_at": NOW - timedelta(minutes=1)}, "notice.send_time_past", {}),
        ({"send_at": NOW}, "notice.send_time_past", {}),
        ({"send_at": NOW + timedelta(days=91)}, "notice.send_time_far", {"days": 90}),
        (
            {
                "attachment": Attachment(
                    AttachmentKind.IMAGE, "/data/a.jpg", "image/jpeg", 10 * 1024 * 1024 + 1
                )
            },
            "notice.image_too_large",
            {"limit": 10},
        ),
        (
            {"attachment": Attachment(AttachmentKind.IMAGE, "/data/a.webp", "image/webp", 1000)},
            "notice.image_type",
            {},
        ),
        (
            {"attachment": Attachment(AttachmentKind.FILE, "/data/a.zip", None, 50 * 1024 * 1024 + 1)},
            "notice.file_too_large",
            {"limit": 50},
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_queued(
    session: Session, cadre: Member, changes: dict[str, object], code: str, params: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_notice(session, actor=cadre, draft=draft(everyone(session), **changes), now=NOW)
    assert (refused.value.code, refused.value.params) == (code, params)
    assert session.exec(select(Notice)).all() == []
    assert session.exec(select(Outbox)).all() == []


def test_a_target_with_no_members_is_refused(session: Session, cadre: Member) -> None:
    UnitTree(session).ensure("厂工会/一车间/空班")
    with pytest.raises(InvalidInput) as refused:
        create_notice(session, actor=cadre, draft=draft(everyone(session, "厂工会/一车间/空班")), now=NOW)
    assert refused.value.code == "notice.no_recipients"
    nobody = Target(TargetKind.ROLE, (unit_id(session, "厂工会/一车间"),), Role.TREASURER)
    with pytest.raises(InvalidInput):
        create_notice(session, actor=cadre, draft=draft(nobody), now=NOW)


def test_length_counts_what_members_see() -> None:
    assert visible_length("👍🏽é") == 2  # a skin tone and a combining accent join the character before
    assert visible_length(HOSTILE_TITLE) == len(HOSTILE_TITLE)


def test_preview_counts_how_each_member_is_reached(session: Session, cadre: Member) -> None:
    tg = session.exec(select(Member).where(Member.employee_no == "1001")).one()
    wx = session.exec(select(Member).where(Member.employee_no == "1002")).one()
    bind(session, tg, last_seen_at=NOW)
    bind(session, wx, channel="wechat", last_seen_at=NOW - timedelta(days=3))
    sheet = Attachment(AttachmentKind.FILE, "/data/名单.xlsx", None, 1000, "名单.xlsx")
    figures = preview_notice(
        session,
        actor=cadre,
        draft=draft(everyone(session), attachment=sheet),
        now=NOW,
        template_kinds={"notice"},
        template_quota=0,
    )
    assert figures.recipients == 3
    assert figures.reach == {
        Reach.TELEGRAM: 1,
        Reach.WECHAT_SERVICE: 0,
        Reach.WECHAT_TEMPLATE: 1,
        Reach.NONE: 1,
    }
    assert figures.over_quota
    assert figures.file_unsent == 1
    quiet = preview_notice(
        session, actor=cadre, draft=draft(everyone(session)), now=NOW, template_kinds=(), template_quota=10
    )
    assert quiet.reach[Reach.WECHAT_TEMPLATE] == 0
    assert quiet.reach[Reach.NONE] == 2
    assert not quiet.over_quota
    assert quiet.file_unsent == 0
    assert session.exec(select(Outbox)).all() == []


def test_withdraw_a_scheduled_notice(session: Session, cadre: Member) -> None:
    later = NOW + timedelta(days=1)
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session), send_at=later), now=NOW)
    assert notice.id is not None
    assert withdraw_notice(session, actor=cadre, notice_id=notice.id, now=NOW) == 3
    assert notice.status is NoticeStatus.WITHDRAWN
    assert {row.status for row in session.exec(select(Outbox))} == {OutboxStatus.WITHDRAWN}
    with pytest.raises(InvalidInput) as again:
        withdraw_notice(session, actor=cadre, notice_id=notice.id, now=NOW)
    assert again.value.code == "notice.already_withdrawn"
    member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
    assert list_notices(session, member=member, category=NoticeCategory.NOTICE, now=later) == ([], 0)


def test_a_notice_cannot_be_withdrawn_once_it_goes_out(session: Session, cadre: Member) -> None:
    later = NOW + timedelta(hours=1)
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session), send_at=later), now=NOW)
    assert notice.id is not None
    row = session.exec(select(Outbox).where(Outbox.topic == "notice")).first()
    assert row is not None
    row.status = OutboxStatus.CLAIMED  # a worker took one early
    session.add(row)
    with pytest.raises(InvalidInput) as refused:
        withdraw_notice(session, actor=cadre, notice_id=notice.id, now=NOW)
    assert refused.value.code == "notice.already_sent"
    row.status = OutboxStatus.QUEUED
    with pytest.raises(InvalidInput):
        withdraw_notice(session, actor=cadre, notice_id=notice.id, now=later)


def test_only_the_author_or_a_cadre_over_its_units_may_withdraw(session: Session, cadre: Member) -> None:
    later = NOW + timedelta(days=1)
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session), send_at=later), now=NOW)
    assert notice.id is not None
    neighbour = make_member(session, employee_no="C2", roles=[(Role.CHAIR, "厂工会/二车间")])
    with pytest.raises(PermissionDenied):
        withdraw_notice(session, actor=neighbour, notice_id=notice.id, now=NOW)
    with pytest.raises(PermissionDenied):
        notice_report(session, actor=neighbour, notice_id=notice.id)
    with pytest.raises(NotFound):
        withdraw_notice(session, actor=cadre, notice_id=notice.id + 100, now=NOW)
    plant = make_member(session, employee_no="C3", roles=[(Role.CHAIR, "厂工会")])
    assert withdraw_notice(session, actor=plant, notice_id=notice.id, now=NOW) == 3


def test_members_list_their_notices_newest_first_by_heading(session: Session, cadre: Member) -> None:
    member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
    for n in range(7):
        create_notice(
            session,
            actor=cadre,
            draft=draft(everyone(session), title=f"第{n}号"),
            now=NOW + timedelta(minutes=n),
        )
    open_post = draft(everyone(session), title="三季度厂务公开", category=NoticeCategory.FACTORY_AFFAIRS)
    create_notice(session, actor=cadre, draft=open_post, now=NOW)
    create_notice(
        session,
        actor=cadre,
        draft=draft(everyone(session), title="明天的", send_at=NOW + timedelta(days=1)),
        now=NOW,
    )
    late = NOW + timedelta(hours=1)
    page, total = list_notices(session, member=member, category=NoticeCategory.NOTICE, now=late, limit=5)
    assert total == 7
    assert [notice.title for notice in page] == ["第6号", "第5号", "第4号", "第3号", "第2号"]
    page, _ = list_notices(
        session, member=member, category=NoticeCategory.NOTICE, now=late, offset=5, limit=5
    )
    assert [notice.title for notice in page] == ["第1号", "第0号"]
    assert category_counts(session, member=member, now=late) == {
        NoticeCategory.NOTICE: 7,
        NoticeCategory.FACTORY_AFFAIRS: 1,
    }
    outsider = session.exec(select(Member).where(Member.employee_no == "2001")).one()
    assert category_counts(session, member=outsider, now=late) == {}


def test_reading_is_recorded_once_and_only_for_recipients(session: Session, cadre: Member) -> None:
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    assert notice.id is not None
    member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
    assert mark_notice_read(session, member=member, notice_id=notice.id, now=NOW)
    assert not mark_notice_read(session, member=member, notice_id=notice.id, now=NOW + timedelta(hours=1))
    recipient = session.get(NoticeRecipient, (notice.id, member.id))
    assert recipient is not None
    assert recipient.read_at == NOW
    outsider = session.exec(select(Member).where(Member.employee_no == "2001")).one()
    with pytest.raises(NotFound):
        mark_notice_read(session, member=outsider, notice_id=notice.id, now=NOW)
    with pytest.raises(NotFound):
        read_notice(session, member=outsider, notice_id=notice.id, now=NOW)
    _, report = notice_report(session, actor=cadre, notice_id=notice.id)
    assert report.read == 1


def test_the_report_tells_failures_apart(session: Session, cadre: Member) -> None:
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    assert notice.id is not None
    rows = session.exec(select(Outbox).where(Outbox.topic == "notice").order_by(col(Outbox.id))).all()
    for row, (status, error) in zip(
        rows,
        [
            (OutboxStatus.SENT, None),
            (OutboxStatus.FAILED, "blocked: Forbidden"),
            (OutboxStatus.FAILED, "no_account"),
        ],
        strict=True,
    ):
        row.status, row.error = status, error
        session.add(row)
    session.flush()
    _, report = notice_report(session, actor=cadre, notice_id=notice.id)
    assert (report.total, report.sent, report.failed, report.no_account, report.blocked) == (3, 1, 0, 1, 1)
    assert report.finished
    assert report.done == 3
    assert authored_notices(session, actor=cadre) == ([notice], 1)


def test_progress_is_refreshed_every_few_seconds_and_once_at_the_end(session: Session, cadre: Member) -> None:
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    assert notice.id is not None
    progress = session.exec(select(Outbox).where(Outbox.key == progress_key(notice.id))).one()
    rows = session.exec(select(Outbox).where(Outbox.topic == "notice").order_by(col(Outbox.id))).all()

    def progress_sent(at: datetime) -> None:
        progress.status, progress.sent_at = OutboxStatus.SENT, at
        session.add(progress)
        session.flush()

    progress_sent(NOW)
    rows[0].status = OutboxStatus.SENT
    session.add(rows[0])
    session.flush()
    assert refresh_progress(session, {notice.id}, NOW + timedelta(seconds=1)) == []  # too soon
    assert refresh_progress(session, {notice.id}, NOW + PROGRESS_INTERVAL) == [notice.id]
    session.refresh(progress)
    assert progress.status is OutboxStatus.QUEUED
    assert refresh_progress(session, {notice.id}, NOW + PROGRESS_INTERVAL * 2) == []  # still waiting to go

    progress_sent(NOW + PROGRESS_INTERVAL * 2)
    for row in rows[1:]:
        row.status = OutboxStatus.SENT
        session.add(row)
    session.flush()
    at_the_end = NOW + PROGRESS_INTERVAL * 2 + timedelta(seconds=1)
    assert refresh_progress(session, {notice.id}, at_the_end) == [notice.id]  # the end does not wait
    assert notice.completed_at == at_the_end
    progress_sent(at_the_end)
    assert refresh_progress(session, {notice.id}, at_the_end + timedelta(minutes=1)) == []  # once


def test_the_report_follows_a_progress_message_that_was_on_its_way_at_the_end(
    session: Session, cadre: Member
) -> None:
    """A worker may render the progress message, then see the last pushes recorded by another batch."""
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    assert notice.id is not None
    progress = session.exec(select(Outbox).where(Outbox.key == progress_key(notice.id))).one()
    progress.status = OutboxStatus.SENDING  # rendered with the figures of that moment
    session.add(progress)
    for row in session.exec(select(Outbox).where(Outbox.topic == "notice")):
        row.status = OutboxStatus.SENT
        session.add(row)
    session.flush()
    at_the_end = NOW + timedelta(seconds=1)
    assert refresh_progress(session, {notice.id}, at_the_end) == []  # cannot re-arm what is on its way
    assert notice.completed_at is None

    progress.status, progress.sent_at = OutboxStatus.SENT, at_the_end  # the stale figures arrived
    session.add(progress)
    session.flush()
    assert refresh_progress(session, {notice.id}, at_the_end) == [notice.id]  # so the report follows
    session.refresh(progress)
    assert progress.status is OutboxStatus.QUEUED
    assert notice.completed_at == at_the_end


def test_the_notice_remembers_its_top_unit(session: Session, cadre: Member) -> None:
    target = Target(
        TargetKind.UNITS, (unit_id(session, "厂工会/一车间/乙班"), unit_id(session, "厂工会/一车间"))
    )
    notice = create_notice(session, actor=cadre, draft=draft(target), now=NOW)
    unit = session.get(Unit, notice.unit_id)
    assert unit is not None
    assert unit.name == "一车间"


def test_a_notice_to_an_activitys_sign_ups_reaches_exactly_them(session: Session, cadre: Member) -> None:
    draft_activity = ActivityDraft(
        title="职工篮球赛",
        description="三人制。",
        place="体育馆",
        starts_at=NOW + timedelta(days=5),
        signup_deadline=NOW + timedelta(days=3),
        capacity=None,
        unit_ids=(unit_id(session, "厂工会/一车间"),),
    )
    activity = create_activity(session, actor=cadre, draft=draft_activity, now=NOW)
    assert activity.id is not None
    target = Target(TargetKind.ACTIVITY, (), activity_id=activity.id)
    with pytest.raises(InvalidInput) as nobody:
        create_notice(session, actor=cadre, draft=draft(target), now=NOW)
    assert nobody.value.code == "notice.no_recipients"
    coming = [session.exec(select(Member).where(Member.employee_no == no)).one() for no in ("1001", "1002")]
    for member in coming:
        sign_up(session, actor=member, activity_id=activity.id, now=NOW)
    cancel_signup(session, actor=coming[1], activity_id=activity.id, now=NOW)
    notice = create_notice(session, actor=cadre, draft=draft(target), now=NOW)
    recipients = session.exec(
        select(NoticeRecipient.member_id).where(NoticeRecipient.notice_id == notice.id)
    ).all()
    assert list(recipients) == [coming[0].id]
    assert (notice.target_kind, notice.target_activity_id) == (TargetKind.ACTIVITY, activity.id)
    assert notice.target_unit_ids == [unit_id(session, "厂工会/一车间")]
    pushed = session.exec(select(Outbox.member_id).where(Outbox.topic == "notice")).all()
    assert list(pushed) == [coming[0].id]

    neighbour = make_member(session, employee_no="C2", roles=[(Role.CHAIR, "厂工会/二车间")])
    with pytest.raises(PermissionDenied) as refused:
        create_notice(session, actor=neighbour, draft=draft(target), now=NOW)
    assert refused.value.code == "activity.not_yours"


# -- who has not read it, and reminding them ---------------------------------------------------------


def _member(session: Session, employee_no: str) -> Member:
    return session.exec(select(Member).where(Member.employee_no == employee_no)).one()


def _all_sent(session: Session) -> None:
    """What the delivery worker leaves behind: every push of the notice sent."""
    for row in session.exec(select(Outbox).where(Outbox.topic == "notice")):
        row.status = OutboxStatus.SENT
        session.add(row)
    session.flush()


def test_the_unread_list_holds_only_the_notices_recipients_for_those_in_charge(
    session: Session, cadre: Member
) -> None:
    make_member(session, employee_no="1010", unit="厂工会/一车间/乙班")
    make_member(session, employee_no="999", unit="厂工会/一车间/乙班")
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    assert notice.id is not None
    mark_notice_read(session, member=_member(session, "1001"), notice_id=notice.id, now=NOW)
    page, total = unread_recipients(session, actor=cadre, notice_id=notice.id, limit=10)
    # 甲班 before 乙班, then 工号 as numbers: 999 before 1002 before 1010; 2001 of 二车间 is no recipient.
    assert [(r.employee_no, r.unit) for r in page] == [
        ("C1", "厂工会/一车间/甲班"),
        ("999", "厂工会/一车间/乙班"),
        ("1002", "厂工会/一车间/乙班"),
        ("1010", "厂工会/一车间/乙班"),
    ]
    assert total == 4
    assert unread_recipients(session, actor=cadre, notice_id=notice.id, offset=3, limit=2) == ([page[3]], 4)
    assert unread_recipients(session, actor=cadre, notice_id=notice.id, limit=0) == ([], 4)
    recipient, outcome = unread_recipient(
        session, actor=cadre, notice_id=notice.id, member_id=page[1].member_id
    )
    assert (recipient, outcome) == (page[1], Outcome.WAITING)
    with pytest.raises(NotFound):  # read it: not in the list
        unread_recipient(
            session, actor=cadre, notice_id=notice.id, member_id=_member(session, "1001").id or 0
        )
    with pytest.raises(NotFound):  # never a recipient
        unread_recipient(
            session, actor=cadre, notice_id=notice.id, member_id=_member(session, "2001").id or 0
        )
    neighbour = make_member(
        session, employee_no="C2", unit="厂工会/二车间", roles=[(Role.CHAIR, "厂工会/二车间")]
    )
    for call in (
        lambda: unread_recipients(session, actor=neighbour, notice_id=notice.id or 0),
        lambda: plan_reminder(session, actor=neighbour, notice_id=notice.id or 0, now=NOW, template_kinds=()),
        lambda: remind_unread(
            session, actor=neighbour, notice_id=notice.id or 0, round_=1, now=NOW, template_kinds=()
        ),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_a_reminder_round_goes_once_to_the_unread_still_on_the_roster(
    session: Session, cadre: Member
) -> None:
    bind(session, cadre)
    notice = create_notice(session, actor=cadre, draft=draft(everyone(session)), now=NOW)
    assert notice.id is not None
    mark_notice_read(session, member=_member(session, "1001"), notice_id=notice.id, now=NOW)
    gone = _member(session, "1002")
    gone.status = MemberStatus.LEFT
    session.add(gone)
    with pytest.raises(InvalidInput) as going:  # no reminder before the notice itself has reached them
        plan_reminder(session, actor=cadre, notice_id=notice.id, now=NOW, template_kinds=())
    assert going.value.code == "notice.still_going_out"
    _all_sent(session)
    plan = plan_reminder(session, actor=cadre, notice_id=notice.id, now=NOW, template_kinds=())
    assert (plan.round, plan.members, plan.unreachable) == (1, 1, 0)  # only C1: 1001 read it, 1002 left

    later = NOW + timedelta(hours=3)
    done = remind_unread(session, actor=cadre, notice_id=notice.id, round_=1, now=later, template_kinds=())
    assert (done.round, done.queued, done.unreachable, done.already) == (1, 1, 0, False)
    again = remind_unread(session, actor=cadre, notice_id=notice.id, round_=1, now=later, template_kinds=())
    assert (again.queued, again.already) == (1, True)
    [row] = session.exec(select(Outbox).where(Outbox.topic == "notice_reminder")).all()
    assert (row.key, row.kind, row.subject_id, row.member_id, row.due_at) == (
        reminder_key(notice.id, 1, cadre.id or 0),
        PushKind.NOTICE,
        notice.id,
        cadre.id,
        later,
    )
    _, report = notice_report(session, actor=cadre, notice_id=notice.id)
    assert (report.reminders, report.reminded_at) == (1, later)
    assert plan_reminder(session, actor=cadre, notice_id=notice.id, now=later, template_kinds=()).round == 2

    assert reminder_of(session, notice.id, cadre.id or 0) == notice
    mark_notice_read(session, member=cadre, notice_id=notice.id, now=later)
    assert reminder_of(session, notice.id, cadre.id or 0) is None  # read meanwhile: nothing to send
    with pytest.raises(InvalidInput) as all_read:
        plan_reminder(session, actor=cadre, notice_id=notice.id, now=later, template_kinds=())
    assert all_read.value.code == "notice.all_read"


def test_no_reminder_before_a_notice_goes_or_after_it_is_withdrawn(session: Session, cadre: Member) -> None:
    notice = create_notice(
        session, actor=cadre, draft=draft(everyone(session), send_at=NOW + timedelta(hours=1)), now=NOW
    )
    assert notice.id is not None
    with pytest.raises(InvalidInput) as early:
        plan_reminder(session, actor=cadre, notice_id=notice.id, now=NOW, template_kinds=())
    assert early.value.code == "notice.not_sent_yet"
    withdraw_notice(session, actor=cadre, notice_id=notice.id, now=NOW)
    with pytest.raises(InvalidInput) as withdrawn:
        remind_unread(
            session,
            actor=cadre,
            notice_id=notice.id,
            round_=1,
            now=NOW + timedelta(hours=2),
            template_kinds=(),
        )
    assert withdrawn.value.code == "notice.already_withdrawn"
    assert reminder_of(session, notice.id, cadre.id or 0) is None
