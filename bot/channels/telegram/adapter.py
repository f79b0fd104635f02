"""The Telegram channel: python-telegram-bot's Application in front of our core.

It does the four things every adapter does — verify, parse into ``Incoming``,
dispatch to the core, render the replies — plus what Telegram asks of a good
bot: answer button presses and take the keyboard away so an old button cannot
be pressed twice, keep within the flood limits, and stop writing to people who
blocked the bot.

The core is synchronous (it is a database transaction per message), so each
message runs in a worker thread; messages of one chat are handled in order,
different chats concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.channels.store_calls import call_store
from bot.channels.telegram.limits import SendLimiter
from bot.channels.telegram.render import CallbackCodec
from bot.channels.telegram.sender import TelegramSender
from bot.channels.turns import Turns
from bot.core_runner import Core
from handlers import modules
from handlers.core.i18n import Catalogues, negotiate_locale
from handlers.core.messages import Incoming, Media, MediaKind, Reply, merge_replies
from handlers.core.module import Command
from models.accounts import Channel, deactivate_account
from models.db import SessionFactory
from models.ephemeral import EphemeralStore

log = logging.getLogger(__name__)

CHANNEL = Channel.TELEGRAM.value
# Bots may download files up to 20 MB; larger ones are described, not fetched,
# so the dialog can refuse them with the limit.
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPDATE_SEEN_TTL = 24 * 3600
GROUP_NOTICE_TTL = 30 * 24 * 3600
EXPIRED_BUTTON = "d:expired:button:"
# Telegram takes ~30 sends a second: more connections and concurrent updates
# only add pool bookkeeping and thread contention (measured, bench/RESULTS.md).
CONCURRENT_UPDATES = 16
CONNECTION_POOL_SIZE = 16
POOL_TIMEOUT = 10.0

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


def _suffix(file_name: str | None) -> str:
    """The extension of a sender's file name, when it is a plain one (".xlsx"); else none."""
    match = _EXTENSION.search(file_name or "")
    return match.group().lower() if match else ""


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    api_root: str = "https://api.telegram.org"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    bot_username: str | None = None
    media_dir: Path = Path("data/media")
    # Telegram's limits (UNIONBOT_TELEGRAM_PUSH_PER_SECOND, UNIONBOT_TELEGRAM_PUSH_CHAT_INTERVAL).
    per_second: float = 30.0
    per_chat_interval: float = 1.0
    # Every Bot API request goes through it: http://host:port or socks5://host:port (UNIONBOT_TELEGRAM_PROXY).
    proxy: str | None = None
    # A reply is often two or three messages (an answer, then the menu): let
    # them out together, and keep the 1-a-second pace beyond that.
    per_chat_burst: int = 3
    # Bot API requests running at once (see TelegramSender).
    max_in_flight: int = 8
    # The command list Telegram shows beside the text box: the modules' (Module.commands).
    commands: tuple[Command, ...] = field(default_factory=lambda: modules.REGISTRY.commands)


def _seen_key(update_id: int) -> str:
    return f"tg:update:{update_id}"


def _has_media(message: Message) -> bool:
    return bool(message.photo or message.document or message.voice)


class TelegramChannel:
    """Owns the PTB Application and everything between it and the core."""

    def __init__(
        self,
        *,
        core: Core,
        sessions: SessionFactory,
        store: EphemeralStore,
        catalogues: Catalogues,
        config: TelegramConfig,
        limiter: SendLimiter | None = None,
    ) -> None:
        self.core = core
        self.sessions = sessions
        self.store = store
        self.catalogues = catalogues
        self.config = config
        self.codec = CallbackCodec(store)
        self.limiter = limiter or SendLimiter(
            config.per_second, config.per_chat_interval, per_chat_burst=config.per_chat_burst
        )
        self.turns = Turns()
        builder = (
            ApplicationBuilder()
            .token(config.token)
            .base_url(f"{config.api_root}/bot")
            .base_file_url(f"{config.api_root}/file/bot")
            # Different members are served at once; one member's messages in order (see self.turns).
            .concurrent_updates(CONCURRENT_UPDATES)
            .connection_pool_size(CONNECTION_POOL_SIZE)
            .pool_timeout(POOL_TIMEOUT)
        )
        if config.proxy:
            # Long polling has a request of its own (get_updates_*): both go through the proxy.
            builder = builder.proxy(config.proxy).get_updates_proxy(config.proxy)
        if config.webhook_url:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.sender = TelegramSender(
            self.application.bot,
            limiter=self.limiter,
            codec=self.codec,
            on_blocked=self._blocked,
            max_in_flight=config.max_in_flight,
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, register the commands, then poll or set the webhook."""
        await self.application.initialize()
        await self._register_commands()
        await self.application.start()
        if self.config.webhook_url:
            await self.application.bot.set_webhook(
                url=self.config.webhook_url,
                secret_token=self.config.webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
        else:
            # A webhook left over from an earlier deployment would make getUpdates fail.
            await self.application.bot.delete_webhook()
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                allowed_updates=["message", "callback_query"], timeout=timedelta(seconds=30)
            )
        me = await self.application.bot.get_me()
        log.info(
            "Telegram channel up as @%s (%s)",
            me.username,
            "webhook" if self.config.webhook_url else "polling",
        )

    async def stop(self) -> None:
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def feed(self, payload: dict[str, Any]) -> None:
        """Hand a webhook update to the Application, as the polling updater would."""
        update = Update.de_json(payload, self.application.bot)
        await self.application.update_queue.put(update)

    async def _register_commands(self) -> None:
        # Telegram takes two-letter codes only: zh_CN and zh_TW share "zh".
        for language_code, locale in ((None, "zh_CN"), ("zh", "zh_CN"), ("en", "en")):
            _ = self.catalogues.get(locale)
            commands = [BotCommand(command.name, _(command.description)) for command in self.config.commands]
            await self.application.bot.set_my_commands(commands, language_code=language_code)

    # -- inbound ---------------------------------------------------------------------------------

    def _first_time(self, key: str, ttl: int) -> bool:
        return self.store.set(key, "1", ttl, only_if_absent=True)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        user = update.effective_user
        if chat is None or user is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self._group_notice(update)
            return
        # Everything for one chat happens under its lock, awaits included, so a
        # member's quick second message can never overtake the first.
        async with self.turns.turn(chat.id):
            message = update.effective_message
            if update.callback_query is None and message is not None and not _has_media(message):
                # Plain text, the common case: de-duplicate and answer in one trip to the worker thread.
                incoming = Incoming(CHANNEL, str(user.id), text=message.text, locale=user.language_code)
                replies = await self._handle_once(update.update_id, incoming)
            else:
                # A press must be acknowledged and a photo fetched first, but only once.
                if not await asyncio.to_thread(
                    self._first_time, _seen_key(update.update_id), UPDATE_SEEN_TTL
                ):
                    return
                pressed_or_sent = await self._incoming(update)
                if pressed_or_sent is None:
                    return
                replies = await self.core.answer(pressed_or_sent)
            for reply in merge_replies(replies):
                await self.sender.send_reply(chat.id, reply)

    async def _handle_once(self, update_id: int, incoming: Incoming) -> list[Reply]:
        """Answer a message unless it is a redelivery.

        Telegram redelivers an update after a non-2xx webhook answer or a crash
        before the offset moved; the update id tells a redelivery from a new message.
        """
        if not await call_store(self.store, lambda: self._first_time(_seen_key(update_id), UPDATE_SEEN_TTL)):
            return []
        return await self.core.answer(incoming)

    async def _incoming(self, update: Update) -> Incoming | None:
        user = update.effective_user
        assert user is not None
        key = str(user.id)
        locale = user.language_code
        query = update.callback_query
        if query is not None:
            return await self._pressed(query, key, locale)
        message = update.effective_message
        if message is None:
            return None
        media = await self._media(message)
        return Incoming(CHANNEL, key, text=message.text or message.caption, media=media, locale=locale)

    async def _pressed(self, query: CallbackQuery, key: str, locale: str | None) -> Incoming:
        # Acknowledging a press is not a message to the chat: only the global rate applies.
        # It only stops the button's spinner, and Telegram takes it within its answer window
        # only: a press that waited out a restart or a backlog is refused ("query is too
        # old"), yet it is still the member's answer.
        try:
            await self.sender.call(None, query.answer)
        except TelegramError as error:
            log.debug("a button press could not be acknowledged (%s); it is handled all the same", error)
        if isinstance(query.message, Message) and query.message.reply_markup is not None:
            # The keyboard goes away once used: a second tap on an old button cannot act twice.
            try:
                await self.sender.call(None, lambda: query.edit_message_reply_markup(None))
            except BadRequest as error:  # already edited by a double tap
                log.debug("keyboard already removed: %s", error)
        payload = await asyncio.to_thread(self.codec.decode, query.data or "")
        return Incoming(
            CHANNEL, key, button=payload if payload is not None else EXPIRED_BUTTON, locale=locale
        )

    async def _media(self, message: Message) -> Media | None:
        if message.photo:
            photo = message.photo[-1]  # the largest size comes last
            path = await self._download(photo.file_id, photo.file_unique_id, ".jpg", photo.file_size)
            ref = str(path) if path else photo.file_id
            return Media(MediaKind.PHOTO, ref, "image/jpeg", photo.file_size, None)
        if message.document:
            document = message.document
            path = await self._download(
                document.file_id, document.file_unique_id, _suffix(document.file_name), document.file_size
            )
            return Media(
                MediaKind.DOCUMENT,
                str(path) if path else document.file_id,
                document.mime_type,
                document.file_size,
                document.file_name,
            )
        if message.voice:
            return Media(
                MediaKind.VOICE, message.voice.file_id, message.voice.mime_type, message.voice.file_size
            )
        return None

    async def _download(self, file_id: str, unique_id: str, suffix: str, size: int | None) -> Path | None:
        """Keep a member's photo or file in the media folder; too-large files are left where they are.

        The name on disk is Telegram's unique id and the file's extension: never a name the
        sender chose, which could climb out of the folder or collide with another member's.
        """
        if size is not None and size > DOWNLOAD_LIMIT:
            return None
        folder = self.config.media_dir / CHANNEL
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{unique_id}{suffix}"
        if not path.exists():
            telegram_file = await self.application.bot.get_file(file_id)
            partial = path.with_suffix(suffix + ".part")
            await telegram_file.download_to_drive(partial)
            partial.replace(path)
        return path

    async def _group_notice(self, update: Update) -> None:
        """In a group, say once where to talk to us, and stay out of the way after that."""
        chat = update.effective_chat
        assert chat is not None
        if not await asyncio.to_thread(self._first_time, f"tg:group:{chat.id}", GROUP_NOTICE_TTL):
            return
        user = update.effective_user
        _ = self.catalogues.get(negotiate_locale(user.language_code if user else None))
        username = self.config.bot_username or self.application.bot.username
        text = _("为保护个人信息，工会助手只在私聊中办理事项。请点这里和我私聊：{link}").format(
            link=f"https://t.me/{username}"
        )
        await self.sender.call(chat.id, lambda: self.application.bot.send_message(chat.id, text))

    async def _blocked(self, chat_id: int) -> None:
        await asyncio.to_thread(self._deactivate, chat_id)

    def _deactivate(self, chat_id: int) -> None:
        with self.sessions() as session:
            deactivate_account(session, channel=CHANNEL, external_id=str(chat_id))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with the update id, and make sure the member is not left without an answer."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("error handling Telegram update %s", update_id, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        _ = self.catalogues.get(negotiate_locale(user.language_code if user else None))
        text = _("抱歉，出了点问题（编号 {incident}）。请稍后再试，或联系本单位工会。").format(
            incident=f"tg-{update_id}"
        )
        chat_id = update.effective_chat.id
        try:
            await self.application.bot.send_message(chat_id, text)
        except Exception:  # the apology is best effort: the failure is already logged
            log.exception("could not apologise to chat %s", chat_id)
