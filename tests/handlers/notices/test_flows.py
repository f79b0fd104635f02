"""Notices in conversation: a cadre composes, previews, sends, schedules and withdraws; members read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, col, select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from handlers.notices.flows import parse_send_time, render_notice, render_progress
from models.accounts import ChatAccount
from models.activities import ActivityDraft, create_activity, sign_up
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.members import Member
from models.notices import (
    Attachment,
    AttachmentKind,
    Notice,
    NoticeCategory,
    NoticeDraft,
    NoticeRecipient,
    NoticeStatus,
    Target,
    TargetKind,
    create_notice,
    progress_key,
    withdraw_notice,
)
from models.outbox import Outbox, OutboxStatus
from models.roles import Role
from tests.factories import HOSTILE_BODY, HOSTILE_TITLE, bind, make_member
from tests.handlers.conftest import Chat

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the union's zone, as the settings default


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Bot:
    config = CoreConfig(template_kinds=frozenset({"notice"}), template_daily_quota=1)
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)


@pytest.fixture
def union(db: SessionFactory, clock: time_machine.Traveller) -> None:
    """一车间: a chair (the cadre), members reached three ways and one with no account; 二车间 beside it."""
    with db() as session:
        cadre = make_member(session, employee_no="C1", name="王主席", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, cadre, key="cadre")
        on_telegram = make_member(session, employee_no="1001", roles=[(Role.REPRESENTATIVE, "厂工会/一车间")])
        bind(session, on_telegram, key="member")
        recent = make_member(session, employee_no="1002", unit="厂工会/一车间/乙班")
        bind(session, recent, channel="wechat", key="wx-recent", last_seen_at=NOW - timedelta(hours=2))
        quiet = make_member(session, employee_no="1003", unit="厂工会/一车间/乙班")
        bind(session, quiet, channel="wechat", key="wx-quiet", last_seen_at=NOW - timedelta(days=5))
        make_member(session, employee_no="1004", unit="厂工会/一车间/丙班")
        other = make_member(session, employee_no="2001", unit="厂工会/二车间")
        bind(session, other, key="other")


def cadre_chat(bot: Bot) -> Chat:
    return Chat(bot, key="cadre")


def compose(chat: Chat, *, title: str = HOSTILE_TITLE, body: str = HOSTILE_BODY) -> None:
    chat.send("发通知", expect=["请选择发布的栏目", "1. 通知公告", "2. 厂务公开", "3. 会费使用公开"])
    chat.send("1", expect="请输入标题")
    chat.send(title, expect="请输入正文")
    chat.send(body, expect="图片或一个文件")
    chat.send("跳过", expect=["请选择发送对象", "全体会员（厂工会/一车间）", "指定单位", "按职务"])


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


def test_schedule_then_withdraw_before_it_goes(db: SessionFactory, bot: Bot, union: None) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("1")
    chat.send("定时发送", expect=["请输入发送的日期和时间", "2026-11-24 09:00"])
    chat.send("今天 8:00", expect=["这个发送时间已经过去了", "请输入发送的日期和时间"])
    chat.send("明天下午", expect="没看懂这个时间")
    chat.send("2027-06-01 09:00", expect="最多只能定在 90 天以内")
    chat.send("明天 9:30", expect=["发送时间：2026-11-24 09:30", "共 5 人"])
    chat.send("确认", expect=["这条通知将在 2026-11-24 09:30 发给 5 人", "我发的通知"])
    with db() as session:
        rows = session.exec(select(Outbox)).all()
        assert {row.due_at for row in rows} == {datetime(2026, 11, 24, 1, 30, tzinfo=UTC)}
    Chat(bot, key="member").send("通知", expect="目前还没有发给您的通知")  # not before its time

    chat.send("我发的通知", expect=["我发的通知（第 1/1 页，共 1 条）", "定于 2026-11-24 09:30 发送"])
    chat.send("1", expect=["状态：定于 2026-11-24 09:30 发送", "收件人：5 人", "等待发送：5", "撤回这条通知"])
    chat.press("撤回这条通知", expect="确定要撤回这条通知吗")
    chat.press("否", expect=["好的，这条通知会照常发送", "撤回这条通知"])
    chat.press("撤回这条通知", expect="确定要撤回这条通知吗")
    chat.press("是", expect="已撤回这条通知，5 位会员不会收到它")
    with db() as session:
        assert session.exec(select(Notice)).one().status is NoticeStatus.WITHDRAWN
        assert {row.status for row in session.exec(select(Outbox))} == {OutboxStatus.WITHDRAWN}
    chat.send("我发的通知", expect="（已撤回）")
    chat.send("1", expect="状态：已撤回", absent=["撤回这条通知"])


def test_a_notice_already_going_out_cannot_be_withdrawn(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    chat = cadre_chat(bot)
    compose(chat)
    chat.send("1")
    chat.send("定时发送")
    chat.send("9:10")
    chat.send("确认", expect="这条通知将在 2026-11-23 09:10 发给 5 人")
    chat.send("我发的通知")
    chat.send("1", expect="撤回这条通知")
    chat.send("1", expect="确定要撤回这条通知吗")
    clock.shift(timedelta(minutes=15))
    chat.send("是", expect="这条通知已经开始发送，不能再撤回了")
    with db() as session:
        assert session.exec(select(Notice)).one().status is NoticeStatus.QUEUED
        assert {row.status for row in session.exec(select(Outbox))} == {OutboxStatus.QUEUED}
    chat.send("我发的通知", expect="（发送中）")  # due, and no worker has taken it yet
    chat.send("1", absent=["撤回这条通知"])
    with db() as session:
        for row in session.exec(select(Outbox)):
            row.status = OutboxStatus.SENT
            session.add(row)
        session.commit()
    chat.send("我发的通知", expect="（已发出）")
    chat.send("下一页", expect=["已经是最后一页了", "我发的通知（第 1/1 页"])


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
    cadre_chat(bot).send("菜单", expect=["发通知", "我发的通知", "通知公告"])


def send_notices(db: SessionFactory, bot: Bot, titles: list[str], *, heading: str = "1") -> None:
    chat = cadre_chat(bot)
    for title in titles:
        chat.send("发通知")
        chat.send(heading)
        chat.send(title)
        chat.send(f"{title}的正文。")
        chat.send("跳过")
        chat.send("1")
        chat.send("1")
        chat.send("确认", expect="通知开始发给")


def test_members_browse_their_notices_newest_first_in_pages(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    titles = [f"第{n}号通知" for n in range(1, 8)]
    for title in titles:
        send_notices(db, bot, [title])
        clock.shift(timedelta(minutes=1))
    send_notices(db, bot, ["十月会费使用情况"], heading="3")
    member = Chat(bot, key="member")
    listing = member.send("通知公告", expect=["通知公告（第 1/2 页，共 7 条）", "11-23 第7号通知", "下一页"])
    assert listing.index("第7号通知") < listing.index("第3号通知")
    assert "第2号通知" not in listing
    assert "会费使用公开" in listing
    member.send("上一页", expect=["已经是第一页了", "第 1/2 页"])
    member.send("下一页", expect=["第 2/2 页", "第2号通知", "第1号通知", "上一页"])
    member.send("下一页", expect=["已经是最后一页了", "第 2/2 页"])
    member.send("1", expect=["【通知】第2号通知", "第2号通知的正文。", "2026-11-23 09:0", "厂工会/一车间"])
    member.send("会费使用公开", expect=["会费使用公开（第 1/1 页，共 1 条）", "十月会费使用情况"])
    member.send("1", expect="【会费使用公开】十月会费使用情况")
    member.send("我的", expect="我的信息")  # a command word leaves the list
    Chat(bot, key="other").send("通知", expect="目前还没有发给您的通知")  # 二车间 got none
    with db() as session:
        read = session.exec(select(NoticeRecipient).where(col(NoticeRecipient.read_at).is_not(None))).all()
        assert len(read) == 2


def test_openness_posts_have_their_own_heading(db: SessionFactory, bot: Bot, union: None) -> None:
    send_notices(db, bot, ["三季度厂务公开"], heading="2")
    member = Chat(bot, key="member")
    member.send("厂务公开", expect=["厂务公开（第 1/1 页，共 1 条）", "三季度厂务公开"])
    member.send("通知公告", expect=["“通知公告”里还没有内容", "厂务公开"], absent=["三季度厂务公开"])


def test_the_read_button_records_the_read_and_keeps_an_open_form(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    send_notices(db, bot, ["停水通知"])
    with db() as session:
        member_id = session.exec(select(Member.id).where(Member.employee_no == "1001")).one()
        row = session.exec(
            select(Outbox).where(Outbox.topic == "notice", Outbox.member_id == member_id)
        ).one()
        push = REGISTRY.pushes.render(session, row, catalogues.get("zh_CN"), SHANGHAI)
    assert push is not None
    member = Chat(bot, key="member")
    member.send("语言", expect="English")
    member.last = [push.reply]
    member.press("已阅", expect="已收到您的确认，谢谢", absent=["请选择要办理的事项"])
    member.send("2", expect="繁體中文")  # the language form was still open
    cadre = cadre_chat(bot)
    cadre.send("我发的通知")
    cadre.send("1", expect="已阅：1 / 5")


def test_renderers_in_every_language(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    send_notices(db, bot, ["停水通知"])
    with db() as session:
        notice = session.exec(select(Notice)).one()
        row = session.exec(select(Outbox).where(Outbox.topic == "notice")).first()
        progress = session.exec(select(Outbox).where(Outbox.topic == "notice_progress")).one()
        assert row is not None
        texts = {}
        for locale in ("zh_CN", "zh_TW", "en"):
            push = render_notice(session, row, catalogues.get(locale), SHANGHAI)
            assert push is not None
            assert push.title == "停水通知"
            assert push.body == "停水通知的正文。"
            assert push.unit == "厂工会/一车间"
            texts[locale] = (push.reply.text, push.reply.buttons[0].label)
            going = render_progress(session, progress, catalogues.get(locale), SHANGHAI)
            assert going is not None
            assert going.edit_in_place
            texts[locale + "-progress"] = (going.reply.text, "")
        assert texts["zh_CN"] == ("【通知】停水通知\n停水通知的正文。", "已阅")
        assert texts["zh_TW"] == ("【通知】停水通知\n停水通知的正文。", "已閱")
        assert texts["en"] == ("[Notice] 停水通知\n停水通知的正文。", "Mark as read")
        assert texts["zh_CN-progress"][0] == "通知“停水通知”正在发送：已发送 0 / 5"
        assert texts["zh_TW-progress"][0] == "通知「停水通知」正在發送：已發送 0 / 5"
        assert texts["en-progress"][0] == "Sending “停水通知”: 0 / 5 sent"

        rows = session.exec(select(Outbox).where(Outbox.topic == "notice")).all()
        errors = ["", "no_account", "blocked: bot was blocked by the user", "chat not found", ""]
        for outcome, error in zip(rows, errors, strict=True):
            outcome.status = OutboxStatus.FAILED if error else OutboxStatus.SENT
            outcome.error = error or None
            session.add(outcome)
        progress.status = OutboxStatus.SENT
        progress.sent_at = NOW
        session.add(progress)
        session.flush()
        REGISTRY.pushes.after_batch(session, {"notice": {notice.id or 0}}, NOW + timedelta(seconds=1))
        assert progress.status is OutboxStatus.QUEUED  # the final report is due at once
        final = render_progress(session, progress, catalogues.get("zh_CN"), SHANGHAI)
        assert final is not None
        assert final.reply.text.splitlines() == [
            "通知“停水通知”已发送完毕。",
            "收件人：5 人",
            "已发送：2",
            "发送失败：1",
            "没有可用账号：1",
            "已屏蔽或取消关注：1",
            "已阅：0 / 5（在 Telegram 点了“已阅”或在“通知公告”里打开过的会员）",
        ]
        english = render_progress(session, progress, catalogues.get("en"), SHANGHAI)
        assert english is not None
        assert "Recipients: 5" in english.reply.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天 9:30", ("2026-11-24", "09:30")),
        ("11月24日下午3点", ("2026-11-24", "15:00")),
        ("2026-11-25 08:05", ("2026-11-25", "08:05")),
        ("１５：２０", ("2026-11-23", "15:20")),
        ("后天9点半", ("2026-11-25", "09:30")),
        ("明天早上九点", ("2026-11-24", "09:00")),
        ("明天 九点零五分", ("2026-11-24", "09:05")),
        ("下午三点十五分", ("2026-11-23", "15:15")),
        ("后天傍晚六点", ("2026-11-25", "18:00")),
        ("二十三点", ("2026-11-23", "23:00")),
        ("二十五点", None),
        ("明天", None),
        ("25:00", None),
        ("明天下午", None),
    ],
)
def test_send_times_are_read_as_cadres_write_them(text: str, expected: tuple[str, str] | None) -> None:
    parsed = parse_send_time(text, today=datetime(2026, 11, 23).date())  # noqa: DTZ001
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed[0].isoformat(), parsed[1].strftime("%H:%M")) == expected


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


def test_hostile_text_is_stored_and_shown_as_typed(db: SessionFactory, bot: Bot, union: None) -> None:
    send_notices(db, bot, ["<b>停电</b> _*[通知]🌟"])
    Chat(bot, key="member").send("通知", expect="<b>停电</b> _*[通知]🌟")
    with Session(db.engine) as session:
        assert session.exec(select(Notice)).one().title == "<b>停电</b> _*[通知]🌟"


def test_attachments_travel_with_the_push_and_a_withdrawn_notice_sends_nothing(
    db: SessionFactory, union: None, catalogues: Catalogues, tmp_path: Path
) -> None:
    poster, sheet = tmp_path / "poster.png", tmp_path / "名单.xlsx"
    with db() as session:
        cadre = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        unit = session.exec(select(Member.unit_id).where(Member.employee_no == "C1")).one()
        target = Target(TargetKind.UNITS, (unit,))
        pushes = {}
        for kind, path in ((AttachmentKind.IMAGE, poster), (AttachmentKind.FILE, sheet)):
            draft = NoticeDraft(
                title="停电通知",
                body="周六检修。",
                category=NoticeCategory.NOTICE,
                target=target,
                send_at=NOW + timedelta(days=1),
                attachment=Attachment(kind, str(path), None, 100, path.name),
            )
            notice = create_notice(session, actor=cadre, draft=draft, now=NOW)
            row = session.exec(select(Outbox).where(Outbox.subject_id == notice.id)).first()
            assert row is not None
            pushes[kind] = (notice, row, render_notice(session, row, catalogues.get("en"), SHANGHAI))
        image_push, file_push = pushes[AttachmentKind.IMAGE][2], pushes[AttachmentKind.FILE][2]
        assert image_push is not None
        assert file_push is not None
        assert image_push.reply.image is not None
        assert image_push.reply.image.path == str(poster)
        assert image_push.reply.file is None
        assert file_push.reply.file is not None
        assert file_push.reply.file.name == "名单.xlsx"
        assert "Attachment: 名单.xlsx" in file_push.reply.text

        notice, row, _ = pushes[AttachmentKind.IMAGE]
        assert notice.id is not None
        withdraw_notice(session, actor=cadre, notice_id=notice.id, now=NOW)
        assert render_notice(session, row, catalogues.get("zh_CN"), SHANGHAI) is None
        progress = session.exec(select(Outbox).where(Outbox.key == progress_key(notice.id))).one()
        assert render_progress(session, progress, catalogues.get("zh_CN"), SHANGHAI) is None


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
