"""What the worker hands a channel's pusher, and what the pusher answers.

Channel-neutral on purpose: the worker decides what a result means for the
outbox row (sent, retry later, failed, uncertain) and never sees a Telegram
exception or a WeChat error code; the pushers in bot/channels never touch
the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from handlers.core.pushes import Push
from models.outbox import PushKind


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # nothing arrived, and a later try may work (network, 5xx, 429)
    FAILED = "failed"  # this push can never go through on any channel (a malformed message)
    UNREACHABLE = "unreachable"  # this account can't take it (blocked, unsubscribed): try the next one
    UNCERTAIN = "uncertain"  # the request went out and no answer came back: the member may have it


@dataclass(frozen=True)
class SendResult:
    """What became of one push on one account.

    Attributes:
        external_ref: the channel's id of what was sent (a Telegram message id).
        retry_after: how long the channel asked us to wait (a 429's retry_after), seconds.
        pause: the wait applies to the whole bot on this channel, not to this member:
            every worker holds back (Telegram's flood control).
        error: why it did not go, or a note about what went only partly.
    """

    outcome: Outcome
    external_ref: str | None = None
    retry_after: float | None = None
    pause: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Target:
    """One account a push may go to: a route from models.reach."""

    channel: str
    external_id: str
    last_seen_at: datetime | None


@dataclass(frozen=True)
class Job:
    """One claimed row, rendered in the member's language, with the accounts to try in order.

    ``previous_channel`` and ``previous_ref`` say where the row went last time, so
    a progress message (``push.edit_in_place``) can be edited instead of sent again.
    """

    row_id: int
    key: str
    kind: PushKind
    topic: str
    subject_id: int | None
    push: Push
    targets: tuple[Target, ...]
    attempts: int
    time: datetime
    previous_channel: str | None = None
    previous_ref: str | None = None


# Called by a pusher before each request it makes: returns when the channel's
# limits allow one more (a long reply split in parts needs several).
Acquire = Callable[[], Awaitable[None]]


class Pusher(Protocol):
    """A channel's way of sending one push to one account, one try, no retries or sleeps of its own."""

    channel: str

    async def send(self, job: Job, target: Target, acquire: Acquire) -> SendResult: ...
