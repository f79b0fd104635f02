"""Pushing to a WeChat member: a customer-service message while WeChat allows one, else a template.

WeChat lets an Official Account send free-form (customer-service) messages
only within 48 hours of the member's last message, and only a few of them
(docs/LIBRARIES.md); outside that window only template messages go out, one
template per kind of push, applied for in the WeChat console and configured
in ``UNIONBOT_WECHAT_TEMPLATES``. Template fields are short and strictly
checked — a ``thing`` over 20 characters fails the whole message — so values
are shortened here; the full text is behind the link and in the chat.

The delivery engine calls :meth:`WeChatPusher.push` for one outbox row and
records the :class:`PushOutcome`; it never sees WeChat's error codes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path

from bot.channels.wechat.api import (
    TEMPLATE_SEND_PATH,
    NotSubscribed,
    ReplyWindowClosed,
    WeChatApi,
    WeChatApiError,
)
from bot.delivery.results import Acquire, Job, Outcome, SendResult, Target
from bot.settings import PushKind, WeChatTemplate
from models.accounts import Channel, deactivate_account
from models.base import utcnow
from models.db import SessionFactory

log = logging.getLogger(__name__)

__all__ = [
    "CUSTOMER_SERVICE_WINDOW",
    "PushOutcome",
    "PushResult",
    "WeChatDeliveryPusher",
    "WeChatPusher",
    "client_msg_id",
    "deactivate_unsubscribed",
    "fit_field",
    "template_data",
]

CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)

# WeChat's per-type limits on a template field, keyed by the type prefix of the
# field's name (thing1 → thing), and what marks a shortened value. Only ``thing``
# takes "…"; the other short types accept pure Chinese (phrase, name), letters
# or digits only, so they are cut without a mark; character_string takes ASCII
# symbols, so "...".
FIELD_LIMITS: Mapping[str, tuple[int, str]] = {
    "thing": (20, "…"),
    "character_string": (32, "..."),
    "phrase": (5, ""),
    "name": (10, ""),  # 10 Chinese characters, or 20 letters (see fit_field)
    "letter": (32, ""),
    "number": (32, ""),
    "symbol": (5, ""),
    "phone_number": (17, ""),
    "car_number": (8, ""),
}
# Accepted by "time" and "date" fields alike (year-month-day plus 24-hour time).
TIME_FORMAT = "%Y-%m-%d %H:%M"
# WeChat refuses an empty field value.
EMPTY_VALUE = "-"

OnUnsubscribed = Callable[[str], Awaitable[None]]


class PushOutcome(StrEnum):
    """What became of one push, for the delivery engine to record."""

    SENT_CUSTOMER_SERVICE = "sent_customer_service"
    SENT_TEMPLATE = "sent_template"
    UNSUBSCRIBED = "unsubscribed"  # the account is marked inactive; don't retry
    NO_TEMPLATE = "no_template"  # outside the window and no template for the kind; don't retry
    RETRY_LATER = "retry_later"
    FAILED = "failed"  # permanently: retrying the same push cannot help

    @property
    def delivered(self) -> bool:
        return self in (PushOutcome.SENT_CUSTOMER_SERVICE, PushOutcome.SENT_TEMPLATE)


@dataclass(frozen=True)
class PushResult:
    """The outcome, WeChat's msgid for a template, and the error behind a failure.

    ``error.maybe_delivered`` on RETRY_LATER says the message may have arrived
    although WeChat's answer did not: a retried template is deduplicated by its
    client_msg_id, a retried customer-service text may show twice.
    """

    outcome: PushOutcome
    msgid: int | None = None
    error: WeChatApiError | None = None

    @property
    def errcode(self) -> int | None:
        return self.error.errcode if self.error is not None else None


def client_msg_id(key: str) -> str:
    """The template message's de-duplication id for an outbox key: stable, short, opaque.

    WeChat sends one message per openid and id within 10 minutes, so a retried
    push after a lost answer is not shown twice. Hashed, because the key may be
    long or carry internal ids WeChat has no business seeing.
    """
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def fit_field(name: str, value: str) -> str:
    """A value that WeChat accepts in the template field ``name`` (thing1, phrase3…).

    Whitespace and line breaks become single spaces (control characters are
    refused), an empty value becomes "-", and a value over the field type's
    limit is shortened. Unknown types are passed through.
    """
    value = " ".join(value.split()) or EMPTY_VALUE
    field_type = re.sub(r"\d+$", "", name)
    limit, mark = FIELD_LIMITS.get(field_type, (0, ""))
    if field_type == "name" and value.isascii():
        limit = 20
    if not limit or len(value) <= limit:
        return value
    return value[: limit - len(mark)].rstrip() + mark


def template_data(template: WeChatTemplate, values: Mapping[str, str]) -> dict[str, str]:
    """The template's fields filled from ``values`` (title, body, time, unit), each made to fit."""
    return {key: fit_field(key, values.get(source, "")) for key, source in template.fields.items()}


def deactivate_unsubscribed(sessions: SessionFactory) -> OnUnsubscribed:
    """An ``on_unsubscribed`` callback that marks the member's WeChat account inactive.

    The binding stays: when the member follows again and writes, the account
    is active again (models.accounts.touch_account).
    """

    def deactivate(openid: str) -> None:
        with sessions() as session:
            deactivate_account(session, channel=Channel.WECHAT, external_id=openid)

    async def callback(openid: str) -> None:
        await asyncio.to_thread(deactivate, openid)

    return callback


class WeChatPusher:
    """The push policy: customer service within the window, the kind's template otherwise.

    Args:
        api: the WeChat client.
        templates: the configured template per kind of push (settings.wechat_templates).
        on_unsubscribed: called with the openid when WeChat says 43004
            (e.g. :func:`deactivate_unsubscribed`).
        zone: the zone times are shown in (settings.zone).
        clock: now, aware UTC.
    """

    def __init__(
        self,
        api: WeChatApi,
        *,
        templates: Mapping[PushKind, WeChatTemplate],
        on_unsubscribed: OnUnsubscribed,
        zone: tzinfo,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.api = api
        self.templates = templates
        self.on_unsubscribed = on_unsubscribed
        self.zone = zone
        self.clock = clock

    async def push(
        self,
        *,
        openid: str,
        last_seen_at: datetime | None,
        kind: PushKind,
        title: str,
        body: str,
        time: datetime,
        key: str,
        unit: str | None = None,
        url: str | None = None,
        image: Path | None = None,
    ) -> PushResult:
        """Send one push (already in the member's language) and say what became of it. Never raises
        for WeChat's answers: every one becomes a :class:`PushOutcome`.

        Args:
            openid: the member's WeChat account.
            last_seen_at: when the member last wrote to us (ChatAccount.last_seen_at).
            kind: which configured template applies outside the window.
            title, body, time, unit: what the push says; the template's mapping
                picks which of them fill its fields.
            key: the outbox idempotency key; the template's client_msg_id derives from it.
            url: where the full text is (the template's link; appended to a text).
            image: a picture to follow the text (a ranking's chart), uploaded as temporary
                media; within the window only, since a template carries text alone.
        """
        if last_seen_at is not None and self.clock() - last_seen_at < CUSTOMER_SERVICE_WINDOW:
            text = "\n".join(part for part in (title, body, unit, url) if part)
            try:
                await self.api.send_text(openid, text)
            except ReplyWindowClosed:
                log.info("customer-service window closed for a WeChat member; sending the template")
            except WeChatApiError as error:
                return await self._failed(openid, error)
            else:
                if image is not None:
                    await self._send_image(openid, image)
                return PushResult(PushOutcome.SENT_CUSTOMER_SERVICE)
        template = self.templates.get(kind)
        if template is None:
            return PushResult(PushOutcome.NO_TEMPLATE)
        values = {
            "title": title,
            "body": body,
            "time": time.astimezone(self.zone).strftime(TIME_FORMAT),
            "unit": unit or "",
        }
        try:
            msgid = await self.api.send_template(
                openid,
                template.id,
                template_data(template, values),
                url=url,
                client_msg_id=client_msg_id(key),
            )
        except WeChatApiError as error:
            return await self._failed(openid, error)
        return PushResult(PushOutcome.SENT_TEMPLATE, msgid=msgid)

    async def _send_image(self, openid: str, image: Path) -> None:
        """The picture after its text. The text already went and says everything, so a failed
        upload is logged, not retried: a retry would send the text a second time."""
        try:
            await self.api.send_image(openid, image)
        except WeChatApiError as error:
            log.warning("WeChat image after a push's text not sent: %s", error)

    async def _failed(self, openid: str, error: WeChatApiError) -> PushResult:
        if isinstance(error, NotSubscribed):
            log.info("WeChat member %s unfollowed; no more pushes until they write again", openid)
            await self.on_unsubscribed(openid)
            return PushResult(PushOutcome.UNSUBSCRIBED, error=error)
        if error.transient:
            log.warning("WeChat push failed, will retry: %s", error)
            return PushResult(PushOutcome.RETRY_LATER, error=error)
        log.warning("WeChat push failed for good: %s", error)
        return PushResult(PushOutcome.FAILED, error=error)


class WeChatDeliveryPusher:
    """:class:`WeChatPusher` for the delivery worker: one outbox row's push, its outcome named.

    A customer-service text that got no answer may have arrived and is
    uncertain; a template message is not, since WeChat drops a second one with
    the same client_msg_id (derived from the outbox key) for 10 minutes.
    """

    channel = Channel.WECHAT.value

    def __init__(self, pusher: WeChatPusher) -> None:
        self.pusher = pusher

    async def send(self, job: Job, target: Target, acquire: Acquire) -> SendResult:
        await acquire()
        push = job.push
        result = await self.pusher.push(
            openid=target.external_id,
            last_seen_at=target.last_seen_at,
            kind=job.kind.value,
            title=push.title,
            body=push.body,
            time=job.time,
            key=job.key,
            unit=push.unit,
            url=push.url,
            image=Path(push.reply.image.path) if push.reply.image is not None else None,
        )
        outcome = result.outcome
        if outcome.delivered:
            return SendResult(
                Outcome.SENT, external_ref=str(result.msgid) if result.msgid is not None else None
            )
        error = str(result.error) if result.error is not None else outcome.value
        if outcome in (PushOutcome.UNSUBSCRIBED, PushOutcome.NO_TEMPLATE):
            return SendResult(Outcome.UNREACHABLE, error=outcome.value)
        if outcome is PushOutcome.RETRY_LATER:
            if (
                result.error is not None
                and result.error.maybe_delivered
                and result.error.path != TEMPLATE_SEND_PATH
            ):
                return SendResult(Outcome.UNCERTAIN, error=error)
            return SendResult(Outcome.RETRY, error=error)
        return SendResult(Outcome.FAILED, error=error)
