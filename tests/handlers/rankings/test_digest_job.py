"""The monthly digest on the hand-worked union (conftest.py): every score, the composite, the pushes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from handlers.core.i18n import Catalogues
from handlers.modules import REGISTRY
from handlers.rankings.pushes import run_monthly, run_quarterly
from models.errors import InvalidInput, PermissionDenied
from models.outbox import Outbox
from models.preferences import turn_off_reminder
from models.rankings.digests import REMINDER_TOPIC, find_digest, level_entries
from models.rankings.periods import DigestPeriod
from models.rankings.publishing import publish_digest
from models.rankings.tables import DRAFT_TOPIC, DigestKind, DigestStatus, RankingEntry, Tier
from tests.handlers.rankings.conftest import CONFIG, DECEMBER_2, Union

NOVEMBER = DigestPeriod(2026, DigestKind.MONTH, 11)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def entries(session: Session, union: Union) -> dict[str, RankingEntry]:
    digest = find_digest(session, NOVEMBER)
    assert digest is not None
    assert digest.id is not None
    names = {unit.id: name for name, unit in union.units.items()}
    rows = session.exec(select(RankingEntry).where(RankingEntry.digest_id == digest.id)).all()
    return {names[row.unit_id]: row for row in rows}


def test_every_score_of_every_unit_is_what_the_hand_worked_table_says(session: Session, union: Union) -> None:
    run_monthly(CONFIG, session, now=DECEMBER_2)
    found = entries(session, union)
    raw = {name: {key: value[0] for key, value in entry.components.items()} for name, entry in found.items()}
    assert raw["甲班"] == pytest.approx(
        {
            "suggestions_per_100": 100,
            "adoption_rate": 50,
            "answered_on_time": 200 / 3,
            "activity_participation": 50,
        }
    )
    assert raw["乙班"] == pytest.approx(
        {"suggestions_per_100": 100, "adoption_rate": 0, "answered_on_time": 0, "activity_participation": 0}
    )
    assert raw["丙班"] == pytest.approx(
        {"suggestions_per_100": 0, "answered_on_time": 100, "activity_participation": 25}
    )
    assert raw["一车间"] == pytest.approx(
        {
            "suggestions_per_100": 100,
            "adoption_rate": 100 / 3,
            "answered_on_time": 50,
            "activity_participation": 100 / 3,
        }
    )
    assert raw["二车间"] == pytest.approx(
        {"suggestions_per_100": 0, "answered_on_time": 100, "activity_participation": 25}
    )


def test_the_composite_renormalises_what_a_unit_has_no_data_for(session: Session, union: Union) -> None:
    run_monthly(CONFIG, session, now=DECEMBER_2)
    found = entries(session, union)
    # 一车间 = (25×100 + 20×100 + 15×50 + 15×100) / 75 = 90.0
    # 二车间 has no adoption rate: (25×0 + 15×100 + 15×75) / 55 = 47.7
    assert (found["一车间"].score, found["一车间"].rank, found["一车间"].tier, found["一车间"].stars) == (
        90.0,
        1,
        Tier.BENCHMARK,
        5,
    )
    assert (found["二车间"].score, found["二车间"].rank, found["二车间"].tier, found["二车间"].stars) == (
        47.7,
        2,
        Tier.FAILING,
        2,
    )
    assert found["二车间"].missing == ["adoption_rate"]
    # 甲班 = (2500 + 2000 + 15×66.7 + 1500) / 75 = 93.3; 丙班 = (0 + 15×100 + 15×50) / 55 = 40.9;
    # 乙班 = 2500 / 75 = 33.3
    assert [(name, found[name].score, found[name].rank) for name in ("甲班", "丙班", "乙班")] == [
        ("甲班", 93.3, 1),
        ("丙班", 40.9, 2),
        ("乙班", 33.3, 3),
    ]
    assert all(entry.level_size == 3 for name, entry in found.items() if name.endswith("班"))


def test_points_count_anonymous_ideas_for_their_unit_and_never_name_them(
    session: Session, union: Union
) -> None:
    run_monthly(CONFIG, session, now=DECEMBER_2)
    found = entries(session, union)
    # 张一: 1 + 3 (adopted) + 1 = 5; 王五: 3 (adopted) + 10 (金点子) = 13; 李四's anonymous one: 1, for 乙班.
    assert {name: found[name].points for name in ("甲班", "乙班", "丙班", "一车间", "二车间")} == {
        "甲班": 5,
        "乙班": 1,
        "丙班": 13,
        "一车间": 6,
        "二车间": 13,
    }
    digest = find_digest(session, NOVEMBER)
    assert digest is not None
    assert digest.contributors == [[union.members["王五"].id, 13], [union.members["张一"].id, 5]]


def test_the_monthly_job_run_twice_queues_nothing_twice(session: Session, union: Union) -> None:
    first = run_monthly(CONFIG, session, now=DECEMBER_2)
    # Nine active members, and the two cadres' tables.
    assert first == 9 + 2
    assert run_monthly(CONFIG, session, now=DECEMBER_2) == 0
    keys = session.exec(select(Outbox.key).order_by(col(Outbox.key))).all()
    assert f"digest:2026-11:member:{union.members['张一'].id}" in keys
    assert f"digest:2026-11:cadre:{union.members['王主席'].id}" in keys
    assert not any(key.endswith(f":{union.members['张三'].id}") for key in keys)  # left the union


def test_a_quarter_is_a_draft_announced_to_the_chair_only_once(session: Session, union: Union) -> None:
    january = DECEMBER_2.replace(year=2027, month=1)
    assert run_quarterly(CONFIG, session, now=january) == 1
    assert run_quarterly(CONFIG, session, now=january) == 0
    digest = find_digest(session, DigestPeriod(2026, DigestKind.QUARTER, 4))
    assert digest is not None
    assert digest.status is DigestStatus.DRAFT
    [row] = session.exec(select(Outbox).where(Outbox.topic == DRAFT_TOPIC)).all()
    assert row.member_id == union.members["王主席"].id
    assert row.key == f"digest:2026-Q4:draft:{union.members['王主席'].id}"
    assert digest.id is not None
    level = level_entries(session, digest.id, root_id=union.units["厂工会"].id or 0, depth=1)
    assert next(entry.unit_id for entry in level) == union.units["一车间"].id


def test_the_pushes_read_as_the_chat_does_with_the_chart_attached(
    session: Session, union: Union, catalogues: Catalogues
) -> None:
    run_monthly(CONFIG, session, now=DECEMBER_2)
    member_row = session.exec(
        select(Outbox).where(Outbox.key == f"digest:2026-11:member:{union.members['李四'].id}")
    ).one()
    push = REGISTRY.pushes.render(session, member_row, catalogues.get("zh_CN"), SHANGHAI)
    assert push is not None
    assert push.title == "2026年11月单位排名"
    assert push.reply.text.startswith(
        "【排行榜】2026年11月\n您所在的单位：一车间/乙班\n在同级 3 个单位中排第 3 名"
    )
    assert push.body.startswith("您所在的单位：一车间/乙班")  # a template's body: the text without its title
    assert push.reply.image is not None
    table_row = session.exec(
        select(Outbox).where(Outbox.key == f"digest:2026-11:cadre:{union.members['刘委员'].id}")
    ).one()
    table = REGISTRY.pushes.render(session, table_row, catalogues.get("zh_CN"), SHANGHAI)
    assert table is not None
    assert "一车间下属单位" in table.reply.text


def test_a_drafts_note_says_nothing_once_it_is_published(
    session: Session, union: Union, catalogues: Catalogues
) -> None:
    run_quarterly(CONFIG, session, now=DECEMBER_2.replace(year=2027, month=1))
    [row] = session.exec(select(Outbox).where(Outbox.topic == DRAFT_TOPIC)).all()
    note = REGISTRY.pushes.render(session, row, catalogues.get("zh_CN"), SHANGHAI)
    assert note is not None
    assert note.reply.buttons[0].label == "审阅季度排名草稿"
    digest = find_digest(session, DigestPeriod(2026, DigestKind.QUARTER, 4))
    assert digest is not None
    publish_digest(
        session, actor=union.members["王主席"], digest=digest, parts=[("季度排名", "正文")], now=DECEMBER_2
    )
    assert REGISTRY.pushes.render(session, row, catalogues.get("zh_CN"), SHANGHAI) is None
    with pytest.raises(InvalidInput, match=r"ranking\.already_published"):
        publish_digest(
            session,
            actor=union.members["王主席"],
            digest=digest,
            parts=[("季度排名", "正文")],
            now=DECEMBER_2,
        )
    with pytest.raises(PermissionDenied, match=r"ranking\.publish_not_allowed"):
        publish_digest(
            session,
            actor=union.members["刘委员"],
            digest=digest,
            parts=[("季度排名", "正文")],
            now=DECEMBER_2,
        )


def test_a_member_who_turned_the_ranking_off_gets_no_digest(session: Session, union: Union) -> None:
    turn_off_reminder(session, actor=union.members["张一"], topic=REMINDER_TOPIC)
    turn_off_reminder(session, actor=union.members["王主席"], topic=REMINDER_TOPIC)
    assert run_monthly(CONFIG, session, now=DECEMBER_2) == 9 + 2 - 3  # 张一; 王主席 as member and cadre
    keys = session.exec(select(Outbox.key)).all()
    assert not any(key.endswith(f":{union.members['张一'].id}") for key in keys)
    assert not any(key.endswith(f":{union.members['王主席'].id}") for key in keys)
