"""Sending to Telegram: replies now, pushes from the delivery worker later, one policy for both.

Telegram allows about 30 messages a second per bot and about one a second per
chat; it answers 429 with how long to wait, 403 when a member blocked the bot.
python-telegram-bot's AIORateLimiter knows neither the per-chat limit nor a
shared pause (docs/LIBRARIES.md), so the policy lives here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from telegram import Bot as TelegramBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram.limits import SendLimiter, backoff
from bot.channels.telegram.render import CallbackCodec, keyboard_rows, split_text
from handlers.core.messages import Reply

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_SEND_ATTEMPTS = 5


class TelegramSender:
    """Renders neutral replies and sends them within Telegram's limits.

    ``on_blocked`` hears of every chat that answered 403, so the caller can
    stop pushing to it.
    """

    def __init__(
        self,
        bot: TelegramBot,
        *,
        limiter: SendLimiter,
        codec: CallbackCodec,
        on_blocked: Callable[[int], Awaitable[None]],
        max_in_flight: int = 8,
    ) -> None:
        self.bot = bot
        self.limiter = limiter
        self.codec = codec
        self.on_blocked = on_blocked
        # Few requests at a time keep few connections open: httpcore's pool walks
        # and polls every open connection on every request, which cost the bot
        # about a fifth of its CPU with up to 16 (bench/RESULTS.md). Eight at a
        # time still carry Telegram's 30 a second at 250 ms a round trip.
        self._in_flight = asyncio.Semaphore(max_in_flight)

    async def send_reply(self, chat_id: int, reply: Reply) -> None:
        """Send one neutral reply: text in parts, buttons on the last part, then any image or file.

        Text goes out without parse_mode, so *, _, < and & in what members wrote
        are shown as typed and can never break a message.
        """
        parts = [part for part in split_text(reply.text) if part.strip()]
        markup = await self._markup(reply) if reply.buttons else None
        for index, part in enumerate(parts):
            keyboard = markup if index == len(parts) - 1 else None

            async def send_part(
                text: str = part, keyboard: InlineKeyboardMarkup | None = keyboard
            ) -> Message:
                return await self.bot.send_message(chat_id, text, reply_markup=keyboard)

            await self.call(chat_id, send_part)
        if reply.image is not None:
            image = reply.image
            await self.call(chat_id, lambda: self.bot.send_photo(chat_id, Path(image.path)))
        if reply.file is not None:
            attachment = reply.file
            await self.call(
                chat_id,
                lambda: self.bot.send_document(chat_id, Path(attachment.path), filename=attachment.name),
            )

    async def _markup(self, reply: Reply) -> InlineKeyboardMarkup:
        if all(self.codec.fits(button.payload) for button in reply.buttons):
            rows = keyboard_rows(reply.buttons, self.codec)  # no payload needs the store
        else:
            rows = await asyncio.to_thread(keyboard_rows, reply.buttons, self.codec)
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
        )

    async def call(self, chat_id: int | None, request: Callable[[], Awaitable[T]]) -> T | None:
        """One API request within the flood limits, retried when that is safe.

        ``chat_id`` None: not a message to a chat (answering a button press), so
        only the bot-wide rate applies. At most ``max_in_flight`` requests run at once.

        - 429: wait what Telegram says, for every chat (its limit is per bot), then retry.
        - 403: the member blocked the bot; tell ``on_blocked`` and give up (returns None).
        - a connection that failed before the request went out: retry with backoff.
        - a read timeout: the message may have arrived (PTB #1045), so it is never retried.
        """
        for attempt in range(MAX_SEND_ATTEMPTS):
            await self.limiter.acquire(chat_id)
            try:
                async with self._in_flight:
                    return await request()
            except RetryAfter as error:
                log.warning("Telegram flood control: waiting %s", error.retry_after)
                self.limiter.pause(error.retry_after)
            except Forbidden:
                log.info("chat %s blocked the bot; no more pushes to it", chat_id)
                if chat_id is not None:
                    await self.on_blocked(chat_id)
                return None
            except (TimedOut, BadRequest):
                raise
            except NetworkError as error:
                wait = backoff(attempt)
                log.warning("Telegram unreachable (%s); retrying in %.1f s", error, wait)
                await asyncio.sleep(wait)
        raise NetworkError(f"gave up after {MAX_SEND_ATTEMPTS} attempts")
