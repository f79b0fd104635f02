"""Wiring: from settings to a database, a store, catalogues and the core bot."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from logging.handlers import RotatingFileHandler
from pathlib import Path

import sqlalchemy as sa

from bot import database
from bot.settings import Settings, data_key
from handlers import modules
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues, Translator
from handlers.core.module import Registry
from handlers.core.router import Bot
from models.accounts import BindingPolicy
from models.db import SessionFactory, make_engine
from models.ephemeral import EphemeralStore, MemoryStore, RedisStore
from models.workdays import use_calendar_file


@dataclass
class App:
    """Everything a process needs, built lazily from one Settings object."""

    settings: Settings
    # The feature modules put together; read when the App is made, so a test may swap in its own.
    registry: Registry = field(default_factory=lambda: modules.REGISTRY)

    @cached_property
    def engine(self) -> sa.Engine:
        url = self.settings.effective_database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return make_engine(url)

    @cached_property
    def sessions(self) -> SessionFactory:
        return SessionFactory(self.engine)

    @cached_property
    def store(self) -> EphemeralStore:
        if self.settings.redis_url:
            return RedisStore.from_url(self.settings.redis_url)
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
    root = logging.getLogger()
    for ours in [handler for handler in root.handlers if handler.get_name() == _LOG_HANDLER]:
        root.removeHandler(ours)
        ours.close()
    handler: logging.Handler | None = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
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
