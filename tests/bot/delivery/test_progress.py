"""The sender's progress message moves while a notice goes out, on Telegram and on WeChat.

A notice to 600 members at a channel's 30 a second takes 20 seconds; the
author's one message says how far it is every 10 % or 10 seconds, whichever is
later, and ends as the report. The pusher moves the clock by 1/30 s per request,
so the test runs at machine speed and sees exactly what a sender would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select
from time_machine import Traveller

from bot.delivery.rates import ChannelLimit, MemoryRates
from bot.delivery.results import Acquire, Job, Outcome, SendResult, Target
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from handlers.core.i18n import Catalogues
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import MemoryStore
from models.members import Member
from models.notices import NoticeCategory, NoticeDraft, TargetKind, create_notice
from models.notices import Target as NoticeTarget
from models.roles import Role, grant_role
from models.units import UnitTree
from tests.bot.delivery.helpers import FakeTime, member_with
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
RECIPIENTS = 600
PER_REQUEST = timedelta(seconds=1 / 30)  # Telegram's 30 a second
SHOWN = re.compile(r"已发送 (\d+) / 600")


@dataclass
class Tally:
    """What the channels have sent so far, on all of them."""

    recipients_sent: int = 0
    progress: list[tuple[int, str, bool]] = field(default_factory=list)  # (recipients sent, text, edited)


@dataclass
class ClockedPusher:
    """A channel taking 1/30 s of the clock per request; notes how far the notice was at each progress."""

    channel: str
    traveller: Traveller
    tally: Tally

    async def send(self, job: Job, target: Target, acquire: Acquire) -> SendResult:
        await acquire()
        self.traveller.shift(PER_REQUEST)
        if job.topic == "notice_progress":
            edited = job.previous_ref is not None and self.channel == "telegram"
            self.tally.progress.append((self.tally.recipients_sent, job.push.reply.text, edited))
            return SendResult(Outcome.SENT, external_ref="900")
        self.tally.recipients_sent += 1
        return SendResult(Outcome.SENT, external_ref=str(self.tally.recipients_sent))


def seed(db: SessionFactory, author_channel: str) -> None:
    with db() as session:
        unit = UnitTree(session).ensure("厂工会/一车间")
        assert unit.id is not None
        chair = make_member(session, employee_no="C1", unit="厂工会", roles=[(Role.CHAIR, "厂工会")])
        account = {"telegram": 4_000_000} if author_channel == "telegram" else {"wechat": "openid-chair"}
        author = member_with(session, "C2", seen=NOW, **account)
        author.unit_id = chair.unit_id
        session.flush()
        grant_role(session, member=author, role=Role.CHAIR, unit=unit)
        for n in range(RECIPIENTS):
            member_with(
                session, f"E{n}", telegram=5_000_000 + n, wechat=f"openid-{n}", seen=NOW
            ).unit_id = unit.id
        session.flush()
        draft = NoticeDraft(
            title="停水通知",
            body="明天上午停水。",
            category=NoticeCategory.NOTICE,
            target=NoticeTarget(TargetKind.UNITS, (unit.id,)),
        )
        create_notice(
            session,
            actor=session.exec(select(Member).where(Member.employee_no == "C2")).one(),
            draft=draft,
            now=NOW,
        )


@pytest.mark.parametrize("author_channel", ["telegram", "wechat"])
async def test_the_progress_message_moves_while_the_notice_goes_out(
    db: SessionFactory, author_channel: str
) -> None:
    seed(db, author_channel)
    with time_machine.travel(NOW, tick=False) as traveller:
        tally = Tally()
        pushers = {channel: ClockedPusher(channel, traveller, tally) for channel in ("telegram", "wechat")}
        worker = DeliveryWorker(
            sessions=db,
            store=MemoryStore(),
            rates=MemoryRates(
                {"telegram": ChannelLimit(10_000), "wechat": ChannelLimit(10_000)},
                clock=(fake := FakeTime()),
                sleep=fake.sleep,
            ),
            pushers=pushers,
            catalogues=Catalogues(),
            config=WorkerConfig(batch=200, in_flight=4),
            pushes=REGISTRY.pushes,
        )
        while await worker.run_once():
            pass
    assert tally.recipients_sent == RECIPIENTS
    progress = tally.progress
    assert len(progress) >= 3, progress
    figures = [(at, int(found.group(1))) for at, text, _ in progress if (found := SHOWN.search(text))]
    # The first goes ahead of the recipients; one comes while sending is under way, well before the end.
    assert figures[0] == (0, 0)
    during = [(at, shown) for at, shown in figures[1:] if 0 < at <= RECIPIENTS * 0.6]
    assert during, progress
    assert all(0 < shown <= at for at, shown in during)
    # Every 10 % or 10 seconds, whichever is later: 600 at 30 a second is 20 s, so two or three updates.
    assert len(figures) <= 4, progress
    assert "已发送完毕" in progress[-1][1]
    if author_channel == "telegram":  # edited in place after the first
        assert [edited for _, _, edited in progress] == [False] + [True] * (len(progress) - 1)
