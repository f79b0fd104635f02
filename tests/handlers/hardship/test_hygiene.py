"""No sensitive field in any log line or push: a whole case runs with every logger at DEBUG.

The case goes from the member's form through every cadre's step, the reminder job and the
retention job, and every push queued on the way is rendered as the delivery worker renders it.
Neither the captured log records (their messages and arguments, the SQL echo included) nor any
push holds the story, the income, the household, the contact or the notes. SQLAlchemy's own DEBUG,
which prints result rows, stays off as the bot configures logging (its logger is held at WARNING).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.module import JobContext
from handlers.core.router import Bot
from handlers.hardship.jobs import DEADLINES_JOB, RETENTION_JOB
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.hardship import HardshipPolicy
from models.outbox import Outbox
from tests.handlers.conftest import Chat
from tests.handlers.hardship.people import NOW, SHANGHAI, Union, hardship_bot, union

__all__ = ["hardship_bot", "union"]

STORY = "机密甲：丈夫患尿毒症需要透析"
CONTACT = "机密乙：请勿打到单位座机"
FAMILY = "机密丙：婆婆瘫痪在床"
MIND = "机密丁：情绪低落常失眠"
NOTE = "机密戊：欠亲戚三万元"
REASON = "机密己：人均收入低于低保线"
CLOSE = "机密庚：丈夫已肾移植"
INCOME_FEN = "432100"
SECRETS = [STORY, CONTACT, FAMILY, MIND, NOTE, REASON, CLOSE, "尿毒症", "透析", INCOME_FEN]


def test_a_whole_case_at_debug_leaves_no_secret_in_logs_or_pushes(
    db: SessionFactory,
    hardship_bot: Bot,
    union: Union,
    catalogues: Catalogues,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # SQL echo too: the statements are logged, their parameters hidden (models.db.make_engine).
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with time_machine.travel(NOW, tick=False):
        member = Chat(hardship_bot, key="member")
        for said in ("困难申报", "是", "1", STORY, "3", "4321", "1 2", "紧急", "跳过", CONTACT, "确认"):
            member.send(said)
        chair = Chat(hardship_bot, key="chair")
        for said in ("帮扶办理", "1", "记录联系", NOTE, "确认"):
            chair.send(said)
        for said in ("记录走访", "今天", "王主席", FAMILY, MIND, "疾病", "医药费", NOTE, "确认"):
            chair.send(said)
        for said in ("帮扶决定", "2", "3000", "跳过", "困难职工帮扶资金", REASON, "确认"):
            chair.send(said)
        for said in ("登记发放", "今天", "3000", "跳过", "困难职工帮扶资金", "确认"):
            chair.send(said)
        for said in ("动态管理", "2026-12-15", "确认"):
            chair.send(said, expect=None)
        member.send("我的申请")
    config = CoreConfig(policies={HardshipPolicy: HardshipPolicy(media_dir=union.media_dir)})
    DEADLINES_JOB.run(
        JobContext(sessions=db, config=config, clock=lambda: NOW + timedelta(days=21))
    )  # Monday before the review
    with time_machine.travel(NOW + timedelta(days=22), tick=False):
        for said in ("帮扶办理", "1", "办结", CLOSE, "确认"):
            chair.send(said)
    RETENTION_JOB.run(JobContext(sessions=db, config=config, clock=lambda: NOW + timedelta(days=4 * 366)))

    logged = "\n".join(f"{record.getMessage()} {record.args!r}" for record in caplog.records)
    assert "hardship" in logged  # the jobs did log
    for secret in SECRETS:
        assert secret not in logged, f"{secret!r} was logged"

    with db() as session:
        rows = session.exec(select(Outbox)).all()
        assert len(rows) == 7  # the chair's new case and review reminder, five updates to the member
        rendered = [
            REGISTRY.pushes.render(session, row, catalogues.get(locale), SHANGHAI)
            for row in rows
            for locale in ("zh_CN", "en")
        ]
    texts = "\n".join(
        f"{push.title}\n{push.body}\n{push.reply.text}" for push in rendered if push is not None
    )
    for secret in [*SECRETS, "李娜", "4321"]:
        assert secret not in texts, f"{secret!r} was pushed"
