"""What a handler knows while it answers one message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.core.i18n import Catalogues, Translator
from handlers.core.messages import Incoming
from models.accounts import BindingPolicy, ChatAccount
from models.ephemeral import EphemeralStore
from models.members import Member

P = TypeVar("P")

if TYPE_CHECKING:
    from handlers.core.dialogs import DialogEngine
    from handlers.core.features import Feature


@dataclass(frozen=True)
class CoreConfig:
    """The settings the conversation core needs, handed down from bot/settings."""

    default_locale: str = "zh_CN"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    dialog_timeout: timedelta = timedelta(minutes=30)
    binding: BindingPolicy = field(default_factory=BindingPolicy)
    # The kinds of push a WeChat template is configured for, and how many templates a day WeChat
    # allows: what a notice's preview needs to say how members will be reached.
    template_kinds: frozenset[str] = frozenset()
    template_daily_quota: int = 100_000
    export_dir: Path = Path("data/exports")  # spreadsheets members ask for (建议统计), one fresh file each
    # Each feature's policy by its type, from the feature's part of the settings (handlers.core.module).
    policies: Mapping[type, object] = field(default_factory=dict)

    def policy(self, kind: type[P]) -> P:
        """The feature policy of type ``kind``; its defaults where the settings gave none (tests)."""
        found = self.policies.get(kind)
        if found is None:
            return kind()
        assert isinstance(found, kind)
        return found


@dataclass
class Context:
    """One message's world: the database session, who is writing, in which language, and when.

    ``now`` is fixed once per message so every rule in it sees the same instant.
    """

    session: Session
    store: EphemeralStore
    config: CoreConfig
    catalogues: Catalogues
    incoming: Incoming
    account: ChatAccount
    member: Member | None
    t: Translator
    now: datetime
    dialogs: DialogEngine
    features: Mapping[str, Feature]

    @property
    def account_id(self) -> int:
        assert self.account.id is not None
        return self.account.id

    def use_locale(self, locale: str) -> None:
        """Answer the rest of this message in ``locale`` (after /lang)."""
        self.t = self.catalogues.get(locale)

    def local_now(self) -> datetime:
        return self.now.astimezone(self.config.timezone)
