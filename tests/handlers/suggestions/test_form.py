"""提建议 and 我的建议 in conversation: file an idea, back a similar one, follow it to an answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import col, select

from handlers.core.i18n import Catalogues
from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from handlers.suggestions.demo import SUGGESTIONS as DEMO_SUGGESTIONS
from handlers.suggestions.mine import render_update
from models.db import SessionFactory
from models.members import Member
from models.outbox import Outbox
from models.roles import Role
from models.suggestions import (
    Suggestion,
    SuggestionDraft,
    SuggestionPhoto,
    SuggestionPolicy,
    SuggestionStatus,
    SuggestionSupport,
    merge_suggestion,
    register_suggestion,
    reply_to_proposer,
    submit_suggestion,
    support_suggestion,
)
from tests.factories import HOSTILE_BODY, bind, make_member
from tests.handlers.conftest import Chat

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, a Monday
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHOTO = Media(MediaKind.PHOTO, "data/media/telegram/spot.jpg", "image/jpeg", 120_000)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def union(db: SessionFactory, clock: time_machine.Traveller) -> None:
    """一车间 with its chair, a member who writes in 甲班, and one in 二车间 who filed an idea before."""
    with db() as session:
        cadre = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, cadre, key="cadre")
        member = make_member(session, employee_no="1001", name="李娜")
        bind(session, member, key="member")
        other = make_member(session, employee_no="2001", name="周工", unit="厂工会/二车间")
        bind(session, other, key="other")
        submit_suggestion(
            session,
            actor=other,
            draft=SuggestionDraft(
                category="节能降耗",
                title="空压机余热回收用于浴室热水",
                measure="在空压机出口加装换热器，给职工浴室供热水。",
            ),
            policy=SuggestionPolicy(),
            now=NOW,
        )


def member_chat(bot: Bot) -> Chat:
    return Chat(bot, key="member")


def test_a_member_files_a_suggestion_with_a_photo_and_gets_a_number_and_dates(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    chat = member_chat(bot)
    chat.send("提建议", expect=["请选择建议类别", "生产技术", "节能降耗", "生活福利"])
    chat.send("安全生产", expect="请用一句话概括您的建议（不超过 40 个字）")
    chat.send("叉车通道加装凸面镜", expect="请写下发现的问题和您建议的做法（不超过 2000 个字）")
    chat.send(HOSTILE_BODY, expect="预期能带来什么效益")
    chat.send("减少转弯处碰撞隐患", expect="估计每年能创效或节约多少元")
    chat.send("0.5万", expect="可以发一张现场照片")
    chat.send_media(PHOTO, expect="还可以再发一张")
    chat.send("跳过", expect="评审时是否显示您的姓名")
    chat.send(
        "实名",
        expect=["请核对您的建议", "类别：安全生产", "预计创效：5000.00 元", "照片：1 张", "提交方式：实名"],
    )
    seen = chat.send(
        "确认", expect=["您的建议已提交，编号 JY-2026-", "11月26日 前登记", "12月17日 前作出是否采纳的决定"]
    )
    assert "请选择要办理的事项" in seen
    with db() as session:
        suggestion = session.exec(select(Suggestion).where(Suggestion.title == "叉车通道加装凸面镜")).one()
        assert suggestion.number is not None
        assert suggestion.number in seen
        assert suggestion.benefit_fen == 500_000
        assert not suggestion.anonymous
        photos = session.exec(
            select(SuggestionPhoto).where(SuggestionPhoto.suggestion_id == suggestion.id)
        ).all()
        assert [photo.ref for photo in photos] == [PHOTO.ref]


def test_a_similar_suggestion_is_offered_and_backing_it_files_nothing_new(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    chat = member_chat(bot)
    chat.send("金点子", expect="请选择建议类别")
    chat.send("2")
    chat.send(
        "利用空压机余热给浴室供热水",
        expect=[
            "已经有会员提过相似的建议",
            "空压机余热回收用于浴室热水",
            "0 人附议",
            "回复“附议1”即可",
            "请写下发现的问题和您建议的做法",
            "附议第 1 条",
        ],
        absent=["周工"],
    )
    chat.press("附议第 1 条", expect=["已为 JY-2026-", "附议，感谢您的支持"])
    with db() as session:
        assert len(session.exec(select(Suggestion)).all()) == 1
        assert len(session.exec(select(SuggestionSupport)).all()) == 1


def test_backing_by_typing_and_a_number_that_is_not_listed(db: SessionFactory, bot: Bot, union: None) -> None:
    chat = member_chat(bot)
    chat.send("提建议")
    chat.send("节能降耗")
    chat.send("利用空压机余热给浴室供热水", expect="已经有会员提过相似的建议")
    chat.send("附议3", expect=["要附议哪一条？请回复“附议”加上面的序号，例如“附议1”。", "请写下发现的问题"])
    chat.send("附议第一条", expect="附议，感谢您的支持")
    with db() as session:
        assert len(session.exec(select(Suggestion)).all()) == 1
        assert len(session.exec(select(SuggestionSupport)).all()) == 1


def test_on_wechat_a_typed_number_picks_the_numbered_hint(db: SessionFactory, bot: Bot, union: None) -> None:
    """WeChat shows the hint's button as "1. 附议第 1 条": typing 1 backs it, it is no measure of "1"."""
    chat = member_chat(bot)
    chat.send("提建议")
    chat.send("节能降耗")
    chat.send("利用空压机余热给浴室供热水", expect="附议第 1 条")
    chat.send("2", expect="要附议哪一条？")
    chat.send("１", expect="附议，感谢您的支持")
    with db() as session:
        assert len(session.exec(select(Suggestion)).all()) == 1


def test_a_member_who_reads_past_the_hint_and_goes_on_typing_files_their_own(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    chat = member_chat(bot)
    chat.send("提建议")
    chat.send("节能降耗")
    chat.send("利用空压机余热给浴室供热水", expect="已经有会员提过相似的建议")
    chat.send(
        "夏天把空压机余热接到食堂洗碗间，浴室改用太阳能。",
        expect="预期能带来什么效益",
        absent=["已经有会员提过相似的建议"],  # the same one is not offered twice
    )
    chat.send("跳过", expect="估计每年")
    chat.send("跳过", expect="现场照片")
    chat.send("跳过", expect="是否显示您的姓名")
    chat.send("匿名", expect=["提交方式：匿名", "问题和建议措施：夏天把空压机余热接到食堂洗碗间"])
    chat.send("1", expect=["您的建议已提交", "您选择了匿名"])
    with db() as session:
        suggestions = session.exec(select(Suggestion).order_by(col(Suggestion.id))).all()
        assert len(suggestions) == 2
        assert suggestions[1].anonymous
        assert suggestions[1].measure.startswith("夏天把空压机余热")


def test_bad_answers_are_refused_kindly_and_asked_again(db: SessionFactory, bot: Bot, union: None) -> None:
    chat = member_chat(bot)
    chat.send("提建议")
    chat.send("9", expect="没有这个选项，请回复 1 到 6 之间的数字")
    chat.send("生产技术")
    chat.send("字" * 41, expect=["内容太长了：最多 40 个字，您发了 41 个字", "请用一句话概括"])
    chat.send("冲压线加装光栅保护")
    chat.send("措" * 2001, expect=["最多 2000 个字，您发了 2001 个字", "请写下发现的问题"])
    chat.send("冲压线人工上料时容易伤手，建议加装光电保护。")
    chat.send("跳过")
    chat.send("很多钱", expect=["请输入金额", "估计每年"])
    chat.send("-5", expect="金额请填 0 到")
    chat.send("跳过", expect="现场照片")
    chat.send_media(
        Media(MediaKind.PHOTO, "x.gif", "image/gif", 1000), expect="只能接收 JPG 或 PNG 格式的照片"
    )
    chat.send_media(
        Media(MediaKind.PHOTO, "big.jpg", "image/jpeg", 11 * 1024 * 1024), expect="照片太大了：最大 10 MB"
    )
    chat.send("返回", expect="估计每年")
    chat.send("取消", expect="已取消")
    with db() as session:
        assert len(session.exec(select(Suggestion)).all()) == 1


def test_my_suggestions_show_the_status_the_opinion_and_the_reply(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    with db() as session:
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        cadre = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        suggestion = submit_suggestion(
            session,
            actor=member,
            draft=SuggestionDraft(
                category="生活福利", title="食堂增加夜班热饭", measure="夜班职工吃不上热饭。", anonymous=True
            ),
            policy=SuggestionPolicy(),
            now=NOW,
        )
        suggestion = register_suggestion(
            session,
            actor=cadre,
            suggestion_id=suggestion.id or 0,
            expected_version=suggestion.version,
            category="生活福利",
            department="后勤科",
            reviewer_id=None,
            policy=SuggestionPolicy(),
            now=NOW,
        )
        reply_to_proposer(
            session,
            actor=cadre,
            suggestion_id=suggestion.id or 0,
            expected_version=suggestion.version,
            text="已请后勤科测算夜班人数",
            now=NOW,
        )
        number = suggestion.number
    assert number is not None
    chat = member_chat(bot)
    chat.send("我的建议", expect=["我的建议（第 1/1 页，共 1 条）", number, "状态：已登记，待初评"])
    chat.send(
        "1",
        expect=[
            f"【我的建议】{number}",
            "应在 12月14日 前作出决定",
            "工会答复：已请后勤科测算夜班人数",
            "已登记，类别：生活福利，承办部门：后勤科",
            "提交方式：匿名",
            "公开我的姓名",
        ],
    )
    chat.press("公开我的姓名", expect="不能再改回匿名")
    chat.send("否", expect="好的，这条建议仍然匿名")
    chat.press("公开我的姓名")
    chat.send("是", expect="已公开您的姓名")
    with db() as session:
        stored = session.exec(select(Suggestion).where(Suggestion.number == number)).one()
        assert not stored.anonymous
    other = Chat(bot, key="other")
    other.send("我的建议", expect="JY-2026-", absent=[number])


def test_a_member_without_suggestions_is_told_how_to_file_one(bot: Bot, union: None) -> None:
    Chat(bot, key="member").send("我的建议", expect="您还没有提过建议。回复“提建议”")


def test_each_step_reaches_the_proposer_in_their_language(
    db: SessionFactory, union: None, catalogues: Catalogues
) -> None:
    with db() as session:
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        cadre = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        suggestion = submit_suggestion(
            session,
            actor=member,
            draft=SuggestionDraft(
                category="其他", title="厂区路灯", measure="东门路灯坏了三盏。", anonymous=True
            ),
            policy=SuggestionPolicy(),
            now=NOW,
        )
        reply_to_proposer(
            session,
            actor=cadre,
            suggestion_id=suggestion.id or 0,
            expected_version=suggestion.version,
            text="已报修",
            now=NOW,
        )
        row = session.exec(select(Outbox).where(Outbox.member_id == member.id)).one()
        push = render_update(session, row, catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert "“厂区路灯”有新进展" in push.reply.text
        assert "答复：已报修" in push.reply.text
        english = render_update(session, row, catalogues.get("en"), SHANGHAI)
        assert english is not None
        assert "Reply: 已报修" in english.reply.text
        assert english.title == "Progress on your suggestion"
        assert session.get(Suggestion, suggestion.id).status is SuggestionStatus.SUBMITTED  # type: ignore[union-attr]


@pytest.fixture
def demo_ideas(db: SessionFactory, clock: time_machine.Traveller, numbered_from_one: None) -> None:
    """The demo union's four suggestions (handlers.suggestions.demo), numbered from JY-2026-000001."""
    with db() as session:
        for n, (_no, _days, category, title, measure, anonymous, _reached) in enumerate(DEMO_SUGGESTIONS):
            proposer = make_member(
                session, employee_no=f"21{n:02d}", name=f"会员{n}", unit="厂工会/一车间/乙班"
            )
            draft = SuggestionDraft(category=category, title=title, measure=measure, anonymous=anonymous)
            submit_suggestion(session, actor=proposer, draft=draft, policy=SuggestionPolicy(), now=NOW)
        newcomer = make_member(session, employee_no="2199", name="新会员", unit="厂工会/一车间/甲班")
        bind(session, newcomer, key="newcomer")


def test_a_near_copy_of_the_measure_is_hinted_whatever_the_title_says(
    db: SessionFactory, bot: Bot, demo_ideas: None
) -> None:
    """Issue 14, item 12: title and measure scored together came to 0.37, under the 0.40 threshold."""
    chat = Chat(bot, key="newcomer")
    chat.send("提建议")
    chat.send("安全生产")
    chat.send("叉车转弯的地方装个镜子", expect="请写下发现的问题", absent=["已经有会员提过相似的建议"])
    chat.send(
        "二号库房出口转弯看不见，叉车容易撞人，建议装凸面镜",
        expect=[
            "已经有会员提过相似的建议：",
            "1. JY-2026-000001“叉车通道转弯处加装凸面镜”（待登记，0 人附议）",
            "预期能带来什么效益",
            "附议第 1 条",
        ],
        absent=["夜班增加热饭窗口", "空压机余热回收用于浴室热水", "冲压线加装光电保护"],
    )
    chat.send("附议1", expect="已为 JY-2026-000001“叉车通道转弯处加装凸面镜”附议")
    with db() as session:
        assert len(session.exec(select(Suggestion)).all()) == 4
        assert [row.suggestion_id for row in session.exec(select(SuggestionSupport)).all()] == [1]


def test_my_suggestions_list_what_i_backed_and_where_a_merged_one_went(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    """Issue 14, item 11: backed suggestions were missing, and a merged one showed only 已合并."""
    chat = member_chat(bot)
    chat.send("提建议")
    chat.send("节能降耗")
    chat.send("利用空压机余热给浴室供热水", expect="已经有会员提过相似的建议")
    chat.send("附议1", expect="附议，感谢您的支持")
    with db() as session:
        backed = session.exec(select(Suggestion)).one()
        number, title = backed.number, backed.title
        shy = make_member(session, employee_no="2002", name="吴工", unit="厂工会/二车间")
        hidden = submit_suggestion(
            session,
            actor=shy,
            draft=SuggestionDraft(
                category="其他", title="厂区路灯", measure="东门路灯坏了三盏。", anonymous=True
            ),
            policy=SuggestionPolicy(),
            now=NOW,
        )
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        support_suggestion(session, actor=member, suggestion_id=hidden.id or 0, now=NOW)
        lamps = f"{hidden.number} 厂区路灯"
    chat.send(
        "我的建议",
        expect=["我的建议（第 1/1 页，共 2 条）", "【我附议的建议】共 2 条", f"{number} {title}", "厂区路灯"],
        absent=["您还没有提过建议", "【我提的建议】"],
    )
    chat.press(
        f"{number} {title}",
        expect=[
            f"【我附议的建议】{number}",
            "提出人：周工",
            "状态：待登记",
            "问题和建议措施：在空压机出口加装换热器",
            "附议：1 人",
            "您在 11月23日 附议了这条建议。",
        ],
        absent=["公开我的姓名"],
    )
    chat.press("返回列表")
    chat.press(lamps, expect=["【我附议的建议】", "提出人：匿名"], absent=["吴工"])

    # Her own idea, merged by the cadre into the one she backed.
    with db() as session:
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        cadre = make_member(
            session, employee_no="C0", name="厂主席", unit="厂工会", roles=[(Role.CHAIR, "厂工会")]
        )
        own = submit_suggestion(
            session,
            actor=member,
            draft=SuggestionDraft(
                category="节能降耗", title="浴室热水不够用", measure="下夜班洗澡没有热水。"
            ),
            policy=SuggestionPolicy(),
            now=NOW,
        )
        merge_suggestion(
            session,
            actor=cadre,
            suggestion_id=own.id or 0,
            expected_version=own.version,
            into_number=str(backed.id),
            note="与周工的建议是同一件事，合并办理。",
            policy=SuggestionPolicy(),
            now=NOW,
        )
        own_number = own.number
    chat.send(
        "我的建议",
        expect=[
            "我的建议（第 1/1 页，共 3 条）",
            "【我提的建议】共 1 条",
            f"1. {own_number} 浴室热水不够用",
            f"状态：已合并到 {number}“{title}”",
            "【我附议的建议】共 2 条",
        ],
    )
    chat.send(
        "1",
        expect=[
            f"【我的建议】{own_number}",
            f"状态：已合并到 {number}“{title}”",
            "工会答复：与周工的建议是同一件事，合并办理。",
            f"与 {number} 合并办理",
            f"查看 {number}",
        ],
    )
    chat.press(f"查看 {number}", expect=[f"【我附议的建议】{number}", "提出人：周工", "状态：待登记"])
    # A number typed at the list opens the suggestion too.
    chat.send("我的建议")
    chat.send(str(own_number), expect=f"【我的建议】{own_number}")


def test_a_member_only_reads_suggestions_they_wrote_or_backed(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    with db() as session:
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        submit_suggestion(
            session,
            actor=member,
            draft=SuggestionDraft(category="其他", title="更衣室换气", measure="夏天更衣室闷热。"),
            policy=SuggestionPolicy(),
            now=NOW,
        )
        foreign = session.exec(
            select(Suggestion).where(Suggestion.title == "空压机余热回收用于浴室热水")
        ).one()
    chat = member_chat(bot)
    chat.send("我的建议", expect="共 1 条", absent=["空压机余热回收用于浴室热水"])
    chat.send(str(foreign.number), expect="请回复选项前的数字", absent=["空压机余热回收用于浴室热水"])
