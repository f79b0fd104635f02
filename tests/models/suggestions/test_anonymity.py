"""An anonymous suggestion is placed no closer than a crowd: in views, the register and the figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from models.members import Member, MemberStatus
from models.periods import Period, PeriodKind
from models.roles import Role
from models.suggestions import (
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    cadre_view,
    submit_suggestion,
)
from models.suggestions.anonymity import anonymous_units, shown_unit
from models.suggestions.figures import period_suggestions, unit_figures
from models.units import find_unit, unit_path
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
POLICY = SuggestionPolicy()  # at least 20 members


@dataclass
class Union:
    """厂工会 (26 active members): 一车间 (22: its chair, 甲班 of 16, 乙班 of 5), 二车间 (3)."""

    chair: Member
    proposer: Member  # in 乙班, a team of five
    team: list[Member]
    crew: list[Member]  # 甲班


@pytest.fixture
def union(session: Session) -> Union:
    chair = make_member(
        session, employee_no="C1", name="王主席", unit="厂工会/一车间", roles=[(Role.CHAIR, "厂工会/一车间")]
    )
    make_member(session, employee_no="A1", name="厂管理", unit="厂工会", roles=[(Role.ADMIN, "厂工会")])
    team = [
        make_member(session, employee_no=f"22{n:02d}", name=f"乙班{n}", unit="厂工会/一车间/乙班")
        for n in range(5)
    ]
    crew = [
        make_member(session, employee_no=f"21{n:02d}", name=f"甲班{n}", unit="厂工会/一车间/甲班")
        for n in range(16)
    ]
    for n in range(3):
        make_member(session, employee_no=f"31{n:02d}", name=f"二车间{n}", unit="厂工会/二车间")
    return Union(chair=chair, proposer=team[0], team=team, crew=crew)


def submit(
    session: Session, member: Member, *, anonymous: bool, title: str = "夜班增加热饭窗口"
) -> Suggestion:
    draft = SuggestionDraft(
        category="生活福利", title=title, measure="夜班职工吃不上热饭。", anonymous=anonymous
    )
    return submit_suggestion(session, actor=member, draft=draft, policy=POLICY, now=NOW)


def test_an_anonymous_suggestion_of_a_team_of_five_is_shown_under_its_workshop(
    session: Session, union: Union
) -> None:
    hidden = submit(session, union.proposer, anonymous=True)
    named = submit(session, union.team[1], anonymous=False, title="更衣室加装换气扇")
    assert unit_path(session, shown_unit(session, hidden, POLICY)) == "厂工会/一车间"
    assert unit_path(session, shown_unit(session, named, POLICY)) == "厂工会/一车间/乙班"
    view = cadre_view(session, actor=union.chair, suggestion_id=hidden.id or 0, policy=POLICY)
    assert (view.proposer, unit_path(session, view.unit)) == (None, "厂工会/一车间")
    view = cadre_view(session, actor=union.chair, suggestion_id=named.id or 0, policy=POLICY)
    assert unit_path(session, view.unit) == "厂工会/一车间/乙班"


@pytest.mark.parametrize(
    ("least", "shown"),
    [
        (1, "厂工会/一车间/乙班"),
        (5, "厂工会/一车间/乙班"),
        (6, "厂工会/一车间"),
        (22, "厂工会/一车间"),
        (23, "厂工会"),
    ],
)
def test_the_least_number_of_members_is_the_unions_to_set(
    session: Session, union: Union, least: int, shown: str
) -> None:
    team = find_unit(session, "厂工会/一车间/乙班")
    [unit] = anonymous_units(session, [team.id or 0], min_members=least).values()
    assert unit_path(session, unit) == shown


def test_no_unit_large_enough_means_the_union_itself(session: Session, union: Union) -> None:
    team = find_unit(session, "厂工会/一车间/乙班")
    [unit] = anonymous_units(session, [team.id or 0], min_members=1000).values()
    assert unit_path(session, unit) == "厂工会"


def test_only_active_members_count(session: Session, union: Union) -> None:
    for member in union.crew[:3]:
        member.status = MemberStatus.LEFT  # 一车间 is down to 19 now
    session.flush()
    hidden = submit(session, union.proposer, anonymous=True)
    assert unit_path(session, shown_unit(session, hidden, POLICY)) == "厂工会"


def test_the_register_and_the_figures_place_it_as_the_view_does(session: Session, union: Union) -> None:
    hidden = submit(session, union.proposer, anonymous=True)
    submit(session, union.team[1], anonymous=False, title="更衣室加装换气扇")
    quarter = Period(2026, PeriodKind.QUARTER, 4)
    lines = period_suggestions(session, actor=union.chair, unit_id=None, period=quarter, policy=POLICY)
    assert [(line.number, line.unit_path, line.proposer) for line in lines] == [
        (hidden.number, "厂工会/一车间", None),
        (lines[1].number, "厂工会/一车间/乙班", "乙班1"),
    ]

    def submitted(actor: Member) -> dict[str, int]:
        rows = unit_figures(
            session, actor=actor, unit_id=None, period=quarter, today=date(2026, 11, 23), policy=POLICY
        )
        return {f"{row.kind.value}:{row.name}": row.submitted for row in rows}

    # The workshop's chair: 乙班 shows only its named suggestion; the anonymous one counts as 一车间's own.
    assert submitted(union.chair) == {"child:甲班": 0, "child:乙班": 1, "own:一车间": 1, "total:一车间": 2}
    # At the top, 一车间's row holds both: a row no smaller than the crowd.
    admin = session.exec(select(Member).where(Member.employee_no == "A1")).one()
    assert submitted(admin) == {"child:一车间": 2, "child:二车间": 0, "own:厂工会": 0, "total:厂工会": 2}


def test_a_small_union_counts_it_for_the_unit_whose_figures_are_asked(session: Session) -> None:
    chair = make_member(
        session, employee_no="C1", unit="厂工会/一车间", roles=[(Role.CHAIR, "厂工会/一车间")]
    )
    proposer = make_member(session, employee_no="1001", unit="厂工会/一车间/乙班")
    submit(session, proposer, anonymous=True)
    rows = unit_figures(
        session,
        actor=chair,
        unit_id=None,
        period=Period(2026, PeriodKind.QUARTER, 4),
        today=date(2026, 11, 23),
        policy=POLICY,
    )
    # Shown under 厂工会, above the chair's 一车间: it counts as 一车间's own, never as 乙班's.
    assert [(row.kind.value, row.name, row.submitted) for row in rows] == [
        ("child", "乙班", 0),
        ("own", "一车间", 1),
        ("total", "一车间", 1),
    ]
