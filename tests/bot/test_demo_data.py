"""The demo union of ``make demo``: loaded once, with the people the demo banner names."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import Session, col, select

from bot.demo_data import (
    DEMO_ADMIN_NO,
    DEMO_CADRE_NO,
    DEMO_MEMBER_NO,
    demo_phone_last4,
    demo_roster,
    seed_demo,
)
from handlers.core.context import CoreConfig
from handlers.core.module import Module
from handlers.modules import registry
from models.activities import open_activities_for, signup_counts
from models.base import utcnow
from models.db import SessionFactory
from models.members import Member, get_member_by_employee_no
from models.notices import NoticeCategory, category_counts
from models.roles import Permission, Role, RoleGrant, has_permission, is_cadre
from models.roster import validate_rows
from models.suggestions import Award, Suggestion, SuggestionPolicy, SuggestionStatus, review_queue
from models.units import Unit, find_unit, unit_path


def test_seeding_twice_loads_the_demo_once(db: SessionFactory) -> None:
    assert seed_demo(db) is True
    assert seed_demo(db) is False
    with db() as session:
        members = session.exec(select(Member)).all()
        units = session.exec(select(Unit)).all()
    assert 35 <= len(members) <= 45
    assert len({member.employee_no for member in members}) == len(members)
    assert [unit.name for unit in units if unit.parent_id is None] == ["厂工会"]
    assert len(units) == 1 + 3 + 7


def test_one_admin_two_cadres_and_a_workers_representative(db: SessionFactory) -> None:
    seed_demo(db)
    with db() as session:
        held = set()
        for grant in session.exec(select(RoleGrant)).all():
            holder = session.get(Member, grant.member_id)
            unit = session.get(Unit, grant.unit_id)
            assert holder is not None
            assert unit is not None
            held.add((holder.employee_no, grant.role, unit_path(session, unit)))
        assert held == {
            (DEMO_ADMIN_NO, Role.ADMIN, "厂工会"),
            (DEMO_CADRE_NO, Role.CHAIR, "厂工会/一车间"),
            ("4001", Role.COMMITTEE, "厂工会/运输大队"),
            ("3101", Role.REPRESENTATIVE, "厂工会/二车间/甲班"),
        }

        admin = get_member_by_employee_no(session, DEMO_ADMIN_NO)
        chair = get_member_by_employee_no(session, DEMO_CADRE_NO)
        assert has_permission(
            session, admin, Permission.ADMINISTER, find_unit(session, "厂工会/运输大队/二班")
        )
        assert has_permission(
            session, chair, Permission.REVIEW_SUGGESTIONS, find_unit(session, "厂工会/一车间/甲班")
        )
        assert not has_permission(
            session, chair, Permission.REVIEW_SUGGESTIONS, find_unit(session, "厂工会/二车间")
        )


def test_the_demo_member_can_bind_with_the_last_four_digits(db: SessionFactory) -> None:
    seed_demo(db)
    with db() as session:
        member = session.exec(select(Member).where(Member.employee_no == DEMO_MEMBER_NO)).one()
        assert member.is_active
        assert not is_cadre(session, member)
        assert member.phone is not None
        assert member.phone.endswith(demo_phone_last4())
    assert len(demo_phone_last4()) == 4


def test_the_demo_roster_is_a_valid_roster_with_distinct_phones_and_sensible_dues() -> None:
    entries, problems = validate_rows(demo_roster())
    assert problems == []
    phones = [entry.phone for entry in entries]
    assert len(set(phones)) == len(phones)
    assert all(1500 <= (entry.monthly_dues_fen or 0) <= 4500 for entry in entries)


def test_the_demo_member_has_notices_to_read(db: SessionFactory) -> None:
    seed_demo(db)
    with db() as session:
        member = get_member_by_employee_no(session, DEMO_MEMBER_NO)
        counts = category_counts(session, member=member, now=utcnow())
        outsider = get_member_by_employee_no(session, "3101")
        assert category_counts(session, member=outsider, now=utcnow()) == {}
    assert counts == {NoticeCategory.NOTICE: 1, NoticeCategory.FACTORY_AFFAIRS: 1}


def test_the_chair_has_set_out_an_activity_the_demo_member_can_sign_up_for(db: SessionFactory) -> None:
    seed_demo(db)
    with db() as session:
        member = get_member_by_employee_no(session, DEMO_MEMBER_NO)
        [activity], _ = open_activities_for(session, member=member, now=utcnow())
        assert activity.title == "一车间职工篮球赛"
        assert activity.id is not None
        assert signup_counts(session, [activity.id]) == {activity.id: 2}
        transport = get_member_by_employee_no(session, "4101")
        assert open_activities_for(session, member=transport, now=utcnow()) == ([], 0)


def test_the_demo_has_suggestions_at_every_stage_for_the_chair_to_work(db: SessionFactory) -> None:
    seed_demo(db)
    with db() as session:
        suggestions = session.exec(select(Suggestion).order_by(col(Suggestion.id))).all()
        assert [s.status for s in suggestions] == [
            SuggestionStatus.SUBMITTED,
            SuggestionStatus.SUBMITTED,
            SuggestionStatus.IMPLEMENTED,
            SuggestionStatus.FIRST_REVIEWED,
        ]
        assert suggestions[1].anonymous
        assert suggestions[2].award is Award.GOLD
        assert suggestions[2].reply
        chair = session.exec(select(Member).where(Member.employee_no == DEMO_CADRE_NO)).one()
        total, queue = review_queue(session, actor=chair, today=utcnow().date())
        # The one handed in twelve days ago is late for registration and comes first.
        assert total == 4
        assert queue[0].title == "叉车通道转弯处加装凸面镜"


def test_each_module_adds_its_examples_after_the_people_in_registry_order(db: SessionFactory) -> None:
    seen: list[tuple[int, int, CoreConfig]] = []

    def count_what_is_there(session: Session, config: CoreConfig, now: datetime) -> None:
        members = len(session.exec(select(Member)).all())
        seen.append((members, len(session.exec(select(Suggestion)).all()), config))

    config = CoreConfig(default_locale="en")
    with_extra = registry(Module(name="extra", demo=count_what_is_there))
    assert seed_demo(db, config, with_extra) is True
    assert seed_demo(db, config, with_extra) is False
    assert seen == [(len(demo_roster()), 4, config)]


def test_a_module_whose_examples_fail_leaves_no_half_demo(db: SessionFactory) -> None:
    def broken(session: Session, config: CoreConfig, now: datetime) -> None:
        raise RuntimeError("a bug in the examples")

    with pytest.raises(RuntimeError, match="a bug in the examples"):
        seed_demo(db, registry=registry(Module(name="broken", demo=broken)))
    with db() as session:
        assert session.exec(select(Member)).all() == []
    assert seed_demo(db) is True


def test_the_examples_follow_the_unions_own_suggestion_categories(db: SessionFactory) -> None:
    policy = SuggestionPolicy(categories=("生产技术", "其他"))
    seed_demo(db, CoreConfig(policies={SuggestionPolicy: policy}))
    with db() as session:
        filed = [s.category for s in session.exec(select(Suggestion).order_by(col(Suggestion.id))).all()]
    assert filed == ["其他", "其他", "其他", "生产技术"]
