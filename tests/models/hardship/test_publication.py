"""公示: names masked as unions mask them, members told first, their wish to be left out honoured."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.errors import InvalidInput, PermissionDenied
from models.hardship.cases import CaseStatus, HardshipCase, HardshipCategory, HardshipDisbursement
from models.hardship.policy import HardshipPolicy
from models.hardship.publication import (
    NOTICE_CATEGORY,
    NOTICE_TOPIC,
    NoticeText,
    PublicationStatus,
    announce_publication,
    mask_name,
    my_publications,
    preview_publication,
    publication_state,
    publish_publication,
    withhold_entries,
)
from models.members import Member
from models.notices import Notice
from models.outbox import Outbox
from models.periods import parse_period
from models.roles import Role
from tests.factories import make_member

NOW = datetime(2027, 2, 3, 2, tzinfo=UTC)
POLICY = HardshipPolicy()
JANUARY = parse_period("2027-01")


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三明", "张*明"),
        ("张小三明", "张**明"),
        ("欧阳明", "欧阳*"),
        ("欧阳小明", "欧阳*明"),
        ("司马相如", "司马*如"),
        ("歐陽小明", "歐陽*明"),
        ("欧阳", "欧*"),  # a compound surname alone is read as a two-character name
        (" 王五 ", "王*"),
        ("林", "*"),
        ("", "*"),
    ],
)
def test_names_are_masked_as_a_publication_shows_them(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def _helped(
    session: Session, member: Member, category: HardshipCategory, fen: int, day: date, by: Member
) -> None:
    case = HardshipCase(
        member_id=member.id,
        unit_id=member.unit_id,
        category=category,
        status=CaseStatus.HELPED,
        consent_at=NOW,
        submitted_at=NOW - timedelta(days=60),
        contact_due_on=day,
        visit_due_on=day,
    )
    session.add(case)
    session.flush()
    session.add(
        HardshipDisbursement(
            member_id=member.id or 0,
            case_id=case.id,
            given_on=day,
            amount_fen=fen,
            fund="工会经费",
            handled_by_id=by.id or 0,
        )
    )
    session.flush()


def _union(session: Session) -> tuple[Member, Member, Member, Member]:
    admin = make_member(
        session, employee_no="9000", name="管理员", unit="厂工会", roles=[(Role.ADMIN, "厂工会")]
    )
    zhang = make_member(session, employee_no="1001", name="张三明", unit="厂工会/一车间")
    ouyang = make_member(session, employee_no="1002", name="欧阳小明", unit="厂工会/二车间")
    li = make_member(session, employee_no="1003", name="李四", unit="厂工会/二车间")
    _helped(session, zhang, HardshipCategory.ILLNESS, 2000_00, date(2027, 1, 5), admin)
    _helped(session, ouyang, HardshipCategory.SCHOOLING, 1500_00, date(2027, 1, 20), admin)
    _helped(session, li, HardshipCategory.DISASTER, 800_00, date(2027, 1, 31), admin)
    _helped(
        session, li, HardshipCategory.DISASTER, 300_00, date(2027, 2, 1), admin
    )  # February: not in January's
    return admin, zhang, ouyang, li


def _texts(state_lines: int) -> list[NoticeText]:
    return [NoticeText(title="2027年1月帮扶资金发放公示", body=f"共 {state_lines} 条")]


def test_announce_tells_each_member_then_publishes_without_those_who_asked_to_be_left_out(
    session: Session,
) -> None:
    admin, zhang, ouyang, li = _union(session)
    preview = preview_publication(session, actor=admin, period=JANUARY, policy=POLICY)
    assert [(line.masked_name, line.label, line.amount_fen) for line in preview.lines] == [
        ("张*明", "illness", 2000_00),
        ("李*", "disaster", 800_00),
        ("欧阳*明", "schooling", 1500_00),
    ]
    assert preview.total_fen == 4300_00

    publication = announce_publication(session, actor=admin, period=JANUARY, now=NOW, policy=POLICY)
    pushes = session.exec(
        select(Outbox).where(Outbox.topic == NOTICE_TOPIC).order_by(col(Outbox.member_id))
    ).all()
    assert [push.member_id for push in pushes] == [zhang.id, ouyang.id, li.id]
    assert all(push.params == {} for push in pushes)  # nothing of the amount or category in the push

    [mine] = my_publications(session, actor=ouyang)
    assert [(entry.masked_name, entry.amount_fen) for entry in mine.entries] == [("欧阳*明", 1500_00)]
    assert (
        withhold_entries(session, actor=ouyang, publication_id=publication.id or 0, now=NOW, policy=POLICY)
        == 1
    )
    assert my_publications(session, actor=ouyang)[0].withheld

    with pytest.raises(InvalidInput) as early:
        publish_publication(
            session, actor=admin, publication_id=publication.id or 0, texts=_texts(2), now=NOW, policy=POLICY
        )
    assert early.value.code == "publication.too_early"

    later = NOW + timedelta(days=3)
    state = publication_state(session, actor=admin, publication_id=publication.id or 0, policy=POLICY)
    assert [(line.masked_name, line.unit_name) for line in state.lines] == [
        ("张*明", "一车间"),
        ("李*", "二车间"),
    ]
    assert (state.withheld, state.members, state.total_fen) == (1, 3, 2800_00)
    published = publish_publication(
        session, actor=admin, publication_id=publication.id or 0, texts=_texts(2), now=later, policy=POLICY
    )
    assert published.status is PublicationStatus.PUBLISHED
    [notice] = session.exec(select(Notice)).all()
    assert notice.id in published.notice_ids
    assert notice.category is NOTICE_CATEGORY
    with pytest.raises(InvalidInput):
        withhold_entries(session, actor=li, publication_id=publication.id or 0, now=later, policy=POLICY)
    with pytest.raises(InvalidInput) as again:
        announce_publication(session, actor=admin, period=JANUARY, now=later, policy=POLICY)
    assert again.value.code == "publication.exists"


def test_when_the_union_does_not_allow_withholding_every_line_is_published(session: Session) -> None:
    admin, _zhang, ouyang, _li = _union(session)
    strict = replace(POLICY, publication_may_withhold=False)
    publication = announce_publication(session, actor=admin, period=JANUARY, now=NOW, policy=strict)
    with pytest.raises(PermissionDenied):
        withhold_entries(session, actor=ouyang, publication_id=publication.id or 0, now=NOW, policy=strict)
    state = publication_state(session, actor=admin, publication_id=publication.id or 0, policy=strict)
    assert len(state.lines) == 3


def test_only_an_admin_announces_and_only_a_finished_period(session: Session) -> None:
    admin, zhang, _ouyang, _li = _union(session)
    with pytest.raises(PermissionDenied):
        preview_publication(session, actor=zhang, period=JANUARY, policy=POLICY)
    with pytest.raises(InvalidInput) as open_period:
        announce_publication(session, actor=admin, period=parse_period("2027-02"), now=NOW, policy=POLICY)
    assert open_period.value.code == "publication.period_open"
    with pytest.raises(InvalidInput) as empty:
        announce_publication(session, actor=admin, period=parse_period("2026-12"), now=NOW, policy=POLICY)
    assert empty.value.code == "publication.empty"
