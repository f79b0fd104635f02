"""季度评比 in conversation: the chair ranks the quarter's ideas, awards them, publishes the result."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlmodel import select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from handlers.suggestions.appraisal import parse_quarter
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.members import Member, set_member_locale
from models.notices import Notice, NoticeCategory, NoticeRecipient
from models.outbox import Outbox
from models.roles import Role
from models.suggestions import (
    UPDATE_TOPIC,
    Award,
    Suggestion,
    SuggestionPolicy,
    record_effect,
    start_implementation,
)
from tests.factories import HOSTILE_NAME, bind, make_member
from tests.handlers.conftest import Chat
from tests.models.suggestions.test_appraisal import adopt

NOW = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # Monday 28 December 2026, 10:00 in Shanghai
POLICY = SuggestionPolicy()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ideas(db: SessionFactory, clock: time_machine.Traveller) -> dict[str, int]:
    """一车间 with its chair and a committee member, two proposers (one anonymous), three ideas of Q4."""
    with db() as session:
        chair = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, chair, key="chair")
        committee = make_member(
            session, employee_no="C2", name="周委员", roles=[(Role.COMMITTEE, "厂工会/一车间")]
        )
        bind(session, committee, key="committee")
        named = make_member(session, employee_no="1001", name="李娜", unit="厂工会/一车间/甲班")
        shy = make_member(session, employee_no="1002", name=HOSTILE_NAME, unit="厂工会/一车间/乙班")
        make_member(session, employee_no="2001", name="赵强", unit="厂工会/二车间")
        october = [datetime(2026, 10, day, 2, tzinfo=UTC) for day in (5, 6, 7)]
        found = {
            "tools": adopt(session, chair, named, october[0], title="工具架改进", value_yuan=2_000),
            "heat": adopt(
                session,
                chair,
                shy,
                october[1],
                title="空压机余热回收",
                value_yuan=123_456,
                anonymous=True,
            ),
            "lights": adopt(session, chair, named, october[2], title="车间照明分区控制"),
        }
        return {key: s.id or 0 for key, s in found.items()}


def open_quarter(chair: Chat) -> str:
    chair.send(
        "季度评比", expect=["请选择要评比的季度", "本季度（2026年第四季度）", "上季度（2026年第三季度）"]
    )
    return chair.press(
        "本季度（2026年第四季度）",
        expect=[
            "2026年第四季度一车间采纳的合理化建议，按创效排序（第 1/1 页，共 3 条）",
            "1. JY-2026-",
            "空压机余热回收",
            "一车间　匿名　创效 12.35 万元　附议 0 人",
            "甲班　李娜　创效 2000 元",
            "车间照明分区控制",
            "创效 待核定",
            "请回复要评奖的建议序号（回复“完成”结束）",
        ],
        absent=[HOSTILE_NAME, "乙班"],
    )


def test_the_chair_awards_the_quarter_and_publishes_the_result(
    bot: Bot, db: SessionFactory, ideas: dict[str, int]
) -> None:
    chair = Chat(bot, key="chair")
    open_quarter(chair)
    chair.send("1", expect=["空压机余热回收", "请选择奖项", "金点子", "银点子", "鼓励奖", "不评"])
    chair.press("金点子", expect="请输入奖金金额")
    chair.send("0.1万", expect=["已记下", "金点子，奖金 1000 元", "拟评：金点子，奖金 1000 元", "已选 1 条"])
    chair.send("2", expect="工具架改进")
    chair.send("鼓励奖", expect="请输入奖金金额")
    chair.send("500元", expect="已选 2 条，奖金合计 1500 元")
    # Second thoughts: 200 is enough for a tool rack.
    chair.send("2")
    chair.send("3")
    chair.send("200", expect=["拟评：鼓励奖，奖金 200 元", "已选 2 条，奖金合计 1200 元"])
    chair.send(
        "完成",
        expect=[
            "2026年第四季度一车间合理化建议评奖：",
            "空压机余热回收：金点子，奖金 1000 元",
            "工具架改进：鼓励奖，奖金 200 元",
            "共 2 条，奖金合计 1200 元。",
            "确认后评奖结果将记入各条建议，并通知提出人。",
        ],
    )
    preview = chair.press(
        "确认",
        expect=[
            "评奖结果已保存：2 条建议获奖，奖金合计 1200 元。提出人会收到通知。",
            "发布前请核对，会员收到的通知是这样的：",
            "【2026年第四季度合理化建议评比结果】",
            "将在“通知公告”发给一车间的 4 名会员。",
        ],
    )
    assert chair.buttons() == ["确认发布", "取消"]
    chair.press(
        "确认发布",
        expect=["2026年第四季度评比结果已在“通知公告”发布，将发给 4 名会员。", "请选择要办理的事项"],
    )

    with db() as session:
        awarded = {s.id: (s.award, s.prize_fen) for s in session.exec(select(Suggestion)).all()}
        assert awarded[ideas["heat"]] == (Award.GOLD, 100_000)
        assert awarded[ideas["tools"]] == (Award.ENCOURAGEMENT, 20_000)
        assert awarded[ideas["lights"]] == (None, None)
        pushed = session.exec(select(Outbox).where(Outbox.topic == UPDATE_TOPIC)).all()
        assert {p.subject_id for p in pushed if p.params.get("event")} >= {ideas["heat"], ideas["tools"]}
        [notice] = session.exec(select(Notice)).all()
        assert notice.category is NoticeCategory.NOTICE
        assert notice.title == "2026年第四季度合理化建议评比结果"
        assert notice.body in preview  # what the chair read is what the members get
        assert "空压机余热回收（一车间，匿名）" in notice.body
        assert "乙班" not in notice.body
        assert HOSTILE_NAME not in notice.body
        assert notice.recipient_count == 4
        assert (
            len(session.exec(select(NoticeRecipient).where(NoticeRecipient.notice_id == notice.id)).all())
            == 4
        )


def test_the_appraisal_is_offered_to_the_chair_only(bot: Bot, ideas: dict[str, int]) -> None:
    committee = Chat(bot, key="committee")
    assert "季度评比" not in committee.menu()
    committee.send("季度评比", expect="抱歉，季度评比由工会主席负责。")
    chair = Chat(bot, key="chair")
    assert "季度评比" in chair.menu()


def test_wrong_answers_are_explained_and_asked_again(bot: Bot, ideas: dict[str, int]) -> None:
    chair = Chat(bot, key="chair")
    chair.send("评比", expect="请选择要评比的季度")
    chair.send("明年", expect=["没看懂这个季度", "2026Q3"])
    chair.send("2027Q1", expect="2027年第一季度还没有开始")
    chair.send("2026年第四季度", expect="按创效排序")
    chair.send("完成", expect="还没有选择要评奖的建议")
    chair.send("9", expect="没有序号为 9 的建议，请回复 1 到 3 之间的数字。")
    chair.send("下一页", expect="已经是最后一页了。")
    chair.send("2")
    chair.send("银点子")
    chair.send("很多", expect="请输入奖金金额，例如 500、500元 或 0.05万")
    chair.send("-5", expect="请输入奖金金额")
    chair.send("1.234", expect="金额最多保留两位小数（精确到分）")
    chair.send("返回", expect="请选择奖项")
    chair.send("不评", expect=["好的", "不评奖", "请回复要评奖的建议序号"], absent=["拟评"])
    chair.send("取消", expect="已取消")


def test_a_quarter_without_adopted_ideas_says_so(bot: Bot, ideas: dict[str, int]) -> None:
    chair = Chat(bot, key="chair")
    chair.send("季评比")
    chair.press(
        "上季度（2026年第三季度）", expect="2026年第三季度一车间没有采纳的合理化建议，暂时没有可以评比的。"
    )


def test_a_change_by_another_cadre_meanwhile_saves_nothing(
    bot: Bot, db: SessionFactory, ideas: dict[str, int]
) -> None:
    chair = Chat(bot, key="chair")
    open_quarter(chair)
    chair.send("1")
    chair.send("金点子")
    chair.send("1000")
    chair.send("3")  # 车间照明分区控制: no effect recorded yet
    chair.send("银点子")
    chair.send("500")
    with db() as session:
        # Meanwhile the committee member records that the lighting idea is in place.
        lights = session.get(Suggestion, ideas["lights"])
        assert lights is not None
        by = session.exec(select(Member).where(Member.employee_no == "C2")).one()
        started = start_implementation(
            session,
            actor=by,
            suggestion_id=lights.id or 0,
            expected_version=lights.version,
            started_on=POLICY.today(NOW),
            notes="已安装",
            policy=POLICY,
            now=NOW,
        )
        record_effect(
            session,
            actor=by,
            suggestion_id=lights.id or 0,
            expected_version=started.version,
            value_fen=300_000,
            implemented_on=POLICY.today(NOW),
            notes="省电",
            policy=POLICY,
            now=NOW,
        )
    chair.send("完成")
    chair.press(
        "确认",
        expect=[
            "车间照明分区控制”未能评奖：这条建议刚刚被其他干部处理过",
            "本次评奖没有保存。这一条已从选择中去掉，请核对后重新选择。",
            "拟评：金点子，奖金 1000 元",
            "创效 3000 元",
        ],
    )
    with db() as session:
        assert all(s.award is None for s in session.exec(select(Suggestion)).all())
    chair.send("完成", expect="共 1 条，奖金合计 1000 元")
    chair.press("确认", expect="评奖结果已保存：1 条建议获奖")
    chair.press("取消", expect="好的，暂不发布。")
    # Later: the awarded idea cannot be awarded twice, and the result can still be published.
    chair.send("季度评比")
    chair.send(
        "本季度", expect=["已评：金点子，奖金 1000 元", "回复“发布”把这个季度已评出的结果发布给会员。"]
    )
    chair.send("1", expect="已经评为“金点子”了，不能重复评奖。")
    chair.send("发布", expect=["发布前请核对", "将在“通知公告”发给一车间的 4 名会员。"])
    chair.send("是", expect="将发给 4 名会员")


def test_a_chair_reading_english_publishes_in_the_unions_language(
    bot: Bot, db: SessionFactory, ideas: dict[str, int]
) -> None:
    with db() as session:
        chair_member = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        set_member_locale(session, member=chair_member, locale="en")
    chair = Chat(bot, key="chair")
    chair.send("appraisal", expect="Which quarter are you appraising?")
    chair.press(
        "This quarter (Q4 2026)",
        expect=["Suggestions 一车间 adopted in Q4 2026", "一车间 · Anonymous · value 12.35 × 10,000 yuan"],
    )
    chair.send("1")
    chair.press("Golden Idea")
    chair.send("800", expect="Noted:")
    chair.send("done", expect="prize money in all: 800 yuan")
    # The preview shows the notice as stored, in the union's language.
    chair.press("Confirm", expect=["Awards saved: 1 suggestion awarded", "【金点子】1 条"])
    chair.send("1", expect="go to 4 members")
    with db() as session:
        [notice] = session.exec(select(Notice)).all()
        # Every member reads the notice as stored: in the union's default language, zh_CN.
        assert notice.title == "2026年第四季度合理化建议评比结果"
        assert "【金点子】1 条" in notice.body
        assert "（一车间，匿名），创效 12.35 万元，奖金 800 元" in notice.body


@pytest.mark.parametrize(
    ("typed", "quarter"),
    [
        ("本季度", (2026, 4)),
        ("上季度", (2026, 3)),
        ("上个季度", (2026, 3)),
        ("2026Q3", (2026, 3)),
        ("２０２６ｑ２", (2026, 2)),
        ("2025-Q4", (2025, 4)),
        ("Q1 2026", (2026, 1)),
        ("2026年第四季度", (2026, 4)),
        ("2026年三季度", (2026, 3)),
        ("第二季度", (2026, 2)),
        ("q2", (2026, 2)),
        ("last quarter", (2026, 3)),
        ("明年", None),
        ("2026Q5", None),
        ("第五季度", None),
    ],
)
def test_quarters_are_read_as_people_write_them(typed: str, quarter: tuple[int, int] | None) -> None:
    assert parse_quarter(typed, today=date(2026, 12, 28)) == quarter


def test_a_chair_of_two_workshops_picks_the_one_to_appraise(
    bot: Bot, db: SessionFactory, ideas: dict[str, int]
) -> None:
    with db() as session:
        both = make_member(
            session,
            employee_no="C9",
            name="孙主席",
            roles=[(Role.CHAIR, "厂工会/一车间"), (Role.CHAIR, "厂工会/二车间")],
        )
        bind(session, both, key="both")
    chair = Chat(bot, key="both")
    chair.send("季度评比", expect=["您负责多个单位，请选择要评比的单位", "厂工会/一车间", "厂工会/二车间"])
    chair.send("2", expect="请选择要评比的季度")
    chair.press("本季度（2026年第四季度）", expect="2026年第四季度二车间没有采纳的合理化建议")
    chair.send("季度评比")
    chair.send("1")
    chair.send("本季度", expect="2026年第四季度一车间采纳的合理化建议")


def test_a_single_candidate_asks_for_1_not_1_to_1(
    bot: Bot, db: SessionFactory, ideas: dict[str, int]
) -> None:
    with db() as session:
        chair = make_member(session, employee_no="C8", name="钱主席", roles=[(Role.CHAIR, "厂工会/二车间")])
        bind(session, chair, key="second")
        proposer = session.exec(select(Member).where(Member.employee_no == "2001")).one()
        adopt(session, chair, proposer, datetime(2026, 10, 8, 2, tzinfo=UTC), title="叉车充电区加装排风")
    second = Chat(bot, key="second")
    second.send("季度评比")
    second.press("本季度（2026年第四季度）", expect="共 1 条")
    second.send("7", expect="没有序号为 7 的建议，请回复 1。")


def test_publishing_shows_the_notice_first_without_values_nobody_verified(
    bot: Bot, db: SessionFactory, ideas: dict[str, int]
) -> None:
    """Issue 14, item 14: 发布 sent at once and said 创效 待核定 in public."""
    chair = Chat(bot, key="chair")
    open_quarter(chair)
    chair.send("3", expect=["车间照明分区控制", "注意：这条建议还没有实施完成，效果尚未核定。", "请选择奖项"])
    chair.press("鼓励奖")
    chair.send("200")
    chair.send("1", absent=["注意：这条建议还没有实施完成"])  # 空压机余热回收 is in place
    chair.press("金点子")
    chair.send("1000")
    chair.send(
        "完成",
        expect=[
            "空压机余热回收：金点子，奖金 1000 元",
            "车间照明分区控制：鼓励奖，奖金 200 元（尚未实施完成）",
        ],
    )
    chair.press("确认", expect=["评奖结果已保存：2 条建议获奖", "发布前请核对"])
    chair.press("取消", expect="好的，暂不发布。")
    with db() as session:
        assert session.exec(select(Notice)).all() == []

    chair.send("季度评比")
    chair.send("本季度")
    preview = chair.send(
        "发布",
        expect=[
            "发布前请核对，会员收到的通知是这样的：",
            "【2026年第四季度合理化建议评比结果】",
            "空压机余热回收（一车间，匿名），创效 12.35 万元，奖金 1000 元",
            "车间照明分区控制（甲班，李娜），奖金 200 元",
            "将在“通知公告”发给一车间的 4 名会员。",
            "确认无误就发布；要改动请回复“取消”。",
        ],
        absent=["待核定"],
    )
    with db() as session:
        assert session.exec(select(Notice)).all() == []  # nothing goes out on 发布 alone
    chair.send("取消", expect=["好的，暂不发布。", "请选择要办理的事项"])
    chair.send("季度评比")
    chair.send("本季度")
    chair.send("发布")
    chair.press("确认发布", expect="2026年第四季度评比结果已在“通知公告”发布，将发给 4 名会员。")
    with db() as session:
        [notice] = session.exec(select(Notice)).all()
        assert notice.body in preview
        assert "待核定" not in notice.body


def test_a_union_may_award_only_what_is_implemented(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, ideas: dict[str, int]
) -> None:
    config = CoreConfig(policies={SuggestionPolicy: SuggestionPolicy(award_requires_implementation=True)})
    strict = Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)
    chair = Chat(strict, key="chair")
    open_quarter(chair)
    chair.send(
        "3",
        expect=[
            "这条建议还没有实施完成。按本会规定，实施完成、效果核定后才能评奖。",
            "请回复要评奖的建议序号",
        ],
        absent=["请选择奖项"],
    )
    chair.send("2", expect="请选择奖项")  # 工具架改进 is in place
    with db() as session:
        assert all(s.award is None for s in session.exec(select(Suggestion)).all())
