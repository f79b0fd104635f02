"""The terminal demo's delivery worker: a notice sent there ends with its report, as in production."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from bot.app import App
from bot.delivery.runner import worker_in_background
from bot.demo_data import DEMO_CADRE_NO, seed_demo
from bot.settings import load_settings
from models.base import utcnow
from models.members import get_member_by_employee_no
from models.notices import NoticeCategory, NoticeDraft, Target, TargetKind, create_notice, notice_report


def test_a_notice_sent_in_the_demo_ends_with_its_report(tmp_path: Path) -> None:
    app = App(load_settings(data_dir=tmp_path / "data", quiet_hours=""))
    app.prepare()
    seed_demo(app.sessions)
    with app.sessions() as session:
        cadre = get_member_by_employee_no(session, DEMO_CADRE_NO)
        assert cadre.unit_id is not None
        notice = create_notice(
            session,
            actor=cadre,
            draft=NoticeDraft(
                title="周五停水",
                body="周五上午九点到十一点检修水管，请提前接水。",
                category=NoticeCategory.NOTICE,
                target=Target(TargetKind.UNITS, (cadre.unit_id,)),
            ),
            now=utcnow(),
        )
        notice_id = notice.id
        assert notice_id is not None
    with worker_in_background(app):
        deadline = time.monotonic() + 20
        while True:
            with app.sessions() as session:
                cadre = get_member_by_employee_no(session, DEMO_CADRE_NO)
                _, report = notice_report(session, actor=cadre, notice_id=notice_id)
            if report.pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling the outcome, with the deadline above
    # The demo's members are reached only in the terminal, which takes no pushes: each is told apart.
    assert report.total > 1
    assert (report.pending, report.no_account) == (0, report.total)


def test_the_demo_steps_aside_when_another_worker_serves_the_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = App(load_settings(data_dir=tmp_path / "data", quiet_hours=""))
    app.prepare()
    caplog.set_level(logging.INFO, logger="bot.delivery.runner")
    with worker_in_background(app):
        deadline = time.monotonic() + 20
        while "started" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        with worker_in_background(app):
            while "steps aside" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
    assert "another delivery worker serves this database" in caplog.text
