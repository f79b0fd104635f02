"""月征集 as members and cadres meet it: the monthly call, the second call, 每月征集, the theme."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, col, select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.module import JobContext
from handlers.modules import REGISTRY
from handlers.suggestions.collection import AGAIN_JOB, CALL_JOB
from models.db import SessionFactory
from models.members import Member
from models.outbox import Outbox
from models.preferences import turn_off_reminder
from models.roles import Role
from models.suggestions import Suggestion, SuggestionStatus
from models.suggestions.collection import AGAIN_TOPIC, CALL_TOPIC, REMINDER_TOPIC, set_collection_theme
from scheduler.jobs import trigger
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = CoreConfig()
DECEMBER = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday 7 December, 10:00 in Shanghai


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def people(session: Session) -> dict[str, Member]:
    found = {
        "member": make_member(session, employee_no="2101", name="张伟", unit="厂工会/一车间/甲班"),
        "colleague": make_member(session, employee_no="2102", name="陈静", unit="厂工会/一车间/甲班"),
        "other": make_member(session, employee_no="2201", name="赵磊", unit="厂工会/一车间/乙班"),
        "committee": make_member(
            session,
            employee_no="2001",
            name="李委员",
            unit="厂工会/一车间",
            roles=[(Role.COMMITTEE, "厂工会/一车间")],
        ),
        "chair": make_member(
            session, employee_no="1001", name="王主席", unit="厂工会", roles=[(Role.CHAIR, "厂工会")]
        ),
    }
    for member in found.values():
        bind(session, member)
    return found


def run(
    job_run: Callable[[JobContext], int], db: SessionFactory, *, clock: datetime, due: datetime | None
) -> int:
    context = JobContext(sessions=db, config=CONFIG, clock=lambda: clock, due=due)
    return job_run(context)


def rendered(db: SessionFactory, catalogues: Catalogues, topic: str, locale: str = "zh_CN") -> dict[int, str]:
    """Each recipient's push as they read it, by member id; "—" for one that says nothing any more."""
    with db() as session:
        rows = session.exec(select(Outbox).where(Outbox.topic == topic).order_by(col(Outbox.id))).all()
        pushes = {
            row.member_id: REGISTRY.pushes.render(session, row, catalogues.get(locale), SHANGHAI)
            for row in rows
        }
    return {
        member_id: push.reply.text + "".join(f"\n[{button.label}]" for button in push.reply.buttons)
        if push
        else "—"
        for member_id, push in pushes.items()
    }


def keys(db: SessionFactory, topic: str) -> list[str]:
    with db() as session:
        return list(session.exec(select(Outbox.key).where(Outbox.topic == topic).order_by(col(Outbox.key))))


def test_the_call_after_national_day_reaches_everyone_once(
    db: SessionFactory, catalogues: Catalogues
) -> None:
    with db() as session:
        found = people(session)
        set_collection_theme(session, actor=None, month="2026-10", theme="安全生产", now=DECEMBER)
        turn_off_reminder(session, actor=found["other"], topic=REMINDER_TOPIC)
        ids = sorted(member.id or 0 for name, member in found.items() if name != "other")
    chosen = trigger(CALL_JOB, SHANGHAI)
    assert chosen is not None
    # The server's clock runs in UTC; the call waits for Thursday 8 October, 09:00 in Shanghai.
    due = chosen.get_next_fire_time(None, datetime(2026, 9, 30, 16, 30, tzinfo=UTC))
    assert due == shanghai(2026, 10, 8, 9, 0)
    assert run(CALL_JOB.run, db, clock=due, due=due) == 4
    assert run(CALL_JOB.run, db, clock=due, due=due) == 0  # run twice: nothing twice
    assert keys(db, CALL_TOPIC) == sorted(f"collect:2026-10:member:{member_id}" for member_id in ids)
    texts = rendered(db, catalogues, CALL_TOPIC)
    assert texts[found["chair"].id or 0] == (
        "【每月征集】2026年10月合理化建议征集开始了。\n"
        "本月征集主题：“安全生产”，其他方面的好点子同样欢迎。\n"
        "厂工会今年已提建议 0 条。\n"
        "小改小革也算数。点“提建议”马上填写，也可以直接回复“提建议”。\n"
        "不想再收到这个提醒，可在“我的信息”里关闭。\n"
        "[提建议]"
    )


def test_after_the_spring_festival_the_call_is_for_february(db: SessionFactory) -> None:
    with db() as session:
        people(session)
    chosen = trigger(CALL_JOB, SHANGHAI)
    assert chosen is not None
    # 2022: 春节 from 31 January to 6 February; the call comes on Monday the 7th.
    due = chosen.get_next_fire_time(None, datetime(2022, 1, 31, 0, 0, tzinfo=UTC))
    assert due == shanghai(2022, 2, 7, 9, 0)
    assert run(CALL_JOB.run, db, clock=due, due=due) == 5
    assert all(key.startswith("collect:2022-02:") for key in keys(db, CALL_TOPIC))


def test_a_late_run_at_the_years_end_still_names_its_own_month(
    db: SessionFactory, catalogues: Catalogues
) -> None:
    with db() as session:
        found = people(session)
        session.add(
            Suggestion(
                proposer_id=found["member"].id or 0,
                unit_id=found["member"].unit_id,
                category="节能降耗",
                title="余热回收",
                measure="……",
                submitted_at=datetime(2026, 12, 3, 2, 0, tzinfo=UTC),
                status=SuggestionStatus.SUBMITTED,
            )
        )
    chosen = trigger(AGAIN_JOB, SHANGHAI)
    assert chosen is not None
    due = chosen.get_next_fire_time(None, DECEMBER)
    assert due == shanghai(2026, 12, 29, 9, 0)
    # The process was down: it runs at 00:30 on 1 January in Shanghai, 16:30 UTC on the 31st.
    late = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    # 乙班 alone: 甲班 filed one, and so did 一车间 and 厂工会 above it.
    assert run(AGAIN_JOB.run, db, clock=late, due=due) == 1
    assert run(AGAIN_JOB.run, db, clock=late, due=due) == 0
    with db() as session:
        other_id = found["other"].id
    assert f"collect-again:2026-12:member:{other_id}" in keys(db, AGAIN_TOPIC)
    assert all(key.startswith("collect-again:2026-12:") for key in keys(db, AGAIN_TOPIC))
    assert rendered(db, catalogues, AGAIN_TOPIC)[other_id or 0].startswith(
        "【每月征集】乙班本月还没有人提建议。"
    )


def test_a_second_call_is_dropped_once_the_unit_files_one(db: SessionFactory, catalogues: Catalogues) -> None:
    with db() as session:
        found = people(session)
    due = shanghai(2026, 12, 29, 9, 0)
    run(AGAIN_JOB.run, db, clock=due, due=due)
    ids = {name: member.id or 0 for name, member in found.items()}
    before = rendered(db, catalogues, AGAIN_TOPIC)
    assert len(before) == 5
    assert before[ids["member"]] == (
        "【每月征集】甲班本月还没有人提建议。月底前有什么想法，随时可以提，小建议也算数。\n"
        "不想再收到这个提醒，可在“我的信息”里关闭。\n"
        "[提建议]"
    )
    with db() as session:
        session.add(
            Suggestion(
                proposer_id=found["colleague"].id or 0,
                unit_id=found["colleague"].unit_id,
                category="其他",
                title="工具柜",
                measure="……",
                submitted_at=datetime(2026, 12, 29, 3, 0, tzinfo=UTC),
            )
        )
    after = rendered(db, catalogues, AGAIN_TOPIC)
    # 甲班 has one now, and so have 一车间 and 厂工会 above it: only 乙班 still hears.
    assert {name: after[member_id] == "—" for name, member_id in ids.items()} == {
        "member": True,
        "colleague": True,
        "committee": True,
        "chair": True,
        "other": False,
    }


@pytest.fixture
def december() -> Iterator[None]:
    with time_machine.travel(DECEMBER, tick=False):
        yield


@pytest.fixture
def members(db: SessionFactory, december: None) -> dict[str, Member]:
    with db() as session:
        return people(session)


def chat_as(chat: Chat, member: Member) -> Chat:
    chat.key = f"telegram-{member.employee_no}"
    return chat


def test_a_member_typing_the_word_reads_this_months_call_and_files_at_once(
    db: SessionFactory, chat: Chat, members: dict[str, Member]
) -> None:
    with db() as session:
        set_collection_theme(session, actor=None, month="2026-12", theme="节能降耗", now=DECEMBER)
    member = chat_as(chat, members["member"])
    member.send(
        "每月征集",
        expect=["2026年12月合理化建议征集开始了", "本月征集主题：“节能降耗”", "甲班今年已提建议 0 条。"],
        absent=["没看懂", "还没有开通线上办理", "设置征集主题", "关闭了每月征集提醒"],
    )
    member.press("提建议", expect="请选择建议类别")


def test_the_chair_sets_the_theme_in_the_chat(
    db: SessionFactory, chat: Chat, members: dict[str, Member]
) -> None:
    chair = chat_as(chat, members["chair"])
    chair.send("每月征集", expect="设置征集主题")
    chair.press("设置征集主题", expect="为哪个月设置征集主题？")
    chair.press("2026年12月", expect="不超过 20 个字")
    chair.send("节" * 21, expect="最多 20 个字")
    chair.send("节能降耗", expect="已设置2026年12月的征集主题：“节能降耗”。")
    chair.send("每月征集", expect="本月征集主题：“节能降耗”")
    chair.press("设置征集主题")
    chair.send("2")
    chair.send("无", expect="已取消2027年1月的征集主题。")


def test_a_cadre_sees_how_many_turned_the_call_off(
    db: SessionFactory, chat: Chat, members: dict[str, Member]
) -> None:
    with db() as session:
        turn_off_reminder(session, actor=members["other"], topic=REMINDER_TOPIC)
    committee = chat_as(chat, members["committee"])
    committee.send("征集", expect="您负责的范围内有 1 人关闭了每月征集提醒。", absent=["设置征集主题"])
