"""A scheduled job of the kill tests' own: a push to every active member, keyed by the day.

It does what a real job does (one transaction queuing one row per member under
keys that name its period) at a size a test chooses. With ``UNIONBOT_TEST_JOB_GATE``
set to a folder, it writes ``started`` there once its rows are added and waits
for ``go`` before it commits: the test kills the process at that moment, mid-run.
"""

from __future__ import annotations

import time
from datetime import tzinfo
from os import environ
from pathlib import Path

from sqlmodel import Session, col, select

from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.module import Job, JobContext, Module
from handlers.core.pushes import Push
from models.members import Member, MemberStatus
from models.outbox import NewPush, PushKind, PushRow, enqueue

TOPIC = "roll_call"
JOB_ID = "roll_call"
GATE = "UNIONBOT_TEST_JOB_GATE"


def roll_call_key(day: str, member_id: int) -> str:
    return f"roll_call:{day}:member:{member_id}"


def queue_roll_call(context: JobContext) -> int:
    day = context.clock().astimezone(context.config.timezone).date().isoformat()
    with context.sessions() as session:
        members = session.exec(select(Member.id).where(col(Member.status) == MemberStatus.ACTIVE)).all()
        added = enqueue(
            session,
            [
                NewPush(
                    key=roll_call_key(day, member_id),
                    member_id=member_id,
                    kind=PushKind.REMINDER,
                    topic=TOPIC,
                )
                for member_id in members
                if member_id is not None
            ],
        )
        gate = environ.get(GATE)
        if gate:
            folder = Path(gate)
            (folder / "started").write_text(str(added))
            while not (folder / "go").exists():  # the test kills us here, mid-transaction
                time.sleep(0.05)
    return added


def render_roll_call(session: Session, row: PushRow, t: Translator, zone: tzinfo) -> Push | None:
    text = f"点名 {row.key}"
    return Push(title="点名", reply=Reply(text), body=text)


# "0 3 1 1 *": never during a test; the tests run it through the scheduler's catch-up after start-up.
MODULE = Module(
    name="roll_call",
    renderers={TOPIC: render_roll_call},
    jobs=(Job(id=JOB_ID, run=queue_roll_call, schedule="0 3 1 1 *"),),
)
