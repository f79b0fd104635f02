"""Pushes to Telegram for the delivery worker: one try, its outcome named, no retries or sleeps here.

The worker owns retrying, waiting and recording (bot/delivery); this module
only knows what Telegram's answers mean:

- 403: the member blocked the bot. The account is deactivated (as for a
  reply, see TelegramSender.on_blocked) and the push goes to the member's
  other account, if any.
- 429: flood control for the whole bot: retry after ``retry_after``, and every
  worker pauses that long.
- a connection that failed before the request went out, or an HTTP 5xx: retry.
- a read timeout or a connection lost after sending: the message may have
  arrived (PTB #1045), so it is uncertain, never blindly resent.
- "chat not found": this account is unreachable; any other Bad Request is a
  push Telegram will never take.

A progress message (``Push.edit_in_place``) whose row went out on Telegram
before is edited in place (editMessageText) instead of sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import sniffio
from telegram import Bot as TelegramBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.telegram.push_http import PushRequest, RequestNotSent
from bot.channels.telegram.render import CallbackCodec, keyboard_rows, split_text
from bot.delivery.results import Acquire, Job, Outcome, SendResult, Target
from handlers.core.messages import Reply
from models.accounts import deactivate_account
from models.db import SessionFactory

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# Transport failures that happen before the request left: Telegram never saw it.
# RequestNotSent comes from PushRequest; the httpx ones from the HTTPXRequest that uploads files.
_NOT_SENT = (
    RequestNotSent,
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
_NOT_MODIFIED = "message is not modified"
_EDIT_GONE = ("message to edit not found", "message can't be edited")

# A text part goes out through Bot.do_api_request, which hands back Telegram's JSON as it came:
# Bot.send_message would parse every answer into a Message (a few dozen objects) only for the
# worker to keep its message_id, a tenth of a push's CPU at a thousand a second. The Bot API's
# method names are case-insensitive (its documentation says so); written in lower case the name
# is not a Bot attribute, so do_api_request does not warn on every push that Bot.send_message
# exists (a warning, even filtered out, walks the stack: 1.4 % of the worker's CPU).
_SEND_MESSAGE = "sendmessage"


def push_bot(
    api_root: str,
    token: str,
    *,
    connections: int = 4,
    read_timeout: float = 15.0,
    proxy: str | None = None,
) -> TelegramBot:
    """A Bot for pushing, with enough kept-alive connections for the worker's requests in flight.

    Its requests go through :class:`PushRequest` (why: that module's docstring), through ``proxy``
    when one is set (``UNIONBOT_TELEGRAM_PROXY``). The pool timeout is long: a request waiting for
    a connection has not been sent, and the worker never has more in flight than the pool holds anyway.
    """
    request = PushRequest(connections=connections, pool_timeout=30.0, read_timeout=read_timeout, proxy=proxy)
    # The worker never polls for updates: the one client serves both of the Bot's slots.
    return TelegramBot(
        token,
        base_url=f"{api_root}/bot",
        base_file_url=f"{api_root}/file/bot",
        request=request,
        get_updates_request=request,
    )


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramPusher:
    """Sends one push to one Telegram chat for the delivery worker.

    Args:
        bot: a python-telegram-bot Bot (see :func:`push_bot`); :meth:`start` initialises it.
        codec: button payloads into ``callback_data``, shared with the channel that reads them back.
        on_blocked: hears of each chat that blocked the bot (deactivate its account).
    """

    channel = CHANNEL

    def __init__(
        self,
        bot: TelegramBot,
        *,
        codec: CallbackCodec,
        on_blocked: Callable[[int], Awaitable[None]],
        connections: int = 4,
    ) -> None:
        self.bot = bot
        self.codec = codec
        self.on_blocked = on_blocked
        # Requests beyond the kept-alive connections wait here, before they take a rate slot: the
        # slot is taken with the connection in hand, so the request leaves on its slot.
        self._requests = asyncio.Semaphore(connections)

    async def start(self) -> None:
        """Initialise the Bot; the tasks the caller's task starts from now on send through it.

        Uploads go through httpx, where httpcore and anyio ask sniffio which event loop they run
        on at every lock, timeout and read, and sniffio finds asyncio by looking up the current
        task each time (4 % of the worker's CPU when every push went through httpx). Saying it
        once in the caller's context (which the worker's tasks inherit) answers at the first look.
        """
        sniffio.current_async_library_cvar.set("asyncio")
        try:
            await self.bot.initialize()
        except BaseException:
            # A refused token (401) fails here after the connections opened; the worker is started
            # again every few seconds, and each try would leave its connections behind.
            await self.bot.request.shutdown()
            raise

    async def close(self) -> None:
        await self.bot.shutdown()

    async def send(self, job: Job, target: Target, acquire: Acquire) -> SendResult:
        chat_id = int(target.external_id)
        reply = job.push.reply
        parts = [part for part in split_text(reply.text) if part.strip()]
        markup = await self._markup(reply) if reply.buttons else None
        sent: list[int] = []  # the message ids
        try:
            if (
                job.push.edit_in_place
                and job.previous_channel == CHANNEL
                and job.previous_ref
                and len(parts) == 1
                and reply.image is None
                and reply.file is None
            ):
                edited = await self._edit(chat_id, int(job.previous_ref), parts[0], markup, acquire)
                if edited is not None:
                    return edited
            for index, part in enumerate(parts):
                keyboard = markup if index == len(parts) - 1 else None
                params: dict[str, object] = {"chat_id": chat_id, "text": part}
                if keyboard is not None:
                    params["reply_markup"] = keyboard
                async with self._requests:
                    await acquire()
                    answer = await self.bot.do_api_request(_SEND_MESSAGE, api_kwargs=params)
                sent.append(int(answer["message_id"]))
            if reply.image is not None:
                async with self._requests:
                    await acquire()
                    photo = await self.bot.send_photo(chat_id, Path(reply.image.path))
                sent.append(photo.message_id)
            if reply.file is not None:
                async with self._requests:
                    await acquire()
                    document = await self.bot.send_document(
                        chat_id, Path(reply.file.path), filename=reply.file.name
                    )
                sent.append(document.message_id)
        except TelegramError as error:
            result = await self._failed(chat_id, error)
            if sent:
                # Part of it is with the member: sending it again would repeat that part.
                return SendResult(
                    Outcome.SENT, external_ref=str(sent[0]), error=f"partly sent: {result.error}"
                )
            return result
        if not sent:
            return SendResult(Outcome.FAILED, error="nothing to send")
        return SendResult(Outcome.SENT, external_ref=str(sent[0]))

    async def _edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        acquire: Acquire,
    ) -> SendResult | None:
        """The progress message edited in place; None when it is gone and a new one must go."""
        try:
            async with self._requests:
                await acquire()
                await self.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
        except BadRequest as error:
            message = str(error).lower()
            if _NOT_MODIFIED in message:
                return SendResult(Outcome.SENT, external_ref=str(message_id))
            if any(gone in message for gone in _EDIT_GONE):
                return None
            raise
        return SendResult(Outcome.SENT, external_ref=str(message_id))

    async def _markup(self, reply: Reply) -> InlineKeyboardMarkup:
        if all(self.codec.fits(button.payload) for button in reply.buttons):
            rows = keyboard_rows(reply.buttons, self.codec)
        else:
            rows = await asyncio.to_thread(
                keyboard_rows, reply.buttons, self.codec
            )  # long payloads: the store
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
        )

    async def _failed(self, chat_id: int, error: TelegramError) -> SendResult:
        if isinstance(error, RetryAfter):
            wait = _seconds(error.retry_after)
            log.warning("Telegram flood control on a push: every worker waits %.1f s", wait)
            return SendResult(Outcome.RETRY, retry_after=wait, pause=True, error="429 flood control")
        if isinstance(error, Forbidden):
            log.info("chat %s blocked the bot; its account gets no more pushes", chat_id)
            await self.on_blocked(chat_id)
            return SendResult(Outcome.UNREACHABLE, error="blocked")
        if isinstance(error, BadRequest):
            if "chat not found" in str(error).lower():
                return SendResult(Outcome.UNREACHABLE, error="chat not found")
            return SendResult(Outcome.FAILED, error=f"refused: {error}")
        if isinstance(error, TimedOut):
            if isinstance(error.__cause__, _NOT_SENT):
                return SendResult(Outcome.RETRY, error="not sent: connection timed out")
            return SendResult(Outcome.UNCERTAIN, error="no answer in time")
        if isinstance(error, NetworkError):
            cause = error.__cause__
            if cause is None or isinstance(cause, _NOT_SENT):  # an HTTP 5xx answer, or never connected
                return SendResult(Outcome.RETRY, error=f"network: {error}")
            return SendResult(Outcome.UNCERTAIN, error=f"connection lost: {error}")
        return SendResult(Outcome.RETRY, error=f"{type(error).__name__}: {error}")


def deactivate_blocked(sessions: SessionFactory) -> Callable[[int], Awaitable[None]]:
    """An ``on_blocked`` callback that marks the chat's account inactive; writing again revives it."""

    def deactivate(chat_id: int) -> None:
        with sessions() as session:
            deactivate_account(session, channel=CHANNEL, external_id=str(chat_id))

    async def callback(chat_id: int) -> None:
        await asyncio.to_thread(deactivate, chat_id)

    return callback
