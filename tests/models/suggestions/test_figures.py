"""Suggestion figures per unit and period, checked against a union whose answers were worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from models.errors import InvalidInput, NotFound, PermissionDenied
from models.members import Member, MemberStatus
from models.periods import Period, PeriodKind, parse_period
from models.roles import Role
from models.suggestions import (
    Award,
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    SuggestionStatus,
    decide_suggestion,
    first_review,
    record_effect,
    register_suggestion,
    reply_to_proposer,
    start_implementation,
    submit_suggestion,
)
from models.suggestions.figures import (
    RowKind,
    System,
    UnitFigures,
    period_suggestions,
    top_proposers,
    unit_figures,
    wan_yuan,
)
from models.units import find_unit
from tests.factories import make_member

# This union is eight members: at the default, every anonymous suggestion would be shown under 厂工会
# itself. Here it stays in its 班组, so the hand-computed table keeps one figure per unit; the default
# is tested on a union large enough for it (test_anonymous_suggestions_count_for_a_crowd_not_a_team).
POLICY = SuggestionPolicy(anonymity_min_members=1)
Q4 = Period(2026, PeriodKind.QUARTER, 4)
TODAY = date(2026, 11, 23)
HOSTILE_TITLE = "=1+1<b>余热</b>回收🌟"


def at(text: str) -> datetime:
    """A UTC instant: "2026-10-10 02:00" is 10:00 the same day in Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Union:
    admin: Member
    chair: Member
    members: dict[str, Member]


def put(session: Session, proposer: Member, number: int, **fields: Any) -> Suggestion:
    assert proposer.id is not None
    suggestion = Suggestion(
        number=f"JY-2026-{number:06d}",
        proposer_id=proposer.id,
        unit_id=proposer.unit_id,
        category="节能降耗",
        title=fields.pop("title", f"建议{number}"),
        measure="措施",
        **fields,
    )
    session.add(suggestion)
    session.flush()
    return suggestion


def build_union(session: Session) -> Union:
    """厂工会 → 一车间 (甲班, 乙班), 二车间, 三车间, with ten suggestions around 2026Q4.

    Hand-computed for 2026Q4 as of 2026-11-23 (see the tests below):
    一车间 submitted 4 (members 4), adopted 3, implemented 2 worth 15,500 yuan, answers 4 and 7 days,
    overdue 2; 二车间 submitted 2 (members 3), answer 10 days, overdue 1; 三车间 nothing;
    厂工会本级 submitted 1 (members 1), overdue 1.
    """
    admin = make_member(
        session, employee_no="A1", name="王管理", unit="厂工会", roles=[(Role.ADMIN, "厂工会")]
    )
    chair = make_member(
        session, employee_no="C1", name="李主席", unit="厂工会/一车间", roles=[(Role.CHAIR, "厂工会/一车间")]
    )
    m = {
        "1001": make_member(session, employee_no="1001", name="张<b>三</b>", unit="厂工会/一车间/甲班"),
        "1002": make_member(session, employee_no="1002", name="李四", unit="厂工会/一车间/甲班"),
        "1003": make_member(session, employee_no="1003", name="王五", unit="厂工会/一车间/甲班"),
        "1004": make_member(session, employee_no="1004", name="赵六", unit="厂工会/一车间/乙班"),
        "2001": make_member(session, employee_no="2001", name="钱七", unit="厂工会/二车间"),
        "2002": make_member(session, employee_no="2002", name="孙八", unit="厂工会/二车间"),
        "2003": make_member(session, employee_no="2003", name="周九", unit="厂工会/二车间"),
    }
    make_member(session, employee_no="3001", name="吴十", unit="厂工会/三车间").status = MemberStatus.LEFT
    m["1003"].status = MemberStatus.LEFT  # left since; what they handed in still counts
    implemented = SuggestionStatus.IMPLEMENTED
    put(
        session,
        m["1001"],
        1,
        title=HOSTILE_TITLE,
        submitted_at=at("2026-10-10 02:00"),
        adopted=True,
        decided_at=at("2026-10-20 02:00"),
        answered_at=at("2026-10-14 02:00"),
        implemented_on=date(2026, 11, 5),
        value_fen=1_250_000,
        award=Award.GOLD,
        prize_fen=50_000,
        status=implemented,
    )
    put(  # anonymous: counts for 甲班, never in the ranking
        session,
        m["1001"],
        2,
        anonymous=True,
        submitted_at=at("2026-11-02 02:00"),
        adopted=True,
        decided_at=at("2026-11-10 02:00"),
        answered_at=at("2026-11-09 02:00"),
        status=SuggestionStatus.ADOPTED,
        due_on=date(2026, 11, 20),
    )
    put(  # 23:00 on 30 September in Shanghai: the quarter before; decided in Q4
        session,
        m["1002"],
        3,
        submitted_at=at("2026-09-30 15:00"),
        adopted=True,
        decided_at=at("2026-10-08 02:00"),
        answered_at=at("2026-10-03 02:00"),
        status=SuggestionStatus.ADOPTED,
        due_on=date(2026, 12, 10),
    )
    put(  # 23:59 on 31 December in Shanghai: still Q4
        session,
        m["1004"],
        4,
        submitted_at=at("2026-12-31 15:59"),
        status=SuggestionStatus.SUBMITTED,
        due_on=date(2027, 1, 6),
    )
    put(  # merged into another: not a submission of its own
        session,
        m["1004"],
        5,
        submitted_at=at("2026-10-05 02:00"),
        answered_at=at("2026-10-06 02:00"),
        status=SuggestionStatus.MERGED,
    )
    put(
        session,
        m["2001"],
        6,
        submitted_at=at("2026-10-15 01:00"),
        adopted=False,
        decided_at=at("2026-10-25 02:00"),
        answered_at=at("2026-10-25 02:00"),
        status=SuggestionStatus.CLOSED,
    )
    put(
        session,
        m["2001"],
        7,
        submitted_at=at("2026-11-20 02:00"),
        status=SuggestionStatus.REGISTERED,
        due_on=date(2026, 11, 22),
    )
    put(  # midnight of 1 October in Shanghai: the first instant of Q4
        session,
        admin,
        8,
        submitted_at=at("2026-09-30 16:00"),
        status=SuggestionStatus.SUBMITTED,
        due_on=date(2026, 10, 9),
    )
    put(  # handed in and decided earlier; implemented on the first day of Q4
        session,
        m["1002"],
        9,
        submitted_at=at("2026-06-01 02:00"),
        adopted=True,
        decided_at=at("2026-07-01 02:00"),
        answered_at=at("2026-07-01 02:00"),
        implemented_on=date(2026, 10, 1),
        value_fen=300_000,
        status=implemented,
    )
    put(
        session,
        m["1003"],
        10,
        submitted_at=at("2026-10-12 02:00"),
        status=SuggestionStatus.SUBMITTED,
        due_on=date(2026, 10, 15),
    )
    session.flush()
    return Union(admin=admin, chair=chair, members=m)


def figures(
    session: Session, actor: Member | System, unit: str | None = None, **kw: Any
) -> list[UnitFigures]:
    unit_id = find_unit(session, unit).id if unit else None
    return unit_figures(
        session,
        actor=actor,
        unit_id=unit_id,
        period=kw.get("period", Q4),
        today=kw.get("today", TODAY),
        policy=POLICY,
    )


def as_tuple(row: UnitFigures) -> tuple[Any, ...]:
    return (
        row.name,
        row.submitted,
        row.members,
        row.per_100_members,
        row.adopted,
        row.adoption_rate,
        row.implemented,
        row.value_fen,
        row.average_answer_days,
        row.overdue,
    )


D = Decimal


def test_the_union_table_matches_the_hand_computed_answers(session: Session) -> None:
    union = build_union(session)
    rows = figures(session, union.admin)
    assert [row.kind for row in rows] == [RowKind.CHILD] * 3 + [RowKind.OWN, RowKind.TOTAL]
    assert [as_tuple(row) for row in rows] == [
        ("一车间", 4, 4, D("100.0"), 3, D("0.750"), 2, 1_550_000, D("5.5"), 2),
        ("二车间", 2, 3, D("66.7"), 0, D("0.000"), 0, 0, D("10.0"), 1),
        ("三车间", 0, 0, None, 0, None, 0, 0, None, 0),
        ("厂工会", 1, 1, D("100.0"), 0, D("0.000"), 0, 0, None, 1),
        ("厂工会", 7, 8, D("87.5"), 3, D("0.429"), 2, 1_550_000, D("7.0"), 4),
    ]
    assert wan_yuan(rows[-1].value_fen) == D("1.55")


def test_the_command_line_sees_the_whole_union(session: Session) -> None:
    union = build_union(session)
    assert [as_tuple(r) for r in figures(session, System.COMMAND_LINE)] == [
        as_tuple(r) for r in figures(session, union.admin)
    ]


def test_a_workshop_chair_sees_their_teams(session: Session) -> None:
    union = build_union(session)
    rows = figures(session, union.chair)
    assert [as_tuple(row) for row in rows] == [
        ("甲班", 3, 2, D("150.0"), 3, D("1.000"), 2, 1_550_000, D("5.5"), 2),
        ("乙班", 1, 1, D("100.0"), 0, D("0.000"), 0, 0, None, 0),
        ("一车间", 0, 1, D("0.0"), 0, None, 0, 0, None, 0),
        ("一车间", 4, 4, D("100.0"), 3, D("0.750"), 2, 1_550_000, D("5.5"), 2),
    ]


def test_a_month_counts_only_its_own_days(session: Session) -> None:
    union = build_union(session)
    total = figures(session, union.admin, period=Period(2026, PeriodKind.MONTH, 11))[-1]
    # Submitted in November: 2 and 7; adopted: 2; implemented: 1.
    assert as_tuple(total) == ("厂工会", 2, 8, D("25.0"), 1, D("0.500"), 1, 1_250_000, D("7.0"), 4)


def test_overdue_is_as_of_today_whatever_the_period(session: Session) -> None:
    union = build_union(session)
    assert figures(session, union.admin, period=Period(2025, PeriodKind.YEAR))[-1].overdue == 4
    # On 21 November the one due on the 22nd is not late yet; the one due on the 20th is.
    assert figures(session, union.admin, today=date(2026, 11, 21))[-1].overdue == 3


def test_a_cadre_cannot_see_figures_outside_their_subtree(session: Session) -> None:
    union = build_union(session)
    with pytest.raises(PermissionDenied) as raised:
        figures(session, union.chair, "厂工会/二车间")
    assert raised.value.code == "suggestion.figures_out_of_scope"
    with pytest.raises(PermissionDenied):
        figures(session, union.chair, "厂工会")
    with pytest.raises(PermissionDenied):
        top_proposers(
            session, actor=union.chair, unit_id=find_unit(session, "厂工会").id, period=Q4, policy=POLICY
        )


def test_a_member_who_reviews_nothing_sees_no_figures(session: Session) -> None:
    union = build_union(session)
    with pytest.raises(PermissionDenied) as raised:
        figures(session, union.members["1001"])
    assert raised.value.code == "suggestion.not_reviewer"


def test_an_unknown_unit_is_named(session: Session) -> None:
    union = build_union(session)
    with pytest.raises(NotFound):
        unit_figures(session, actor=union.admin, unit_id=999_999, period=Q4, today=TODAY, policy=POLICY)


def test_the_ranking_leaves_anonymous_suggestions_out(session: Session) -> None:
    union = build_union(session)
    ranking = top_proposers(session, actor=union.admin, unit_id=None, period=Q4, policy=POLICY)
    assert [(p.rank, p.employee_no, p.submitted, p.adopted, p.implemented, p.value_fen) for p in ranking] == [
        (1, "2001", 2, 0, 0, 0),
        # 1001 also handed in an anonymous one, adopted: it counts for 甲班 above, not here.
        (2, "1001", 1, 1, 1, 1_250_000),
        (3, "1003", 1, 0, 0, 0),
        (4, "1004", 1, 0, 0, 0),
        (5, "A1", 1, 0, 0, 0),
        (6, "1002", 0, 1, 1, 300_000),
    ]
    assert ranking[1].name == "张<b>三</b>"
    assert ranking[1].unit_path == "厂工会/一车间/甲班"


def test_the_ranking_with_only_an_anonymous_suggestion_is_empty(session: Session) -> None:
    admin = make_member(session, employee_no="A1", unit="厂工会", roles=[(Role.ADMIN, "厂工会")])
    member = make_member(session, employee_no="1001", unit="厂工会/一车间")
    put(session, member, 1, anonymous=True, submitted_at=at("2026-10-10 02:00"))
    assert top_proposers(session, actor=admin, unit_id=None, period=Q4, policy=POLICY) == []
    assert figures(session, admin)[-1].submitted == 1


def test_the_register_lists_the_period_with_anonymous_proposers_hidden(session: Session) -> None:
    union = build_union(session)
    lines = period_suggestions(session, actor=union.admin, unit_id=None, period=Q4, policy=POLICY)
    assert [line.number[-2:] for line in lines] == ["01", "02", "04", "05", "06", "07", "08", "10"]
    anonymous = lines[1]
    assert (anonymous.proposer, anonymous.employee_no) == (None, None)
    assert (lines[0].proposer, lines[0].employee_no, lines[0].unit_path) == (
        "张<b>三</b>",
        "1001",
        "厂工会/一车间/甲班",
    )
    assert lines[0].submitted_on == date(2026, 10, 10)
    assert lines[5].submitted_on == date(2026, 11, 20)
    assert lines[2].submitted_on == date(2026, 12, 31)  # 15:59 UTC is 23:59 in Shanghai


def test_figures_follow_the_real_lifecycle(session: Session) -> None:
    """The figures read the fields the domain actions set, not only rows built by hand."""
    admin = make_member(session, employee_no="A1", unit="厂工会", roles=[(Role.ADMIN, "厂工会")])
    member = make_member(session, employee_no="1001", unit="厂工会/一车间")
    draft = SuggestionDraft(category="节能降耗", title="余热回收", measure="把空压机余热用于浴室")
    now = at("2026-10-12 02:00")
    suggestion = submit_suggestion(session, actor=member, draft=draft, policy=POLICY, now=now)
    assert suggestion.id is not None
    steps: list[Any] = [
        lambda v, t: register_suggestion(
            session,
            actor=admin,
            suggestion_id=suggestion.id,
            expected_version=v,
            category="节能降耗",
            department="设备科",
            reviewer_id=None,
            policy=POLICY,
            now=t,
        ),
        lambda v, t: first_review(
            session, actor=admin, suggestion_id=suggestion.id, expected_version=v, opinion="可行", now=t
        ),
        lambda v, t: decide_suggestion(
            session,
            actor=admin,
            suggestion_id=suggestion.id,
            expected_version=v,
            adopted=True,
            reason="节约蒸汽",
            policy=POLICY,
            now=t,
        ),
        lambda v, t: reply_to_proposer(
            session, actor=admin, suggestion_id=suggestion.id, expected_version=v, text="已采纳", now=t
        ),
        lambda v, t: start_implementation(
            session,
            actor=admin,
            suggestion_id=suggestion.id,
            expected_version=v,
            started_on=date(2026, 10, 20),
            notes="开工",
            policy=POLICY,
            now=t,
        ),
        lambda v, t: record_effect(
            session,
            actor=admin,
            suggestion_id=suggestion.id,
            expected_version=v,
            value_fen=88_800,
            implemented_on=date(2026, 11, 2),
            notes="每月省汽",
            policy=POLICY,
            now=t,
        ),
    ]
    moments = ["2026-10-13", "2026-10-14", "2026-10-15", "2026-10-15", "2026-10-20", "2026-11-03"]
    for step, day in zip(steps, moments, strict=True):
        step(suggestion.version, at(f"{day} 03:00"))
    total = figures(session, admin)[-1]
    assert as_tuple(total) == ("厂工会", 1, 2, D("50.0"), 1, D("1.000"), 1, 88_800, D("3.0"), 0)


# ----------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2026Q4", "2026Q4"),
        ("2026 Q4", "2026Q4"),
        ("2026q4", "2026Q4"),
        ("2026-Q1", "2026Q1"),
        ("２０２６Ｑ３", "2026Q3"),
        ("2026年第四季度", "2026Q4"),
        ("2026年第4季度", "2026Q4"),
        ("2026年二季度", "2026Q2"),
        ("2026-11", "2026-11"),
        ("2026-3", "2026-03"),
        ("2026年11月", "2026-11"),
        ("2026年十一月", "2026-11"),
        ("2026/07", "2026-07"),
        ("2026", "2026"),
        ("2026年", "2026"),
        ("2026年度", "2026"),
    ],
)
def test_periods_are_read_forgivingly(text: str, key: str) -> None:
    assert parse_period(text).key == key


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2026Q5", "period.quarter"),
        ("2026年第五季度", "period.quarter"),
        ("2026-13", "period.month"),
        ("2026-0", "period.month"),
        ("上个月", "period.unknown"),
        ("", "period.unknown"),
        ("1899", "period.year"),
    ],
)
def test_a_wrong_period_is_refused_with_its_reason(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_period(text)
    assert raised.value.code == code


def test_period_bounds_are_local_midnights() -> None:
    start, end = Q4.bounds(POLICY.zone)
    assert (start, end) == (at("2026-09-30 16:00"), at("2026-12-31 16:00"))
    assert (Q4.first_day, Q4.last_day) == (date(2026, 10, 1), date(2026, 12, 31))
    assert Period(2026, PeriodKind.MONTH, 12).end_day == date(2027, 1, 1)
    assert Period(2026, PeriodKind.QUARTER, 1).previous().key == "2025Q4"
    assert Period(2026, PeriodKind.MONTH, 1).previous().key == "2025-12"
    assert Period.quarter_of(date(2026, 11, 23)).key == "2026Q4"
    assert Q4.title == ("{year}年第四季度", {"year": 2026, "number": 4})
