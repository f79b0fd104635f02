"""排行榜 as members, cadres and the chair meet it: the latest digest, a quarter's draft published."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from handlers.core.router import Bot
from handlers.rankings.pushes import run_monthly, run_quarterly
from models.db import SessionFactory
from models.notices import Notice, NoticeCategory
from models.rankings.digests import find_digest
from models.rankings.periods import DigestPeriod
from models.rankings.tables import DigestKind, DigestStatus
from tests.handlers.rankings.conftest import CONFIG, DECEMBER_2, build_union, chat_as

NOVEMBER_2 = DECEMBER_2.replace(month=11)
JANUARY_2 = DECEMBER_2.replace(year=2027, month=1)


def seed(db: SessionFactory, *, months: bool = True, quarter: bool = False) -> None:
    with db() as session:
        build_union(session)
    with db() as session:
        if months:
            run_monthly(CONFIG, session, now=NOVEMBER_2)  # October, for "what moved"
            run_monthly(CONFIG, session, now=DECEMBER_2)
        if quarter:
            run_quarterly(CONFIG, session, now=JANUARY_2)


def test_before_any_digest_the_member_is_told_when_one_comes(db: SessionFactory, ranking_bot: Bot) -> None:
    with db() as session:
        build_union(session)
    member = chat_as(ranking_bot, "1001")
    member.send("排行榜", expect="还没有发布过排名。每月初会推送上月的单位排名。")


def test_a_member_sees_their_units_place_what_moved_it_and_the_best(
    db: SessionFactory, ranking_bot: Bot
) -> None:
    seed(db)
    member = chat_as(ranking_bot, "1001")
    member.send(
        "排行",
        expect=[
            "【排行榜】2026年11月",
            "您所在的单位：一车间/甲班",
            "在同级 3 个单位中排第 1 名：93.3 分，标杆，五星。",
            "与上期相比：上升 1 名，得分 +93.3。",
            "变化最大的是：每百人建议数 +100.0。",
            "同级前 3 名：\n1. 一车间/甲班　93.3 分，标杆，五星\n2. 二车间/丙班　40.9 分，不达标，二星\n"
            "3. 一车间/乙班　33.3 分，不达标，一星",
            "金点子积分榜：王五 13 分、张一 5 分。",
        ],
        absent=["李四", "没看懂", "还没有开通"],  # the anonymous proposer is never named
    )
    [reply] = member.last
    assert reply.image is not None
    assert Path(reply.image.path).read_bytes().startswith(b"\x89PNG")
    assert reply.image.mime_type == "image/png"


def test_a_unit_without_a_score_says_it_was_left_out(db: SessionFactory, ranking_bot: Bot) -> None:
    seed(db)
    member = chat_as(ranking_bot, "1005")  # 丙班: nothing handed in, so no adoption rate
    member.send(
        "排名",
        expect=[
            "在同级 3 个单位中排第 2 名：40.9 分，不达标，二星。",
            "本单位未计入：建议采纳率（暂无数据），其权重已由其余各项按比例分摊。",
        ],
    )


def test_a_cadre_also_gets_the_table_of_their_subtrees_level(db: SessionFactory, ranking_bot: Bot) -> None:
    seed(db)
    committee = chat_as(ranking_bot, "C1")  # 一车间's committee member, who sits in 厂工会
    seen = committee.send(
        "排行榜",
        expect=[
            "您所在的单位不参加本期排名。",
            "【排行榜】2026年11月　一车间下属单位",
            "名次为在同级全部 3 个单位中的名次。",
            "1. 一车间/甲班　93.3 分，标杆，五星\n3. 一车间/乙班　33.3 分，不达标，一星",
        ],
    )
    assert "丙班" not in seen.split("一车间下属单位", 1)[1]
    chair = chat_as(ranking_bot, "C0")
    chair.send(
        "排行榜",
        expect=["厂工会下属单位", "1. 一车间　90.0 分，标杆，五星\n2. 二车间　47.7 分，不达标，二星"],
    )
    assert all(reply.image is not None for reply in chair.last[1:])


def test_the_chair_reviews_the_quarters_draft_and_publishes_it_as_a_notice(
    db: SessionFactory, ranking_bot: Bot
) -> None:
    seed(db, months=False, quarter=True)
    member = chat_as(ranking_bot, "1001")
    member.send("排行榜", expect="还没有发布过排名", absent=["草稿"])  # a draft is the chair's alone
    chair = chat_as(ranking_bot, "C0")
    chair.send("排行榜", expect="2026年第4季度的排名草稿已生成，等待您审阅发布。")
    chair.press(
        "审阅季度排名草稿",
        expect=[
            "以下是将以通知发给全体会员的内容：",
            "2026年第4季度单位排名",
            "第 1 级单位（共 2 个）：\n1. 一车间",
            "第 2 级单位（共 3 个）：",
        ],
    )
    chair.press(
        "发布给全体会员", expect="2026年第4季度的排名已发布，将以通知发给 9 位会员，并保留在“排行榜”中。"
    )
    with db() as session:
        digest = find_digest(session, DigestPeriod(2026, DigestKind.QUARTER, 4))
        assert digest is not None
        assert digest.status is DigestStatus.PUBLISHED
        notice = session.get(Notice, digest.notice_id)
        assert notice is not None
        assert notice.title == "2026年第4季度单位排名"
        assert notice.category is NoticeCategory.NOTICE
        assert notice.attachment_ref is not None
        assert Path(notice.attachment_ref).is_file()
    chair.send("审阅季度排名", expect="没有待发布的季度排名。")
    member.send("排行榜", expect=["【排行榜】2026年第4季度", "在同级 3 个单位中排第 1 名"])


def test_only_the_unions_chair_may_publish(db: SessionFactory, ranking_bot: Bot, session: Session) -> None:
    seed(db, months=False, quarter=True)
    committee = chat_as(ranking_bot, "C1")
    committee.send("审阅季度排名", absent=["以下是将以通知发给全体会员的内容"])
    committee.send("发布季度排名", absent=["已发布"])
    assert session.exec(select(Notice)).first() is None
