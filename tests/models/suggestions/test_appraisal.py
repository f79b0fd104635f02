"""季评比: the quarter's adopted suggestions ranked, awarded all or none, published as a notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models.errors import InvalidInput, PermissionDenied
from models.members import Member
from models.notices import BODY_MAX, Notice, NoticeCategory, NoticeRecipient
from models.outbox import Outbox, PushKind
from models.roles import Role
from models.suggestions import (
    UPDATE_TOPIC,
    Action,
    Award,
    EventKind,
    Suggestion,
    SuggestionDraft,
    SuggestionEvent,
    SuggestionPolicy,
    allowed_actions,
    award_refusal,
    decide_suggestion,
    first_review,
    implemented,
    record_effect,
    register_suggestion,
    start_implementation,
    submit_suggestion,
    support_suggestion,
)
from models.suggestions.appraisal import (
    AppraisalRefused,
    AwardChoice,
    apply_appraisal,
    appraisal_notice,
    appraisal_text,
    awarded_in_quarter,
    publish_appraisal,
    quarter_bounds,
    quarter_candidates,
)
from models.suggestions.figures import money_text
from models.units import find_unit
from tests.factories import HOSTILE_NAME, make_member

NOW = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # Monday 28 December 2026, 10:00 in Shanghai
POLICY = SuggestionPolicy()


@dataclass
class Union:
    chair: Member  # 一车间's chair: appraises 一车间
    committee: Member  # 一车间's committee member: reviews, but does not appraise
    factory: Member  # 厂工会's chair, who handles 二车间's suggestions in these tests
    named: Member  # 甲班, proposes under their name
    shy: Member  # 乙班, proposes anonymously
    other: Member  # 二车间
    backers: list[Member]


@pytest.fixture
def union(session: Session) -> Union:
    return Union(
        chair=make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")]),
        committee=make_member(
            session, employee_no="C2", name="周委员", roles=[(Role.COMMITTEE, "厂工会/一车间")]
        ),
        factory=make_member(
            session, employee_no="C0", name="厂主席", unit="厂工会", roles=[(Role.CHAIR, "厂工会")]
        ),
        named=make_member(session, employee_no="1001", name="李娜", unit="厂工会/一车间/甲班"),
        shy=make_member(session, employee_no="1002", name=HOSTILE_NAME, unit="厂工会/一车间/乙班"),
        other=make_member(session, employee_no="2001", name="赵强", unit="厂工会/二车间"),
        backers=[
            make_member(session, employee_no=f"30{n}", name=f"附议人{n}", unit="厂工会/一车间/甲班")
            for n in range(3)
        ],
    )


def adopt(
    session: Session,
    cadre: Member,
    proposer: Member,
    decided: datetime,
    *,
    title: str = "空压机余热回收用于浴室",
    value_yuan: int | None = None,
    adopted: bool = True,
    anonymous: bool = False,
) -> Suggestion:
    """A suggestion walked to its decision at ``decided``, and its effect recorded a day later."""
    draft = SuggestionDraft(category="节能降耗", title=title, measure="把余热引到浴室。", anonymous=anonymous)
    before = decided - timedelta(days=2)
    s = submit_suggestion(session, actor=proposer, draft=draft, policy=POLICY, now=before)
    assert s.id is not None
    s = register_suggestion(
        session,
        actor=cadre,
        suggestion_id=s.id,
        expected_version=s.version,
        category="节能降耗",
        department="设备科",
        reviewer_id=None,
        policy=POLICY,
        now=before,
    )
    s = first_review(
        session, actor=cadre, suggestion_id=s.id or 0, expected_version=s.version, opinion="可行", now=before
    )
    s = decide_suggestion(
        session,
        actor=cadre,
        suggestion_id=s.id or 0,
        expected_version=s.version,
        adopted=adopted,
        reason="节能效果明显" if adopted else "成本太高",
        policy=POLICY,
        now=decided,
    )
    if value_yuan is not None:
        later = decided + timedelta(days=1)
        day = POLICY.today(later)
        s = start_implementation(
            session,
            actor=cadre,
            suggestion_id=s.id or 0,
            expected_version=s.version,
            started_on=day,
            notes="已安装",
            policy=POLICY,
            now=later,
        )
        s = record_effect(
            session,
            actor=cadre,
            suggestion_id=s.id or 0,
            expected_version=s.version,
            value_fen=value_yuan * 100,
            implemented_on=day,
            notes="运行良好",
            policy=POLICY,
            now=later,
        )
    return s


def unit_id(session: Session, path: str = "厂工会/一车间") -> int:
    found = find_unit(session, path).id
    assert found is not None
    return found


def october(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def choice(suggestion: Suggestion, award: Award = Award.GOLD, prize_fen: int = 50_000) -> AwardChoice:
    assert suggestion.id is not None
    return AwardChoice(suggestion.id, suggestion.version, award, prize_fen)


def test_a_quarter_runs_from_midnight_to_midnight_in_the_unions_zone() -> None:
    start, end = quarter_bounds(2026, 4, POLICY)
    assert start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        quarter_bounds(2026, 5, POLICY)


def test_amounts_read_as_a_union_writes_them() -> None:
    assert money_text(50_000) == "500 元"
    assert money_text(1_250) == "12.5 元"
    assert money_text(1_000_000) == "1 万元"
    assert money_text(123_456_78) == "12.35 万元"


def test_candidates_are_the_quarters_adopted_ones_of_the_subtree_best_first(
    session: Session, union: Union
) -> None:
    chair, named = union.chair, union.named
    small_early = adopt(session, chair, named, october(5), title="小而早", value_yuan=10_000)
    small_backed = adopt(session, chair, named, october(12), title="小而众望", value_yuan=10_000)
    big = adopt(session, chair, union.shy, october(10), title="创效最大", value_yuan=50_000, anonymous=True)
    # 00:30 on 1 October in Shanghai: the quarter's first half hour, though September in UTC.
    first_night = adopt(session, chair, named, datetime(2026, 9, 30, 16, 30, tzinfo=UTC), title="国庆夜")
    adopt(session, chair, named, datetime(2026, 9, 30, 15, 30, tzinfo=UTC), title="上季度")
    adopt(session, chair, named, october(6), title="未采纳", adopted=False)
    adopt(session, union.factory, union.other, october(7), title="二车间的", value_yuan=90_000)
    for backer in union.backers[:2]:
        support_suggestion(session, actor=backer, suggestion_id=small_backed.id or 0, now=NOW)

    found = quarter_candidates(
        session, actor=chair, unit_id=unit_id(session), year=2026, quarter=4, policy=POLICY
    )

    assert [c.suggestion.title for c in found] == ["创效最大", "小而众望", "小而早", "国庆夜"]
    assert [c.rank for c in found] == [1, 2, 3, 4]
    assert [c.supporters for c in found] == [0, 2, 0, 0]
    assert found[0].proposer is None  # anonymous: not even loaded
    assert found[1].proposer is not None
    assert found[1].proposer.name == "李娜"
    # 乙班 is one member: the anonymous idea is placed no closer than the appraised unit.
    assert found[0].unit_path == "一车间"
    assert not any(c.awarded for c in found)
    assert {big.id, small_early.id, first_night.id} < {c.id for c in found}


def test_a_committee_member_reviews_but_may_not_appraise(session: Session, union: Union) -> None:
    s = adopt(session, union.chair, union.named, october(5), value_yuan=100)
    unit = unit_id(session)
    with pytest.raises(PermissionDenied) as refused:
        quarter_candidates(session, actor=union.committee, unit_id=unit, year=2026, quarter=4, policy=POLICY)
    assert refused.value.code == "appraisal.not_allowed"
    with pytest.raises(AppraisalRefused) as failed:
        apply_appraisal(
            session, actor=union.committee, year=2026, quarter=4, awards=[choice(s)], now=NOW, policy=POLICY
        )
    assert failed.value.cause.code == "appraisal.not_allowed"
    with pytest.raises(PermissionDenied):
        publish_appraisal(
            session, actor=union.committee, year=2026, quarter=4, unit_id=unit, now=NOW, policy=POLICY
        )
    # Nor may 一车间's chair appraise the factory above them.
    with pytest.raises(PermissionDenied):
        quarter_candidates(
            session,
            actor=union.chair,
            unit_id=unit_id(session, "厂工会"),
            year=2026,
            quarter=4,
            policy=POLICY,
        )


def awards_pushed(session: Session) -> list[Outbox]:
    return list(
        session.exec(select(Outbox).where(Outbox.topic == UPDATE_TOPIC).order_by(col(Outbox.id))).all()
    )


def awarded_events(session: Session) -> list[SuggestionEvent]:
    return list(session.exec(select(SuggestionEvent).where(SuggestionEvent.kind == EventKind.AWARDED)).all())


def test_an_appraisal_awards_them_all_and_tells_each_proposer(session: Session, union: Union) -> None:
    gold = adopt(session, union.chair, union.named, october(5), value_yuan=20_000)
    bronze = adopt(session, union.chair, union.shy, october(6), anonymous=True)
    before = len(awards_pushed(session))

    given = apply_appraisal(
        session,
        actor=union.chair,
        year=2026,
        quarter=4,
        awards=[choice(gold, Award.GOLD, 80_000), choice(bronze, Award.ENCOURAGEMENT, 10_000)],
        now=NOW,
        policy=POLICY,
    )

    assert [(s.award, s.prize_fen) for s in given] == [(Award.GOLD, 80_000), (Award.ENCOURAGEMENT, 10_000)]
    pushed = awards_pushed(session)[before:]
    assert [(p.member_id, p.kind) for p in pushed] == [
        (union.named.id, PushKind.STATUS),
        (union.shy.id, PushKind.STATUS),
    ]
    candidates = quarter_candidates(
        session, actor=union.chair, unit_id=unit_id(session), year=2026, quarter=4, policy=POLICY
    )
    assert all(c.awarded for c in candidates)


@pytest.mark.parametrize("trouble", ["stale", "twice", "already", "last_quarter"])
def test_one_refused_award_leaves_the_whole_appraisal_unwritten(
    session: Session, union: Union, trouble: str
) -> None:
    first = adopt(session, union.chair, union.named, october(5), title="第一条", value_yuan=100)
    second = adopt(session, union.chair, union.named, october(6), title="第二条")
    if trouble == "already":
        apply_appraisal(
            session, actor=union.chair, year=2026, quarter=4, awards=[choice(second)], now=NOW, policy=POLICY
        )
        session.refresh(second)
    if trouble == "last_quarter":
        second = adopt(
            session, union.chair, union.named, datetime(2026, 9, 20, 2, tzinfo=UTC), title="第二条"
        )
    awards = [choice(first, Award.SILVER), choice(second)]
    if trouble == "stale":
        awards[1] = AwardChoice(second.id or 0, second.version - 1, Award.GOLD, 50_000)
    if trouble == "twice":
        awards[1] = choice(first, Award.GOLD)
    events, pushed = len(awarded_events(session)), len(awards_pushed(session))

    with pytest.raises(AppraisalRefused) as refused:
        apply_appraisal(
            session, actor=union.chair, year=2026, quarter=4, awards=awards, now=NOW, policy=POLICY
        )

    expected_code = {
        "stale": "suggestion.conflict",
        "twice": "appraisal.twice",
        "already": "suggestion.already_awarded",
        "last_quarter": "appraisal.not_in_quarter",
    }[trouble]
    assert refused.value.cause.code == expected_code
    failed = first if trouble == "twice" else second
    assert refused.value.number == failed.number
    assert refused.value.suggestion_id == failed.id
    session.refresh(first)
    assert first.award is None
    assert first.prize_fen is None
    assert len(awarded_events(session)) == events
    assert len(awards_pushed(session)) == pushed


def test_an_empty_appraisal_is_refused(session: Session, union: Union) -> None:
    with pytest.raises(InvalidInput) as refused:
        apply_appraisal(session, actor=union.chair, year=2026, quarter=4, awards=[], now=NOW, policy=POLICY)
    assert refused.value.code == "appraisal.empty"


def test_nothing_is_published_for_a_quarter_without_awards(session: Session, union: Union) -> None:
    adopt(session, union.chair, union.named, october(5), value_yuan=100)
    with pytest.raises(InvalidInput) as refused:
        publish_appraisal(
            session, actor=union.chair, year=2026, quarter=4, unit_id=unit_id(session), now=NOW, policy=POLICY
        )
    assert refused.value.code == "appraisal.nothing_awarded"
    assert refused.value.params == {"year": 2026, "quarter": 4}
    assert session.exec(select(Notice)).all() == []


def test_the_published_result_lists_awards_by_level_and_keeps_anonymous_proposers_hidden(
    session: Session, union: Union
) -> None:
    bronze = adopt(session, union.chair, union.named, october(5), title="工具架改进", value_yuan=2_000)
    gold = adopt(
        session,
        union.chair,
        union.shy,
        october(6),
        title="空压机余热回收",
        value_yuan=123_456,
        anonymous=True,
    )
    adopt(session, union.chair, union.named, october(7), title="没评上的")
    apply_appraisal(
        session,
        actor=union.chair,
        year=2026,
        quarter=4,
        awards=[choice(bronze, Award.ENCOURAGEMENT, 20_000), choice(gold, Award.GOLD, 100_000)],
        now=NOW,
        policy=POLICY,
    )

    [notice] = publish_appraisal(
        session, actor=union.chair, year=2026, quarter=4, unit_id=unit_id(session), now=NOW, policy=POLICY
    )

    assert notice.title == "2026年第四季度合理化建议评比结果"
    assert notice.category is NoticeCategory.NOTICE
    body = notice.body
    assert "获奖建议 2 条，奖金合计 1200 元" in body
    assert (
        body.index("【金点子】")
        < body.index("空压机余热回收")
        < body.index("【鼓励奖】")
        < body.index("工具架改进")
    )
    assert f"{gold.number} 空压机余热回收（一车间，匿名），创效 12.35 万元，奖金 1000 元" in body
    assert f"{bronze.number} 工具架改进（甲班，李娜），创效 2000 元，奖金 200 元" in body
    assert HOSTILE_NAME not in body
    assert "1002" not in body
    assert "没评上的" not in body
    # Everyone active in 一车间's subtree: the two cadres, the two proposers, the three backers.
    recipients = session.exec(
        select(NoticeRecipient.member_id).where(NoticeRecipient.notice_id == notice.id)
    ).all()
    assert notice.recipient_count == len(recipients) == 7
    assert union.other.id not in recipients
    assert union.factory.id not in recipients


def test_a_result_too_long_for_one_notice_goes_out_in_parts(session: Session, union: Union) -> None:
    long_title = "关于改进一车间甲班数控机床冷却液循环系统以降低能耗和废液排放的合理化建议书"[:40]
    suggestions = [
        adopt(
            session,
            union.chair,
            union.named,
            october(1 + n % 28, hour=n % 12),
            title=long_title,
            value_yuan=n,
        )
        for n in range(1, 31)
    ]
    apply_appraisal(
        session,
        actor=union.chair,
        year=2026,
        quarter=4,
        awards=[choice(s, Award.ENCOURAGEMENT, 5_000) for s in suggestions],
        now=NOW,
        policy=POLICY,
    )
    candidates = awarded_in_quarter(
        session, actor=union.chair, unit_id=unit_id(session), year=2026, quarter=4, policy=POLICY
    )
    _title, bodies = appraisal_text(
        candidates=candidates, unit=find_unit(session, "厂工会/一车间"), year=2026, quarter=4
    )
    assert len(bodies) == 2
    assert all(len(body) <= BODY_MAX for body in bodies)
    assert sum(body.count(long_title) for body in bodies) == 30

    notices = publish_appraisal(
        session, actor=union.chair, year=2026, quarter=4, unit_id=unit_id(session), now=NOW, policy=POLICY
    )
    assert [n.title for n in notices] == [
        "2026年第四季度合理化建议评比结果（1/2）",
        "2026年第四季度合理化建议评比结果（2/2）",
    ]


def test_an_award_before_implementation_publishes_no_value_nobody_verified(
    session: Session, union: Union
) -> None:
    early = adopt(session, union.chair, union.named, october(5), title="车间照明分区控制")
    apply_appraisal(
        session,
        actor=union.chair,
        year=2026,
        quarter=4,
        awards=[choice(early, Award.ENCOURAGEMENT, 20_000)],
        now=NOW,
        policy=POLICY,
    )
    preview = appraisal_notice(
        session, actor=union.chair, year=2026, quarter=4, unit_id=unit_id(session), policy=POLICY
    )
    [notice] = publish_appraisal(
        session, actor=union.chair, year=2026, quarter=4, unit_id=unit_id(session), now=NOW, policy=POLICY
    )
    assert preview.parts == ((notice.title, notice.body),)
    assert f"{early.number} 车间照明分区控制（甲班，李娜），奖金 200 元" in notice.body
    assert "待核定" not in notice.body
    assert "创效" not in notice.body


def test_a_union_requiring_implementation_refuses_the_early_award_and_gives_none(
    session: Session, union: Union
) -> None:
    strict = SuggestionPolicy(award_requires_implementation=True)
    done = adopt(session, union.chair, union.named, october(5), title="工具架改进", value_yuan=2_000)
    early = adopt(session, union.chair, union.named, october(6), title="车间照明分区控制")
    assert not implemented(early)
    assert award_refusal(session, union.chair, early, POLICY) is None
    refusal = award_refusal(session, union.chair, early, strict)
    assert refusal is not None
    assert refusal.code == "suggestion.award_not_implemented"
    assert Action.AWARD not in allowed_actions(session, union.chair, early, strict)
    assert Action.AWARD in allowed_actions(session, union.chair, done, strict)
    with pytest.raises(AppraisalRefused) as refused:
        apply_appraisal(
            session,
            actor=union.chair,
            year=2026,
            quarter=4,
            awards=[choice(done, Award.GOLD, 50_000), choice(early, Award.SILVER, 20_000)],
            now=NOW,
            policy=strict,
        )
    assert (refused.value.code, refused.value.cause.code) == (
        "appraisal.refused",
        "suggestion.award_not_implemented",
    )
    session.refresh(done)
    assert done.award is None
