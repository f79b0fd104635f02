"""建议办理 in conversation: the cadre's queue, and every step from registration to 办结."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from sqlmodel import Session, col, select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.members import Member
from models.outbox import Outbox
from models.roles import Role
from models.suggestions import (
    PhotoRef,
    Suggestion,
    SuggestionDraft,
    SuggestionPolicy,
    SuggestionStatus,
    decide_suggestion,
    first_review,
    register_suggestion,
    submit_suggestion,
)
from tests.factories import HOSTILE_BODY, bind, make_member
from tests.handlers.conftest import Chat, transcript

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
EARLIER = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)  # registration was due 2026-11-13
POLICY = SuggestionPolicy()
PHOTOS = (PhotoRef("data/media/telegram/pump.jpg", "image/jpeg"), PhotoRef("data/media/telegram/pipe.png"))


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def union(db: SessionFactory, clock: time_machine.Traveller) -> None:
    """一车间 with its chair and a committee member, a member in 甲班, and 二车间 beside it."""
    with db() as session:
        cadre = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, cadre, key="cadre")
        make_member(session, employee_no="C2", name="陈委员", roles=[(Role.COMMITTEE, "厂工会/一车间")])
        member = make_member(session, employee_no="1001", name="李娜")
        bind(session, member, key="member")
        make_member(session, employee_no="2001", name="赵强", unit="厂工会/二车间")
        session.commit()


def member(session: Session, employee_no: str) -> Member:
    return session.exec(select(Member).where(Member.employee_no == employee_no)).one()


def suggest(
    db: SessionFactory,
    *,
    title: str = "空压机余热回收用于浴室",
    employee_no: str = "1001",
    category: str = "节能降耗",
    anonymous: bool = False,
    photos: tuple[PhotoRef, ...] = (),
    now: datetime = NOW,
) -> int:
    """A member's suggestion, handed in through the model (the member's dialog is tested on its own)."""
    with db() as session:
        draft = SuggestionDraft(
            category=category,
            title=title,
            measure=HOSTILE_BODY,
            benefit="每年节约蒸汽费用",
            benefit_fen=12_000_000,
            anonymous=anonymous,
            photos=photos,
        )
        suggestion = submit_suggestion(
            session, actor=member(session, employee_no), draft=draft, policy=POLICY, now=now
        )
        session.commit()
        assert suggestion.id is not None
        return suggestion.id


def registered(db: SessionFactory, suggestion_id: int) -> None:
    with db() as session:
        suggestion = session.get(Suggestion, suggestion_id)
        assert suggestion is not None
        register_suggestion(
            session,
            actor=member(session, "C2"),
            suggestion_id=suggestion_id,
            expected_version=suggestion.version,
            category="安全生产",
            department="安全科",
            reviewer_id=None,
            policy=POLICY,
            now=NOW,
        )
        session.commit()


def test_the_queue_shows_the_cadres_units_overdue_first_with_counts_and_filters(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    late = suggest(db, title="冷却塔风机改变频", now=EARLIER)
    suggest(db, title="食堂增加夜班窗口", category="生活福利")
    suggest(db, title="二车间行车加装限位", employee_no="2001")
    registered(db, suggest(db, title="叉车通道划线"))
    cadre = Chat(bot, key="cadre")
    seen = cadre.send(
        "建议办理",
        expect=[
            "待登记 2 条，待决定 1 条，超期 1 条",
            "全部（第 1/1 页，共 3 条）：",
            f"1. 冷却塔风机改变频（JY-2026-{late:06d}）",
            "待登记　期限：2026-11-13（已超期 10 天）",
            "已登记，待初评　期限：",
            "请选择要办理的建议：",
        ],
        absent=["二车间行车加装限位"],
    )
    assert seen.splitlines()[0] == "待登记 2 条，待决定 1 条，超期 1 条"
    assert seen.index("冷却塔风机改变频") < seen.index("食堂增加夜班窗口")
    assert cadre.buttons()[:3] == ["冷却塔风机改变频", "食堂增加夜班窗口", "叉车通道划线"]

    cadre.press(
        "待决定", expect=["待决定（第 1/1 页，共 1 条）", "1. 叉车通道划线"], absent=["食堂增加夜班窗口"]
    )
    cadre.press("全部")
    cadre.press("按类别筛选", expect="只看哪一类建议？")
    cadre.press("生活福利", expect=["全部 · 生活福利（第 1/1 页，共 1 条）", "1. 食堂增加夜班窗口"])
    cadre.press("待实施", expect=["“待实施 · 生活福利”下没有建议", "待登记 2 条"])
    cadre.press("按类别筛选")
    cadre.press("全部类别", expect="“待实施”下没有建议")
    cadre.send("下一页", expect="已经是最后一页了")


def test_a_member_without_the_role_neither_sees_nor_opens_the_queue(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    suggest(db)
    someone = Chat(bot, key="member")
    someone.send("菜单")
    assert "建议办理" not in someone.buttons()
    someone.send("建议办理", expect="抱歉，您没有使用这项功能的权限。", absent=["空压机余热回收用于浴室"])
    someone.send("/review", expect="抱歉，您没有使用这项功能的权限。")
    assert "建议办理" in Chat(bot, key="cadre").menu()


def test_the_whole_path_from_registration_to_closing(db: SessionFactory, bot: Bot, union: None) -> None:
    suggestion_id = suggest(db, photos=PHOTOS)
    number = f"JY-2026-{suggestion_id:06d}"
    cadre = Chat(bot, key="cadre")
    cadre.send("建议审核")
    cadre.send(
        "1",
        expect=[
            f"【{number}】空压机余热回收用于浴室",
            "类别：节能降耗",
            "单位：厂工会/一车间/甲班",
            "提出人：李娜（工号 1001）",
            "预期效益：每年节约蒸汽费用",
            "预计创效：120000.00 元",
            "附议：0 人",
            "照片：2 张",
            "状态：待登记　期限：2026-11-26",
            "提交建议（李娜）",
            "照片 1/2",
            "照片 2/2",
        ],
    )
    images = [reply.image for reply in cadre.last if reply.image is not None]
    assert [(image.path, image.name) for image in images] == [
        ("data/media/telegram/pump.jpg", "pump.jpg"),
        ("data/media/telegram/pipe.png", "pipe.png"),
    ]
    assert cadre.buttons() == ["登记分类", "合并", "答复提出人", "查看照片", "返回列表"]
    cadre.send("决定", expect=["这条建议目前是“待登记”，不能进行这项操作。", "请选择要办理的事项："])
    cadre.send("随便", expect="请回复选项前的数字")

    cadre.press("登记分类", expect="提出人选的类别是“节能降耗”。请确认或改选类别：")
    cadre.press("节能降耗", expect="请输入承办部门")
    cadre.send("设" * 41, expect=["最多 40 个字", "请输入承办部门"])
    cadre.send("设备科", expect="由哪位干部负责办理？")
    assert cadre.buttons() == ["我自己", "陈委员（C2）"]
    cadre.press(
        "我自己", expect=["请核对登记信息：", "类别：节能降耗", "承办部门：设备科", "承办干部：王主席"]
    )
    cadre.press(
        "确认",
        expect=["已登记，由设备科承办。请在 2026-12-14 前作出采纳与否的决定。", "承办：设备科（王主席）"],
    )
    assert cadre.buttons() == ["初评", "合并", "答复提出人", "查看照片", "返回列表"]

    cadre.press("初评", expect="请写下初评意见")
    cadre.send("思路可行，请设备科测算投入。", expect=["初评意见：思路可行，请设备科测算投入。"])
    cadre.press(
        "确认", expect=["初评意见已记录", "处理意见：思路可行，请设备科测算投入。", "状态：已初评，待决定"]
    )
    assert cadre.buttons() == ["评审", "决定", "合并", "答复提出人", "查看照片", "返回列表"]

    cadre.press("评审", expect="评审认为这条建议可行吗？")
    cadre.press("可行", expect="预计需要投入多少钱")
    cadre.send("一些", expect=["没看懂这个金额", "预计需要投入多少钱"])
    cadre.send("-5", expect=["金额请填 0 到 10000000 元之间的数", "预计需要投入多少钱"])
    cadre.send("12.345", expect=["金额最多保留两位小数", "预计需要投入多少钱"])
    cadre.send("两万块", expect="预计每年能创效多少钱")
    cadre.send("8.6万", expect="请写下评审意见")
    cadre.send(
        "评审组一致认为可行。",
        expect=[
            "可行性：可行",
            "预计投入：20000.00 元",
            "预计效益：86000.00 元",
            "评审意见：评审组一致认为可行。",
        ],
    )
    cadre.press(
        "确认", expect=["评审结果已记录", "状态：已评审，待决定", "可行性：可行", "预计投入：20000.00 元"]
    )
    assert cadre.buttons() == ["决定", "合并", "答复提出人", "查看照片", "返回列表"]

    cadre.press("决定", expect="是否采纳这条建议？")
    cadre.press("采纳", expect="请写明理由，提出人会看到")
    cadre.send("无", expect=["请写明采纳或不采纳的理由：提出人有权知道。", "请写明理由，提出人会看到"])
    cadre.send("投入少、见效快。", expect=["决定：采纳", "理由：投入少、见效快。"])
    cadre.press("确认", expect=["已决定采纳，提出人会收到通知。请在 2027-01-04 前开始实施。"])
    assert cadre.buttons() == ["开始实施", "评奖", "答复提出人", "查看照片", "返回列表"]

    cadre.press("开始实施", expect="哪天开始实施的？")
    cadre.send("明天", expect=["日期不能晚于 2026-11-23", "哪天开始实施的？"])
    cadre.send("11月20日", expect="请简单写下实施情况")
    cadre.send("已安排检修班组施工。", expect=["开始实施：2026-11-20", "实施情况：已安排检修班组施工。"])
    cadre.press("确认", expect=["已记录开始实施", "状态：实施中"])
    assert cadre.buttons() == ["实施效果", "评奖", "答复提出人", "查看照片", "返回列表"]

    cadre.press("实施效果", expect="这条建议创效多少钱")
    cadre.send("很多", expect=["没看懂这个金额", "这条建议创效多少钱"])
    cadre.send("86000元", expect="哪天实施完成的？")
    cadre.send("11月19日", expect=["完成日期不能早于开始实施的日期 2026-11-20。", "哪天实施完成的？"])
    cadre.send("今天", expect="请简单写下实施效果")
    cadre.send("浴室全部改用余热。", expect=["创效：86000.00 元", "完成日期：2026-11-23"])
    cadre.press(
        "确认", expect=["已记录实施效果：创效 86000.00 元。", "状态：已实施", "实施效果：创效 86000.00 元"]
    )
    assert cadre.buttons() == ["评奖", "答复提出人", "办结", "查看照片", "返回列表"]

    cadre.press("办结", expect=["还没有答复提出人，不能办结。请先选择“答复提出人”。", "请选择要办理的事项："])
    with db() as session:
        assert session.get(Suggestion, suggestion_id).status is SuggestionStatus.IMPLEMENTED  # type: ignore[union-attr]

    cadre.press("评奖", expect="评为什么奖？")
    cadre.press("金点子", expect="奖金多少元？")
    cadre.send("500", expect=["奖项：金点子", "奖金：500.00 元"])
    cadre.press("确认", expect=["已评为“金点子”，奖金 500.00 元。", "评奖：金点子，奖金 500.00 元"])
    assert cadre.buttons() == ["答复提出人", "办结", "查看照片", "返回列表"]

    cadre.press("答复提出人", expect="请写下给提出人的答复")
    cadre.send("感谢您的金点子！已在浴室实施，奖金随本月工资发放。", expect="请核对给提出人的答复：")
    cadre.press("确认", expect=["答复已发给提出人。", "答复：感谢您的金点子！"])

    cadre.press("办结", expect=f"确定办结【{number}】空压机余热回收用于浴室吗？")
    cadre.press("是", expect=[f"{number} 已办结。", "“全部”下没有建议"])

    with db() as session:
        done = session.get(Suggestion, suggestion_id)
        assert done is not None
        assert done.status is SuggestionStatus.CLOSED
        assert (done.value_fen, done.prize_fen, done.department) == (8_600_000, 50_000, "设备科")
        proposer = member(session, "1001")
        pushes = session.exec(select(Outbox).where(col(Outbox.member_id) == proposer.id)).all()
        assert len(pushes) == 9  # each of the nine steps after the submission reached the proposer


def test_an_anonymous_suggestion_never_shows_who_wrote_it(db: SessionFactory, bot: Bot, union: None) -> None:
    suggestion_id = suggest(db, anonymous=True)
    cadre = Chat(bot, key="cadre")
    seen = [cadre.send("建议办理"), cadre.send("1", expect=["提出人：匿名", "· "])]
    seen.append(cadre.press("登记分类"))
    seen.append(cadre.press("生产技术"))
    seen.append(cadre.send("设备科"))
    seen.append(cadre.press("我自己"))
    seen.append(cadre.press("确认", expect=["类别：生产技术", "登记分类（王主席）"]))
    seen.append(cadre.press("答复提出人"))
    seen.append(cadre.send("谢谢您的建议，正在办理。"))
    seen.append(cadre.press("确认", expect="答复：谢谢您的建议，正在办理。"))
    everything = "\n".join(seen)
    assert "李娜" not in everything
    assert "1001" not in everything
    with db() as session:
        assert session.get(Suggestion, suggestion_id).reply == "谢谢您的建议，正在办理。"  # type: ignore[union-attr]


def test_a_stale_form_says_a_colleague_acted_and_shows_the_suggestion_anew(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    suggestion_id = suggest(db)
    registered(db, suggestion_id)
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.send("1")
    cadre.press("初评")
    cadre.send("我觉得可以试试。", expect="请核对初评意见")
    with db() as session:  # 陈委员 gets there first
        current = session.get(Suggestion, suggestion_id)
        assert current is not None
        first_review(
            session,
            actor=member(session, "C2"),
            suggestion_id=suggestion_id,
            expected_version=current.version,
            opinion="安全科同意，转评审。",
            now=NOW,
        )
        session.commit()
    cadre.press(
        "确认",
        expect=[
            "这条建议刚刚被其他干部处理过（现在是“已初评，待决定”），请重新打开查看最新情况。",
            "处理意见：安全科同意，转评审。",
            "初评（陈委员）",
        ],
        absent=["抱歉，出了点问题"],
    )
    assert cadre.buttons() == ["评审", "决定", "合并", "答复提出人", "返回列表"]
    with db() as session:
        assert session.get(Suggestion, suggestion_id).opinion == "安全科同意，转评审。"  # type: ignore[union-attr]
    # The fresh view carries the fresh version: the next step goes through.
    cadre.press("决定")
    cadre.press("不采纳")
    cadre.send("厂里明年统一改造，暂不单独实施。")
    cadre.press("确认", expect="已决定不采纳，理由会告知提出人。")
    assert cadre.buttons() == ["答复提出人", "办结", "返回列表"]
    cadre.press("返回列表", expect=["全部（第 1/1 页，共 1 条）", "1. 空压机余热回收用于浴室", "未采纳"])


def test_a_duplicate_is_merged_by_its_number(db: SessionFactory, bot: Bot, union: None) -> None:
    kept = suggest(db, title="浴室热水不够用")
    duplicate = suggest(db, title="浴室热水经常断")
    elsewhere = suggest(db, title="二车间行车加装限位", employee_no="2001")
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.press("浴室热水经常断")
    cadre.press("合并", expect=["要合并到哪条建议？请输入它的编号，例如“JY-2026-000012”"])
    cadre.send("JY-2026-999999", expect=["找不到编号为 JY-2026-999999 的建议。", "要合并到哪条建议"])
    cadre.send(f"jy-2026-{duplicate:06d}", expect="不能把建议合并到它自己。")
    cadre.send(f"JY-2026-{elsewhere:06d}", expect="这条建议不在您负责的单位范围内")
    cadre.send(f"JY-2026-{kept:06d}", expect="请写一句合并说明")
    cadre.send("与 JY-2026-000001 内容相同，一并办理。", expect=["合并到：【", "浴室热水不够用"])
    cadre.press(
        "确认", expect=[f"已把 JY-2026-{duplicate:06d} 合并到 JY-2026-{kept:06d}。", "1. 浴室热水不够用"]
    )
    with db() as session:
        merged = session.get(Suggestion, duplicate)
        assert merged is not None
        assert merged.status is SuggestionStatus.MERGED
        assert merged.merged_into_id == kept


def test_the_feature_has_its_label_in_english(db: SessionFactory, bot: Bot, union: None) -> None:
    suggest(db)
    cadre = Chat(bot, key="cadre", locale="en")
    assert "Review suggestions" in cadre.menu()
    seen = cadre.send("/review")
    assert "To register: 1, awaiting decision: 0, overdue: 0" in seen
    assert transcript(cadre.last)


def test_a_step_chosen_after_a_colleague_acted_shows_what_changed(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    suggestion_id = suggest(db)
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.send("1", expect="状态：待登记")
    registered(db, suggestion_id)  # 陈委员 registers it meanwhile
    cadre.press(
        "登记分类",
        expect=[
            "这条建议刚刚被其他干部处理过，现在是“已登记，待初评”。以下是最新情况，请重新选择。",
            "承办：安全科（陈委员）",
        ],
    )
    assert cadre.buttons() == ["初评", "合并", "答复提出人", "返回列表"]
    cadre.press("初评", expect="请写下初评意见")
    cadre.send("同意安全科意见。")
    cadre.press("确认", expect="初评意见已记录")


def test_a_committee_member_reviews_but_is_not_offered_awards(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    with db() as session:
        chair = member(session, "C1")
        proposer = member(session, "1001")
        policy = SuggestionPolicy()
        item = submit_suggestion(
            session,
            actor=proposer,
            draft=SuggestionDraft(category="其他", title="更衣室加装换气扇", measure="夏天更衣室闷热。"),
            policy=policy,
            now=NOW,
        )
        sid = item.id or 0
        item = register_suggestion(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            category="其他",
            department="后勤科",
            reviewer_id=None,
            policy=policy,
            now=NOW,
        )
        item = first_review(
            session, actor=chair, suggestion_id=sid, expected_version=item.version, opinion="可行", now=NOW
        )
        decide_suggestion(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            adopted=True,
            reason="可行",
            policy=policy,
            now=NOW,
        )
        bind(session, member(session, "C2"), key="committee")
    committee = Chat(bot, key="committee")
    committee.send("建议办理")
    committee.send("1", absent=["评奖"])
    assert "答复提出人" in committee.buttons()


def test_cancelling_a_step_goes_back_to_the_suggestion_not_the_menu(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    suggestion_id = suggest(db)
    number = f"JY-2026-{suggestion_id:06d}"
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.send("1", expect=f"【{number}】")
    cadre.press("答复提出人", expect="请写下给提出人的答复")
    cadre.send("取消", expect=["已取消。", f"【{number}】", "请选择要办理的事项："], absent=["建议统计"])
    cadre.press("登记分类", expect="请确认或改选类别")
    cadre.send("返回", expect=["已取消。", f"【{number}】", "请选择要办理的事项："])
    with db() as session:
        assert session.get(Suggestion, suggestion_id).status is SuggestionStatus.SUBMITTED  # type: ignore[union-attr]


def test_a_merge_target_is_found_by_its_short_number_within_the_year(
    db: SessionFactory, bot: Bot, union: None, numbered_from_one: None
) -> None:
    """Issue 14, item 9: "5" and "000005" mean JY-2026-000005; a full number is no longer needed."""
    for title in ("叉车通道划线", "冷却塔风机改变频", "食堂增加夜班窗口", "更衣室加装换气扇"):
        suggest(db, title=title)
    kept = suggest(db, title="浴室热水不够用")
    duplicate = suggest(db, title="浴室热水经常断")
    assert (kept, duplicate) == (5, 6)
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.press("下一页")
    cadre.press("浴室热水经常断")
    cadre.press("合并", expect="今年的建议只输入序号“12”也可以")
    cadre.send("5", expect="请写一句合并说明", absent=["找不到编号为 5 的建议"])
    cadre.send("返回", expect="要合并到哪条建议？")
    cadre.send("000005", expect="请写一句合并说明", absent=["找不到编号为 000005 的建议"])
    cadre.send("返回")
    cadre.send("9", expect=["找不到编号为 JY-2026-000009 的建议。", "要合并到哪条建议？"])
    cadre.send("上一条", expect=["没看懂这个编号", "例如“JY-2026-000012”", "要合并到哪条建议？"])
    cadre.send("6", expect="不能把建议合并到它自己。")
    cadre.send("JY5", expect="请写一句合并说明")
    cadre.send("内容相同，一并办理。", expect="合并到：【JY-2026-000005】浴室热水不够用")
    cadre.press("确认", expect="已把 JY-2026-000006 合并到 JY-2026-000005。")
    with db() as session:
        merged = session.get(Suggestion, duplicate)
        assert merged is not None
        assert (merged.status, merged.merged_into_id) == (SuggestionStatus.MERGED, kept)


def images(chat: Chat) -> list[str]:
    return [reply.image.path for reply in chat.last if reply.image is not None]


def test_the_photos_come_once_per_suggestion_and_again_on_request(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    """Issue 14, item 18: every view of a suggestion re-sent both photos."""
    with_photos = suggest(db, title="空压机余热回收用于浴室", photos=PHOTOS)
    suggest(db, title="叉车通道划线", photos=PHOTOS[:1])
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.press("空压机余热回收用于浴室", expect=["照片：2 张", "照片 1/2", "照片 2/2"])
    assert images(cadre) == [photo.ref for photo in PHOTOS]

    # A step taken and the suggestion shown again: the text, not the photos a second time.
    cadre.press("答复提出人")
    cadre.send("收到，正在安排登记。")
    cadre.press("确认", expect=["答复已发给提出人。", "照片：2 张"], absent=["照片 1/2"])
    assert images(cadre) == []
    cadre.press("答复提出人")
    cadre.send("取消", expect="已取消。", absent=["照片 1/2"])
    assert images(cadre) == []
    cadre.send("返回列表")
    cadre.press("空压机余热回收用于浴室", absent=["照片 1/2"])
    assert images(cadre) == []

    # Asked for, they come again, with the steps under them.
    cadre.press("查看照片", expect=["照片 1/2", "照片 2/2", "请选择要办理的事项："])
    assert images(cadre) == [photo.ref for photo in PHOTOS]
    cadre.send("查看照片")
    assert images(cadre) == [photo.ref for photo in PHOTOS]

    # Another suggestion brings its own photos, and going back to the first brings the first's once.
    cadre.send("返回列表")
    cadre.press("叉车通道划线", expect="照片 1/1")
    cadre.send("返回列表")
    cadre.press("空压机余热回收用于浴室", expect="照片 1/2")
    with db() as session:
        assert session.get(Suggestion, with_photos).reply == "收到，正在安排登记。"  # type: ignore[union-attr]


def test_a_suggestion_without_photos_offers_none(db: SessionFactory, bot: Bot, union: None) -> None:
    suggest(db)
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.send("1", absent=["照片："])
    assert "查看照片" not in cadre.buttons()


def adopted(db: SessionFactory, suggestion_id: int) -> None:
    registered(db, suggestion_id)
    with db() as session:
        chair = member(session, "C1")
        suggestion = session.get(Suggestion, suggestion_id)
        assert suggestion is not None
        suggestion = first_review(
            session,
            actor=chair,
            suggestion_id=suggestion_id,
            expected_version=suggestion.version,
            opinion="可行",
            now=NOW,
        )
        decide_suggestion(
            session,
            actor=chair,
            suggestion_id=suggestion_id,
            expected_version=suggestion.version,
            adopted=True,
            reason="投入少",
            policy=POLICY,
            now=NOW,
        )


def test_awarding_before_implementation_is_warned_about(db: SessionFactory, bot: Bot, union: None) -> None:
    """Issue 14, item 14: an award could be given before the suggestion was implemented, unremarked."""
    adopted(db, suggest(db))
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.send("1", expect="状态：已采纳，待实施")
    cadre.press("评奖", expect=["注意：这条建议还没有实施完成，效果尚未核定。", "评为什么奖？"])
    cadre.press("鼓励奖")
    early = "注意：这条建议还没有实施完成，效果尚未核定。"
    cadre.send("200", expect=["奖项：鼓励奖", early, "请核对评奖结果"])
    cadre.press("确认", expect="已评为“鼓励奖”，奖金 200.00 元。")


def test_a_union_requiring_implementation_offers_no_award_before_it(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, union: None
) -> None:
    adopted(db, suggest(db))
    config = CoreConfig(policies={SuggestionPolicy: SuggestionPolicy(award_requires_implementation=True)})
    strict = Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)
    cadre = Chat(strict, key="cadre")
    cadre.send("建议办理")
    cadre.send("1", expect="状态：已采纳，待实施")
    assert cadre.buttons() == ["开始实施", "答复提出人", "返回列表"]


def test_a_suggestion_is_opened_from_the_queue_by_its_number(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    """Issue 14, item 9: wherever a number is typed, the short way within the year is read too."""
    wanted = suggest(db, title="浴室热水不够用")
    suggest(db, title="叉车通道划线")
    elsewhere = suggest(db, title="二车间行车加装限位", employee_no="2001")
    cadre = Chat(bot, key="cadre")
    cadre.send("建议办理")
    cadre.send(f"JY{wanted}", expect=[f"【JY-2026-{wanted:06d}】浴室热水不够用", "请选择要办理的事项："])
    cadre.send("返回列表")
    cadre.send(
        f"2026-{elsewhere}", expect=[f"找不到编号为 JY-2026-{elsewhere:06d} 的建议。", "请选择要办理的建议："]
    )
    cadre.send("2", expect="【JY-2026-")  # a bare number is a line of the list
