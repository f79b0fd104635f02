"""A delivery worker wired from the settings: its pushers, its shared limits, its lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from bot.app import App
from bot.channels.telegram.push import TelegramPusher, deactivate_blocked, push_bot
from bot.channels.telegram.render import CallbackCodec
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.push import WeChatDeliveryPusher, WeChatPusher, deactivate_unsubscribed
from bot.delivery.liveness import SingleWorkerLock, WorkerAlreadyRunning
from bot.delivery.rates import ChannelLimit, MemoryRates, Rates, RedisRates
from bot.delivery.results import Pusher
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.settings import Settings

log = logging.getLogger(__name__)

# Kept-alive connections to the Bot API (PushRequest): a few carry a thousand requests a second
# (bench/RESULTS.md, "Delivery"); rows in flight beyond them wait for one, which is safe (a request
# waiting for a connection has not been sent).
PUSH_CONNECTIONS = 4
# After a worker failed (database or channel unreachable at start), wait this long before the next one.
RESTART_SECONDS = 5.0


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        batch=settings.delivery_batch,
        in_flight=settings.delivery_in_flight,
        quiet_window=settings.quiet_window,
        zone=settings.zone,
        resend_uncertain=settings.resend_uncertain,
        default_locale=settings.default_locale,
        template_kinds=frozenset(settings.wechat_templates),
        heartbeat_ttl=settings.delivery_heartbeat_ttl,
    )


def channel_limits(settings: Settings) -> dict[str, ChannelLimit]:
    return {
        "telegram": ChannelLimit(settings.telegram_push_per_second, settings.telegram_push_chat_interval),
        "wechat": ChannelLimit(settings.wechat_push_per_second),
    }


def shared(settings: Settings) -> bool:
    """Several workers may run: they share the database (PostgreSQL) and the heartbeats and limits (Redis)."""
    return settings.redis_url is not None and settings.effective_database_url.startswith("postgresql")


@contextlib.asynccontextmanager
async def _pushers(app: App) -> AsyncIterator[dict[str, Pusher]]:
    settings = app.settings
    pushers: dict[str, Pusher] = {}
    closers: list[Any] = []
    try:
        if settings.telegram_token:
            telegram = TelegramPusher(
                push_bot(
                    settings.api_root(settings.telegram_api_url),
                    settings.telegram_token,
                    connections=PUSH_CONNECTIONS,
                    read_timeout=settings.telegram_push_read_timeout,
                    proxy=settings.telegram_proxy,
                ),
                codec=CallbackCodec(app.store),
                on_blocked=deactivate_blocked(app.sessions),
                connections=PUSH_CONNECTIONS,
            )
            await telegram.start()
            closers.append(telegram.close)
            pushers[telegram.channel] = telegram
        if settings.wechat_app_id and settings.wechat_app_secret:
            api = WeChatApi.from_settings(settings, app.store)
            closers.append(api.aclose)
            wechat = WeChatDeliveryPusher(
                WeChatPusher(
                    api,
                    templates=settings.wechat_templates,
                    on_unsubscribed=deactivate_unsubscribed(app.sessions),
                    zone=settings.zone,
                )
            )
            pushers[wechat.channel] = wechat
        if not pushers:
            log.warning("no channel configured: the delivery worker keeps every push waiting")
        yield pushers
    finally:
        for close in reversed(closers):
            await close()


async def run_worker(app: App, stop: asyncio.Event) -> None:
    """One worker until ``stop`` is set.

    Raises:
        WorkerAlreadyRunning: the database takes one worker at a time and has one.
    """
    settings = app.settings
    limits = channel_limits(settings)
    rates: Rates = (
        RedisRates.from_url(settings.redis_url, limits) if settings.redis_url else MemoryRates(limits)
    )
    try:
        async with _pushers(app) as pushers:
            worker = DeliveryWorker(
                sessions=app.sessions,
                store=app.store,
                rates=rates,
                pushers=pushers,
                catalogues=app.catalogues,
                config=worker_config(settings),
                lock=None if shared(settings) else SingleWorkerLock(app.engine),
                pushes=app.registry.pushes,
            )
            log.info("delivery worker %s started", worker.worker_id)
            await worker.run(stop)
            log.info("delivery worker %s stopped", worker.worker_id)
    finally:
        await rates.close()


async def supervise_worker(app: App, stop: asyncio.Event) -> None:
    """Keep a worker running beside the channels until ``stop``: a failed one is replaced.

    A replacement gets a new id; the rows its predecessor held are taken back
    once that one's heartbeat has expired.

    Raises:
        WorkerAlreadyRunning: see :func:`run_worker`; no point in trying again.
    """
    while not stop.is_set():
        try:
            await run_worker(app, stop)
        except WorkerAlreadyRunning:
            raise
        except Exception:
            log.exception("the delivery worker failed; starting another in %.0f s", RESTART_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_SECONDS)


@contextlib.contextmanager
def worker_in_background(app: App) -> Iterator[None]:
    """A delivery worker on a thread of its own while the block runs: the terminal demo's.

    The demo has no ``run`` process beside it, and without a worker a cadre's
    notice there would say 发送中 forever. With no channel configured the
    worker settles every push at once (a member reached only in the terminal
    has no account that takes pushes), so the notice ends with its report as
    it would in production. Where another worker already serves the database,
    this one steps aside.
    """
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            await supervise_worker(app, stop)
        except WorkerAlreadyRunning:
            log.info("another delivery worker serves this database; the terminal's steps aside")

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="delivery-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
