"""The pushed notice and the author's progress message, in every language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from handlers.notices.render import render_notice, render_progress, render_reminder
from models.db import SessionFactory
from models.members import Member
from models.notices import (
    Attachment,
    AttachmentKind,
    Notice,
    NoticeCategory,
    NoticeDraft,
    Target,
    TargetKind,
    create_notice,
    mark_notice_read,
    progress_key,
    remind_unread,
    withdraw_notice,
)
from models.outbox import Outbox, OutboxStatus
from tests.handlers.notices.conftest import NOW, SHANGHAI, send_notices


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


def test_a_reminder_brings_the_notice_again_until_it_is_read(
    db: SessionFactory, bot: Bot, union: None, catalogues: Catalogues
) -> None:
    send_notices(db, bot, ["停水通知"])
    with db() as session:
        cadre = session.exec(select(Member).where(Member.employee_no == "C1")).one()
        notice = session.exec(select(Notice)).one()
        assert notice.id is not None
        for pushed in session.exec(select(Outbox).where(Outbox.topic == "notice")):
            pushed.status = OutboxStatus.SENT
            session.add(pushed)
        session.flush()
        remind_unread(session, actor=cadre, notice_id=notice.id, round_=1, now=NOW, template_kinds=())
        row = session.exec(
            select(Outbox).where(Outbox.topic == "notice_reminder", Outbox.member_id == cadre.id)
        ).one()
        push = render_reminder(session, row, catalogues.get("zh_CN"), SHANGHAI)
        assert push is not None
        assert (push.title, push.unit) == ("通知阅读提醒", "厂工会/一车间")
        assert push.reply.text == (
            "温馨提醒：这条通知您还没有阅读，请抽空看一看。\n\n【通知】停水通知\n停水通知的正文。"
        )
        assert [button.label for button in push.reply.buttons] == ["已阅"]
        mark_notice_read(session, member=cadre, notice_id=notice.id, now=NOW)
        assert render_reminder(session, row, catalogues.get("zh_CN"), SHANGHAI) is None
