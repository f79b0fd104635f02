"""Wiring: from settings to a database, a store, catalogues and the core bot."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

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
from models.ephemeral import EphemeralStore, FallbackStore, MemoryStore


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


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs each request URL at INFO, and Bot API URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
