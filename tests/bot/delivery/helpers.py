"""What the delivery tests share: a push topic of their own, members with accounts, a fake pusher."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlmodel import Session

from bot.delivery.results import Acquire, Job, Outcome, SendResult, Target
from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.module import Module
from handlers.core.pushes import Push
from handlers.modules import registry
from models.accounts import ChatAccount
from models.members import Member
from models.outbox import NewPush, PushKind, PushRow, enqueue
from tests.factories import make_member

TOPIC = "delivery-test"
# Subjects whose push has been withdrawn by the time it is rendered.
WITHDRAWN_SUBJECT = 404


def render_test_push(session: Session, row: PushRow, _: Translator, _zone: tzinfo) -> Push | None:
    """A push whose first line is a translated word, so the tests see the member's language."""
    if row.subject_id == WITHDRAWN_SUBJECT:
        return None
    title = _("主菜单")
    return Push(title=title, reply=Reply(f"{title}\n{row.key}"), body=row.key, edit_in_place=True)


# The bot's modules and one of the tests' own, whose topic the delivery tests queue.
TEST_REGISTRY = registry(Module(name="delivery-test", renderers={TOPIC: render_test_push}))


def member_with(
    session: Session,
    employee_no: str,
    *,
    telegram: int | None = None,
    wechat: str | None = None,
    seen: datetime | None = None,
    locale: str | None = None,
    preferred: str | None = None,
) -> Member:
    member = make_member(session, employee_no=employee_no, phone=None)
    member.locale = locale
    member.preferred_channel = preferred
    for channel, external in (("telegram", telegram), ("wechat", wechat)):
        if external is not None:
            session.add(
                ChatAccount(
                    channel=channel, external_id=str(external), member_id=member.id, last_seen_at=seen
                )
            )
    session.flush()
    return member


def queue(
    session: Session,
    members: Sequence[Member],
    *,
    subject: int = 1,
    kind: PushKind = PushKind.NOTICE,
    urgent: bool = False,
    now: datetime | None = None,
) -> None:
    pushes = []
    for member in members:
        assert member.id is not None
        pushes.append(
            NewPush(
                key=f"test:{subject}:{member.id}",
                member_id=member.id,
                kind=kind,
                topic=TOPIC,
                subject_id=subject,
                urgent=urgent,
            )
        )
    enqueue(session, pushes, now=now)


@dataclass
class FakePusher:
    """A channel that records what it was given and answers as told per account (SENT otherwise)."""

    channel: str
    answers: dict[str, SendResult] = field(default_factory=dict)
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (key, external id, text)
    tried: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, job: Job, target: Target, acquire: Acquire) -> SendResult:
        await acquire()
        self.tried.append((job.key, target.external_id))
        answer = self.answers.get(target.external_id, SendResult(Outcome.SENT, external_ref="m1"))
        if answer.outcome is Outcome.SENT:
            self.sent.append((job.key, target.external_id, job.push.reply.text))
        return answer


class FakeTime:
    """A monotonic clock that sleeping moves forward at once: rate limits and pauses cost no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
