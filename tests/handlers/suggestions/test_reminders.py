""" "三及时" pushes as the cadres read them: short, polite, nameless, and nothing once the work is done."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from handlers.core.i18n import Catalogues
from handlers.modules import REGISTRY
from models.members import Member
from models.outbox import Outbox
from models.roles import Role
from models.suggestions import (
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    decide_suggestion,
    first_review,
    register_suggestion,
    start_implementation,
    submit_suggestion,
)
from models.suggestions.deadlines import DUE_TOPIC, OVERDUE_TOPIC, enqueue_deadline_pushes
from tests.factories import HOSTILE_BODY, make_member

POLICY = SuggestionPolicy()
SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "空压机余热回收用于浴室"


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)


def people(session: Session) -> tuple[Member, Member, Member]:
    proposer = make_member(session, employee_no="1001", name="匿名的张三", unit="厂工会/一车间/甲班")
    committee = make_member(
        session, employee_no="C1", name="李委员", roles=[(Role.COMMITTEE, "厂工会/一车间")]
    )
    chair = make_member(session, employee_no="C0", name="王主席", roles=[(Role.CHAIR, "厂工会")])
    return proposer, committee, chair


def submit(session: Session, proposer: Member, *, anonymous: bool = True) -> Suggestion:
    draft = SuggestionDraft(category="节能降耗", title=TITLE, measure=HOSTILE_BODY, anonymous=anonymous)
    # Wednesday 18 November 2026: due Monday 23 November.
    return submit_suggestion(
        session, actor=proposer, draft=draft, policy=POLICY, now=morning(date(2026, 11, 18))
    )


def rows(session: Session, topic: str) -> list[Outbox]:
    return list(session.exec(select(Outbox).where(Outbox.topic == topic).order_by(col(Outbox.id))))


def texts(session: Session, row: Outbox, catalogues: Catalogues) -> dict[str, tuple[str, str]]:
    found = {}
    for locale in ("zh_CN", "zh_TW", "en"):
        push = REGISTRY.pushes.render(session, row, catalogues.get(locale), SHANGHAI)
        assert push is not None
        found[locale] = (push.title, push.reply.text)
    return found


def test_the_reminder_names_number_title_and_date_never_the_proposer(
    session: Session, catalogues: Catalogues
) -> None:
    proposer, _, _ = people(session)
    suggestion = submit(session, proposer)
    enqueue_deadline_pushes(session, now=morning(date(2026, 11, 20)), policy=POLICY)
    [row] = rows(session, DUE_TOPIC)
    said = texts(session, row, catalogues)
    assert said["zh_CN"] == (
        "建议办理提醒",
        f"【建议办理提醒】{suggestion.number}“{TITLE}”应在 11月23日 前登记，请及时处理。",
    )
    assert said["zh_TW"] == (
        "建議辦理提醒",
        f"【建議辦理提醒】{suggestion.number}「{TITLE}」應在 11月23日 前登記，請及時處理。",
    )
    assert said["en"] == (
        "Suggestion reminder",
        f"[Suggestion reminder] {suggestion.number} “{TITLE}” should be registered by 11/23. "
        "Please deal with it in time.",
    )
    assert all("张三" not in text for _, text in said.values())


def test_the_escalation_names_the_responsible_unit(session: Session, catalogues: Catalogues) -> None:
    proposer, _, _ = people(session)
    suggestion = submit(session, proposer, anonymous=False)
    enqueue_deadline_pushes(session, now=morning(date(2026, 11, 24)), policy=POLICY)
    [row] = rows(session, OVERDUE_TOPIC)
    said = texts(session, row, catalogues)
    assert said["zh_CN"] == (
        "建议超期",
        f"【建议超期】{suggestion.number}“{TITLE}”已超过登记期限（11月23日），责任单位：厂工会/一车间。"
        "请督促办理。",
    )
    assert said["zh_TW"][1].startswith(f"【建議逾期】{suggestion.number}「{TITLE}」已超過登記期限")
    assert said["en"][1] == (
        f"[Suggestion overdue] {suggestion.number} “{TITLE}” is past its registration deadline (11/23). "
        "Responsible unit: 厂工会/一车间. Please see that it is dealt with."
    )
    assert all("张三" not in text for _, text in said.values())


def test_each_stage_says_what_is_due(session: Session, catalogues: Catalogues) -> None:
    proposer, committee, _ = people(session)
    suggestion = submit(session, proposer)
    assert suggestion.id is not None
    registered = register_suggestion(
        session,
        actor=committee,
        suggestion_id=suggestion.id,
        expected_version=suggestion.version,
        category="节能降耗",
        department="设备科",
        reviewer_id=None,
        policy=POLICY,
        now=morning(date(2026, 11, 19)),
    )
    assert registered.due_on == date(2026, 12, 10)
    enqueue_deadline_pushes(session, now=morning(date(2026, 12, 9)), policy=POLICY)
    [decide] = rows(session, DUE_TOPIC)
    assert texts(session, decide, catalogues)["zh_CN"][1] == (
        f"【建议办理提醒】{suggestion.number}“{TITLE}”应在 12月10日 前作出是否采纳的决定，请及时处理。"
    )
    reviewed = first_review(
        session,
        actor=committee,
        suggestion_id=suggestion.id,
        expected_version=registered.version,
        opinion="可行",
        now=morning(date(2026, 12, 9)),
    )
    adopted = decide_suggestion(
        session,
        actor=committee,
        suggestion_id=suggestion.id,
        expected_version=reviewed.version,
        adopted=True,
        reason="投入小，见效快",
        policy=POLICY,
        now=morning(date(2026, 12, 9)),
    )
    assert adopted.due_on is not None
    # Once decided, the decision's reminder has nothing left to say.
    assert REGISTRY.pushes.render(session, decide, catalogues.get("zh_CN"), SHANGHAI) is None
    enqueue_deadline_pushes(session, now=morning(adopted.due_on), policy=POLICY)
    [_, implement] = rows(session, DUE_TOPIC)
    due = adopted.due_on
    assert texts(session, implement, catalogues)["zh_CN"][1] == (
        f"【建议办理提醒】{suggestion.number}“{TITLE}”已采纳，应在 {due.month}月{due.day}日 前开始实施，"
        "请及时处理。"
    )
    start_implementation(
        session,
        actor=committee,
        suggestion_id=suggestion.id,
        expected_version=adopted.version,
        started_on=due,
        notes="已安装换热器",
        policy=POLICY,
        now=morning(due),
    )
    assert REGISTRY.pushes.render(session, implement, catalogues.get("zh_CN"), SHANGHAI) is None


def test_a_reminder_whose_suggestion_moved_on_sends_nothing(session: Session, catalogues: Catalogues) -> None:
    proposer, committee, _ = people(session)
    suggestion = submit(session, proposer)
    assert suggestion.id is not None
    enqueue_deadline_pushes(session, now=morning(date(2026, 11, 20)), policy=POLICY)
    [row] = rows(session, DUE_TOPIC)
    # Registered before the push went out (it waited for the end of quiet hours, say).
    register_suggestion(
        session,
        actor=committee,
        suggestion_id=suggestion.id,
        expected_version=suggestion.version,
        category="节能降耗",
        department="设备科",
        reviewer_id=None,
        policy=POLICY,
        now=morning(date(2026, 11, 20)),
    )
    assert REGISTRY.pushes.render(session, row, catalogues.get("zh_CN"), SHANGHAI) is None
    assert REGISTRY.pushes.render(session, row, catalogues.get("en"), SHANGHAI) is None
