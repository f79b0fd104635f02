"""Wiring: from settings to a database, a store, catalogues and the core bot."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from logging.handlers import RotatingFileHandler
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot import database, log_safety
from bot.settings import Settings, data_key, old_data_keys
from handlers import modules
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues, Translator
from handlers.core.module import Registry
from handlers.core.router import Bot
from models import sealed
from models.accounts import BindingPolicy
from models.db import SessionFactory, make_engine
from models.ephemeral import EphemeralStore, FallbackStore, MemoryStore
from models.workdays import use_calendar_file

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything a process needs, built lazily from one Settings object."""

    settings: Settings
    # The feature modules put together; read when the App is made, so a test may swap in its own.
    registry: Registry = field(default_factory=lambda: modules.REGISTRY)

    @cached_property
    def engine(self) -> sa.Engine:
        # Sealed fields (models.sealed) are read and written with the data key from the first session on.
        sealed.use_key(data_key(self.settings), old=old_data_keys(self.settings))
        url = self.settings.effective_database_url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            private_sqlite_file(Path(parsed.database))
        folder = self.settings.data_dir
        if folder.is_dir() and folder.stat().st_mode & 0o077:
            log.warning("the data folder %s is open to other users: chmod 700 it", folder)
        return make_engine(url)

    @cached_property
    def sessions(self) -> SessionFactory:
        return SessionFactory(self.engine)

    @cached_property
    def store(self) -> EphemeralStore:
        if self.settings.redis_url:
            # Chat goes on in this process's memory while Redis is away (models/ephemeral.py).
            return FallbackStore.from_url(self.settings.redis_url)
        return MemoryStore()

    @cached_property
    def catalogues(self) -> Catalogues:
        return Catalogues(default_locale=self.settings.default_locale)

    @property
    def translator(self) -> Translator:
        """Text for the command line, in the configured default language."""
        return self.catalogues.get(self.settings.default_locale)

    @property
    def binding_policy(self) -> BindingPolicy:
        return BindingPolicy(
            max_attempts=self.settings.bind_max_attempts,
            cooldown=timedelta(minutes=self.settings.bind_cooldown_minutes),
            max_binds=self.settings.bind_max_binds,
            binds_window=timedelta(hours=self.settings.bind_binds_window_hours),
        )

    @property
    def core_config(self) -> CoreConfig:
        return CoreConfig(
            default_locale=self.settings.default_locale,
            timezone=self.settings.zone,
            dialog_timeout=timedelta(minutes=self.settings.dialog_timeout_minutes),
            binding=self.binding_policy,
            template_kinds=frozenset(self.settings.wechat_templates),
            template_daily_quota=self.settings.wechat_template_daily_quota,
            export_dir=self.settings.data_dir / "exports",
            policies=self.settings.policies,
            telegram_bot_username=(self.settings.telegram_bot_username or "").strip().lstrip("@") or None,
            scores=self.registry.scores,
        )

    @cached_property
    def bot(self) -> Bot:
        """The conversation core every channel hands its messages to."""
        return Bot(
            sessions=self.sessions,
            store=self.store,
            catalogues=self.catalogues,
            config=self.core_config,
            registry=self.registry,
        )

    def prepare(self) -> None:
        """Migrate the database and make sure the data key exists: what every entry point needs."""
        data_key(self.settings)
        database.upgrade(self.engine)


def private_sqlite_file(path: Path) -> None:
    """The database file, its WAL and its shared memory readable by this user only.

    SQLite creates the -wal and -shm files with the permissions of the database
    file, so creating that one 0600 (and its folder 0700, when we create it)
    keeps all three private; files made by an older version are narrowed to 0600.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    old_mask = os.umask(0o077)
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    finally:
        os.umask(old_mask)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


# The handler configure_logging installs, by name, so that calling it again replaces only its own.
_LOG_HANDLER = "unionbot"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 3


def configure_logging(settings: Settings, *, log_file: Path | None = None) -> None:
    """Log at the configured level to stderr, or to ``log_file`` alone.

    The terminal chat passes a file: its screen is the member's conversation,
    and a warning printed between two of the bot's answers (a deadline job, a
    year the holiday calendar lacks) reads as if the bot had said it. Called
    again, it replaces only the handler it installed. Handlers others installed
    (a test runner's) are left alone, and while they are there, as with
    ``logging.basicConfig``, no stderr handler is added and the level stays theirs.
    """
    log_safety.install(settings)  # secrets and members' words never reach a log line
    root = logging.getLogger()
    for ours in [handler for handler in root.handlers if handler.get_name() == _LOG_HANDLER]:
        root.removeHandler(ours)
        ours.close()
    handler: logging.Handler | None = None
    if log_file is not None:
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, as the database beside it
        handler = RotatingFileHandler(
            log_file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
        )
    elif not root.handlers:
        handler = logging.StreamHandler()
    if handler is not None:
        handler.set_name(_LOG_HANDLER)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(settings.log_level)
    # httpx logs each request URL at INFO, and Bot API URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def configure_calendar(settings: Settings) -> None:
    """Count working days with the admin's holidays (`python -m bot calendar import`) first."""
    use_calendar_file(settings.holidays_path.absolute())
