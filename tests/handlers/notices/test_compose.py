"""发通知 in conversation: a cadre composes, previews and sends, to whom and when."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from sqlmodel import col, select

from handlers.core.context import CoreConfig
from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.accounts import ChatAccount
from models.activities import ActivityDraft, create_activity, sign_up
from models.db import SessionFactory
from models.members import Member
from models.notices import (
    Notice,
    NoticeRecipient,
    TargetKind,
    progress_key,
)
from models.outbox import Outbox
from models.roles import Role
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, bind, make_member
from tests.handlers.conftest import Chat
from tests.handlers.notices.conftest import NOW, cadre_chat, compose


def test_cadre_composes_previews_and_sends_to_the_whole_union(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("1", expect=["什么时候发送", "立即发送", "定时发送"])
    preview = chat.send(
        "立即发送",
        expect=[
            "请核对这条通知",
            f"【通知】{HOSTILE_TITLE}",
            HOSTILE_BODY,
            "发送对象：全体会员（厂工会/一车间）",
            "共 5 人",
            "Telegram 消息：2",
            "微信客服消息（48 小时内联系过）：1",
            "微信模板消息：1",
            "没有可用账号（只能在“通知公告”里看到）：1",
            "发送时间：立即发送",
            "确认之前不会发出任何消息",
        ],
        absent=["微信模板消息每天最多发"],
    )
    assert "1. 确认" in preview
    with db() as session:
        assert session.exec(select(Outbox)).all() == []  # nothing before the yes
    chat.press("确认", expect=["通知开始发给 5 人", "发送进度会单独发给您"])
    with db() as session:
        notice = session.exec(select(Notice)).one()
        rows = session.exec(select(Outbox).order_by(col(Outbox.id))).all()
        assert notice.recipient_count == 5
        assert [row.topic for row in rows] == ["notice"] * 5 + ["notice_progress"]
        assert {row.key for row in rows[:5]} == {
            f"notice:{notice.id}:member:{row.member_id}" for row in rows[:5]
        }
        assert rows[-1].key == progress_key(notice.id or 0)
        assert rows[-1].urgent
        assert all(row.due_at == NOW for row in rows)


def test_sending_to_chosen_units_and_to_a_role(db: SessionFactory, bot: Bot, union: None) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send(
        "2",
        expect=["请回复要发送的单位编号", "1. 厂工会/一车间", "厂工会/一车间/乙班", "厂工会/一车间/丙班"],
        absent=["二车间"],
    )
    chat.send("二车间", expect=["“厂工会/二车间”不在您负责的范围内，只能向您负责的单位发通知", "单位编号"])
    chat.send("三车间", expect="没有找到单位“三车间”")
    chat.send("9", expect="没有编号为 9 的单位")
    chat.send("乙班、丙班", expect="什么时候发送")
    chat.send("1", expect=["发送对象：厂工会/一车间/乙班、厂工会/一车间/丙班", "共 3 人"])
    chat.send("返回", expect="什么时候发送")
    chat.send("返回", expect="请回复要发送的单位编号")
    chat.send("返回", expect="请选择发送对象")
    chat.send("3", expect=["请选择职务", "职工代表"])
    chat.send("职工代表", expect="什么时候发送")
    chat.send("立即发送", expect=["发送对象：职工代表（厂工会/一车间）", "共 1 人"])
    chat.send("1", expect="通知开始发给 1 人")


def test_a_role_nobody_holds_is_refused_before_anything_is_queued(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("按职务")
    chat.send("会费收缴员", expect=["这个范围里目前没有在册会员，请换一个发送对象", "请选择职务"])
    with db() as session:
        assert session.exec(select(Notice)).all() == []


def test_bad_text_is_refused_with_the_reason_and_asked_again(bot: Bot, union: None) -> None:
    chat = cadre_chat(bot)
    chat.send("发通知")
    chat.send("1")
    chat.send("标" * 41, expect=["最多 40 个字", "您发了 41 个字", "请输入标题"])
    chat.send(HOSTILE_TITLE)
    chat.send("   ", expect=["内容不能为空", "请输入正文"])
    chat.send("字" * 10_000, expect=["最多 2000 个字", "您发了 10000 个字", "请输入正文"])
    chat.send("正文", expect="图片或一个文件")


def test_attachments_are_checked_against_the_channels_limits(
    db: SessionFactory, bot: Bot, union: None, tmp_path: Path
) -> None:
    photo = tmp_path / "poster.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    sheet = tmp_path / "名单.xlsx"
    sheet.write_bytes(b"PK" + b"0" * 100)
    no_quota = CoreConfig(template_kinds=frozenset({"notice"}), template_daily_quota=0)
    chat = cadre_chat(
        Bot(sessions=db, store=bot.store, catalogues=bot.catalogues, config=no_quota, registry=REGISTRY)
    )
    chat.send("发通知")
    chat.send("1")
    chat.send(HOSTILE_TITLE)
    chat.send(HOSTILE_BODY)
    chat.send("好的", expect="请发送一张图片或一个文件")
    big = Media(MediaKind.PHOTO, str(photo), "image/jpeg", 11 * 1024 * 1024)
    chat.send_media(big, expect=["图片太大了：最大 10 MB", "图片或一个文件"])
    bmp = Media(MediaKind.PHOTO, str(photo), "image/tiff", 100)
    chat.send_media(bmp, expect="图片只能是 JPG、PNG 或 GIF 格式")
    huge = Media(MediaKind.DOCUMENT, str(sheet), "application/vnd.ms-excel", 51 * 1024 * 1024, "名单.xlsx")
    chat.send_media(huge, expect="文件太大了：最大 50 MB")
    not_kept = Media(MediaKind.DOCUMENT, "BQACAgIAAxkBAAI", "application/pdf", 1000, "a.pdf")
    chat.send_media(not_kept, expect="这个文件没能保存到服务器")
    voice = Media(MediaKind.VOICE, "voice-id", "audio/ogg", 1000)
    chat.send_media(voice, expect=["这条语音没能识别成文字", "图片或一个文件"])
    chat.send_media(Media(MediaKind.DOCUMENT, str(sheet), None, None, "名单.xlsx"), expect="请选择发送对象")
    chat.send("1")
    chat.send(
        "1",
        expect=[
            "附件：名单.xlsx",
            "微信不能给会员发文件：通过微信接收的 2 人只能看到正文和文件名",
            "微信模板消息每天最多发 0 条，这条通知需要 1 条",
        ],
    )
    chat.send("1")
    with db() as session:
        notice = session.exec(select(Notice)).one()
        assert notice.attachment_ref == str(sheet)
        assert notice.attachment_size == sheet.stat().st_size


def test_preview_shows_the_image_that_goes_with_the_notice(bot: Bot, union: None, tmp_path: Path) -> None:
    photo = tmp_path / "poster.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    chat = cadre_chat(bot)
    chat.send("发通知")
    chat.send("2")
    chat.send("三季度厂务公开")
    chat.send("本季度职工福利费支出如下。")
    chat.send_media(Media(MediaKind.PHOTO, str(photo), "image/jpeg", 103), expect="请选择发送对象")
    chat.send("1")
    chat.send("1", expect=["【厂务公开】三季度厂务公开", "（附图片一张）"])
    [image] = [reply.image for reply in chat.last if reply.image is not None]
    assert image.path == str(photo)


def test_send_time_that_passes_while_the_preview_is_read_is_asked_again(
    bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("1")
    chat.send("定时发送")
    chat.send("9:10", expect="发送时间：2026-11-23 09:10")
    clock.shift(timedelta(minutes=15))
    chat.send("确认", expect=["这个发送时间已经过去了", "请输入发送的日期和时间"])
    chat.send("9:40", expect="发送时间：2026-11-23 09:40")


def test_members_cannot_send_notices(bot: Bot, union: None) -> None:
    member = Chat(bot, key="member")
    member.send("发通知", expect="抱歉，您没有使用这项功能的权限")
    member.send("/notify", expect="抱歉，您没有使用这项功能的权限")
    member.send("我发的通知", expect="抱歉，您没有使用这项功能的权限")
    member.send("菜单", absent=["发通知", "我发的通知"])
    assert {"发通知", "我发的通知", "通知公告"} <= set(cadre_chat(bot).menu())


def test_a_cadre_no_push_can_reach_is_told_where_to_follow_the_notice(
    db: SessionFactory, bot: Bot, union: None
) -> None:
    """In the terminal (make demo) no progress message can come: say where to look instead."""
    with db() as session:
        cadre = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        bind(session, cadre, channel="console", key="local")
        account = session.exec(select(ChatAccount).where(ChatAccount.external_id == "cadre")).one()
        session.delete(account)
        session.commit()
    chat = Chat(bot, channel="console", key="local")
    compose(chat)
    chat.send("1")
    chat.send("立即发送")
    chat.send("确认", expect="发送情况可以在“我发的通知”里查看", absent=["发送进度会单独发给您"])


def test_on_wechat_a_cadre_sends_a_photo_and_members_pick_by_number(
    db: SessionFactory, bot: Bot, union: None, tmp_path: Path
) -> None:
    with db() as session:
        chair = make_member(
            session, employee_no="C9", name="赵委员", unit="厂工会", roles=[(Role.COMMITTEE, "厂工会")]
        )
        bind(session, chair, channel="wechat", key="wx-cadre", last_seen_at=NOW)
    photo = tmp_path / "media" / "wechat" / "abc.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff" + b"0" * 2000)
    cadre = Chat(bot, channel="wechat", key="wx-cadre")
    cadre.send("发通知")
    cadre.send("会费使用公开")
    cadre.send("十月会费使用情况")
    cadre.send("十月工会经费支出 12,000 元，明细见附图。")
    cadre.send_media(Media(MediaKind.PHOTO, str(photo), "image/jpeg", 2003), expect="全体会员（厂工会）")
    cadre.send("全体会员")
    cadre.send("立即发送", expect=["【会费使用公开】十月会费使用情况", "（附图片一张）", "共 7 人"])
    cadre.send("确认", expect="通知开始发给 7 人")

    member = Chat(bot, channel="wechat", key="wx-recent")
    member.send("会费公开", expect=["会费使用公开（第 1/1 页，共 1 条）", "1. 11-23 十月会费使用情况"])
    member.send("１", expect=["十月工会经费支出 12,000 元", "厂工会"])
    [image] = [reply.image for reply in member.last if reply.image is not None]
    assert image.path == str(photo)


def test_a_notice_to_the_members_signed_up_for_an_activity(db: SessionFactory, bot: Bot, union: None) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    assert "某个活动的报名人员" not in chat.buttons()  # offered once the cadre has an activity
    chat.send("取消")
    with db() as session:
        cadre = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        unit_id = session.exec(select(Member.unit_id).where(Member.employee_no == "C1")).one()
        drafts = [
            ActivityDraft(
                title=title,
                description="三人制。",
                place="体育馆",
                starts_at=NOW + timedelta(days=days),
                signup_deadline=NOW + timedelta(days=1),
                capacity=None,
                unit_ids=(unit_id,),
            )
            for title, days in (("职工篮球赛", 5), ("插花讲座", 6))
        ]
        basketball, _flowers = (create_activity(session, actor=cadre, draft=d, now=NOW) for d in drafts)
        assert basketball.id is not None
        member = session.exec(select(Member).where(Member.employee_no == "1001")).one()
        sign_up(session, actor=member, activity_id=basketball.id, now=NOW)
    compose(chat)
    chat.send(
        "某个活动的报名人员",
        expect=["请选择活动", "1. 11-29 插花讲座（0 人报名）", "2. 11-28 职工篮球赛（1 人报名）"],
    )
    chat.send("1", expect=["这个活动目前还没有人报名，请换一个发送对象", "请选择活动"])
    chat.send("2", expect="什么时候发送")
    chat.send("立即发送", expect=["发送对象：“职工篮球赛”的报名人员", "共 1 人"])
    chat.send("确认", expect="通知开始发给 1 人")
    with db() as session:
        notice = session.exec(select(Notice)).one()
        assert (notice.target_kind, notice.target_activity_id) == (TargetKind.ACTIVITY, basketball.id)
        [recipient] = session.exec(select(NoticeRecipient)).all()
        assert recipient.member_id == member.id


def test_a_send_time_named_the_way_people_say_it_is_said_back_in_full(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    """Issue #14: in December a date without its year is the coming one, and the cadre sees which."""
    clock.move_to(NOW.replace(month=12, day=20))  # Sunday 20 December, 09:00 in Shanghai
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("1")
    chat.send("定时发送", expect="请输入发送的日期和时间")
    chat.send(
        "1月10号下午两点",
        expect=["好的，时间定在 2027年1月10日（周日）14:00。", "发送时间：2027-01-10 14:00"],
    )
    chat.send("返回", expect="请输入发送的日期和时间")
    chat.send(
        "后天上午9点", expect=["好的，时间定在 2026年12月22日（周二）09:00。", "发送时间：2026-12-22 09:00"]
    )
    chat.send("返回", expect="请输入发送的日期和时间")
    chat.send("明年5月1日上午9点", expect=["发送时间最多只能定在 90 天以内", "请输入发送的日期和时间"])
    chat.send("下周六下午两点", expect=["好的，时间定在 2026年12月26日（周六）14:00。", "请核对这条通知"])
    chat.press("确认", expect="这条通知将在 2026-12-26 14:00 发给 5 人")
    with db() as session:
        notice = session.exec(select(Notice)).one()
        assert notice.send_at == NOW.replace(month=12, day=26, hour=6)
