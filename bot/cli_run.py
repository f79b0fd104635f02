"""``python -m bot run``: serve the configured chat channels and a delivery worker until stopped.

``--only channels`` serves the channels alone, ``--only worker`` runs a
delivery worker alone (more workers scale the pushes out; PostgreSQL and
Redis let them share the work and the channels' limits).

The scheduled jobs (scheduler/) run beside the delivery worker: in the default
mode and with ``--only worker``, never with ``--only channels``. Channel
processes are the ones put behind a load balancer in numbers to answer members
quickly; background work belongs with the pushes it produces. Several worker
processes each schedule the jobs, and the holder of the scheduler's lease
computes each run (scheduler/lease.py: Redis when configured, else a PostgreSQL
advisory lock); ``UNIONBOT_SCHEDULER=false`` keeps a process out of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
from datetime import timedelta
from typing import Any

from starlette.routing import Route

from bot.app import App
from bot.channels.telegram.adapter import TelegramChannel, TelegramConfig
from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.webhook import WeChatChannel, WeChatConfig
from bot.core_runner import Core, ProcessCore
from bot.delivery.liveness import WorkerAlreadyRunning
from bot.delivery.runner import run_worker, supervise_worker
from bot.file_links import FileLinks, link_key
from bot.http_server import build_http_app, files_route, make_server, telegram_route
from bot.settings import Settings, data_key
from handlers.core.module import JobContext
from scheduler.lease import lease_for
from scheduler.runner import Scheduler

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    run = subparsers.add_parser("run", help="serve the configured chat channels and deliver pushes")
    run.add_argument(
        "--only",
        choices=["channels", "worker"],
        help="serve the chat channels only, or run a delivery worker only",
    )
    run.set_defaults(func=_run)


def telegram_config(settings: Settings) -> TelegramConfig:
    assert settings.telegram_token
    return TelegramConfig(
        token=settings.telegram_token,
        api_root=settings.api_root(settings.telegram_api_url),
        webhook_url=str(settings.telegram_webhook_url) if settings.telegram_webhook_url else None,
        webhook_secret=settings.webhook_secret,
        bot_username=settings.telegram_bot_username,
        media_dir=settings.data_dir / "media",
        per_second=settings.telegram_push_per_second,
        per_chat_interval=settings.telegram_push_chat_interval,
        proxy=settings.telegram_proxy,
    )


def wechat_config(settings: Settings, links: FileLinks | None = None) -> WeChatConfig:
    assert settings.wechat_token
    assert settings.wechat_app_id
    return WeChatConfig(
        token=settings.wechat_token,
        app_id=settings.wechat_app_id,
        aes_key=settings.wechat_aes_key,
        reply_seconds=settings.wechat_reply_seconds,
        media_dir=settings.data_dir / "media",
        export_dir=settings.data_dir / "exports",
        file_links=links,
    )


def download_links(app: App) -> FileLinks | None:
    """Download links for the exports folder, when members can reach us at a public URL."""
    settings = app.settings
    if settings.public_url is None:
        return None
    return FileLinks(
        key=link_key(data_key(settings)),
        folder=app.core_config.export_dir,
        public_url=settings.api_root(settings.public_url),
        minutes=settings.file_link_minutes,
    )


def _run(app: App, args: argparse.Namespace) -> int:
    _ = app.translator
    settings = app.settings
    only: str | None = getattr(args, "only", None)
    if only != "worker" and not settings.telegram_token and not settings.wechat_token:
        print(
            _(
                "没有配置任何聊天渠道。设置 UNIONBOT_TELEGRAM_TOKEN 可启用 Telegram，"
                "设置 UNIONBOT_WECHAT_TOKEN 等可启用微信公众号。只想在终端里试用，请运行 make demo。"
            ),
            file=sys.stderr,
        )
        return 2
    app.prepare()
    try:
        asyncio.run(serve(app, only=only))
    except WorkerAlreadyRunning:
        print(
            _(
                "另一个推送进程已在使用这个数据库。SQLite（或未配置 Redis）时只能运行一个推送进程；"
                "要运行多个，请使用 PostgreSQL 并设置 UNIONBOT_REDIS_URL。"
            ),
            file=sys.stderr,
        )
        return 2
    return 0


async def serve(app: App, stop: asyncio.Event | None = None, *, only: str | None = None) -> None:
    """Run every configured channel and a delivery worker until ``stop`` is set (or SIGINT/SIGTERM).

    Telegram's webhook, WeChat's and its download links share one HTTP server (``/healthz`` too);
    both hand their messages to one core in a process of its own. The worker
    and the scheduled jobs run beside them on this event loop (``only`` picks
    "channels" or "worker"; the jobs run with the worker, see the module).

    Raises:
        WorkerAlreadyRunning: with ``only="worker"``, when the database takes one worker and has one.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    jobs = build_scheduler(app) if only != "channels" and app.settings.scheduler else None
    try:
        if jobs is not None:
            await jobs.start()
        if only == "worker":
            await run_worker(app, stop)
            return
        await _serve_with_worker(app, stop, worker=only is None)
    finally:
        if jobs is not None:
            await jobs.stop()
        for signum in signals:
            loop.remove_signal_handler(signum)


def build_scheduler(app: App) -> Scheduler:
    """The scheduled jobs of this process, in the union's time zone."""
    settings = app.settings
    context = JobContext(sessions=app.sessions, config=app.core_config)
    return Scheduler(
        context,
        app.registry.jobs,
        zone=settings.zone,
        schedules=settings.job_schedules,
        lease=lease_for(app.engine, settings.redis_url),
        misfire_grace=timedelta(hours=settings.job_misfire_hours),
    )


async def _serve_with_worker(app: App, stop: asyncio.Event, *, worker: bool) -> None:
    worker_stop = asyncio.Event()
    worker_task = asyncio.create_task(supervise_worker(app, worker_stop)) if worker else None
    if worker_task is not None:
        worker_task.add_done_callback(_worker_refused)
    core = ProcessCore(app.settings, app.catalogues)
    try:
        await core.start()
        await _serve_channels(app, core, stop)
    finally:
        await core.close()
        if worker_task is not None:
            worker_stop.set()
            with contextlib.suppress(WorkerAlreadyRunning):  # said when it happened
                await worker_task


def _worker_refused(task: asyncio.Task[None]) -> None:
    """Say at once, not at shutdown, that this process pushes nothing: the channels still serve."""
    if not task.cancelled() and isinstance(task.exception(), WorkerAlreadyRunning):
        log.error("no delivery worker in this process: another one already uses the database")


async def _serve_channels(app: App, core: Core, stop: asyncio.Event) -> None:
    settings = app.settings
    routes: list[Route] = []
    telegram = None
    if settings.telegram_token:
        telegram = TelegramChannel(
            core=core,
            sessions=app.sessions,
            store=app.store,
            catalogues=app.catalogues,
            config=telegram_config(settings),
        )
        if settings.telegram_webhook_url:
            path = settings.telegram_webhook_url.path or "/telegram"
            routes.append(telegram_route(path, settings.webhook_secret, telegram.feed))
    wechat = None
    wechat_api = None
    if settings.wechat_token:
        wechat_api = WeChatApi.from_settings(settings, app.store)
        links = download_links(app)
        wechat = WeChatChannel(
            core=core,
            sessions=app.sessions,
            store=app.store,
            catalogues=app.catalogues,
            config=wechat_config(settings, links),
            service=wechat_api,
        )
        routes.append(wechat.route())
        if links is not None:
            routes.append(files_route(links))
    server = None
    server_task = None
    if routes:
        server = make_server(build_http_app(routes), settings.http_host, settings.http_port)
        server_task = asyncio.create_task(server.serve())
        while not server.started and not server_task.done():
            await asyncio.sleep(0.01)
        if server_task.done():
            server_task.result()  # raises: the port is taken, say
        log.info("HTTP server on %s:%s", settings.http_host, settings.http_port)
    try:
        if telegram is not None:
            await telegram.start()
        await stop.wait()
    finally:
        log.info("stopping")
        if server is not None and server_task is not None:
            server.should_exit = True
            await server_task
        if telegram is not None:
            await telegram.stop()
        if wechat is not None:
            await wechat.stop()
        if wechat_api is not None:
            await wechat_api.aclose()
