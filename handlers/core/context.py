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
from models.accounts import BindingPolicy, ChatAccount, accounts_of
from models.ephemeral import EphemeralStore
from models.members import Member
from models.roles import NO_GRANTS, Grants, grants_of

P = TypeVar("P")

if TYPE_CHECKING:
    from handlers.core.dialogs import DialogEngine
    from handlers.core.features import Feature
    from handlers.core.module import Reminder, Score


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
    # The bot's @username on Telegram, for links that open it (t.me/<name>?start=…); None: not known.
    telegram_bot_username: str | None = None
    # Each feature's policy by its type, from the feature's part of the settings (handlers.core.module).
    policies: Mapping[type, object] = field(default_factory=dict)
    # Every module's inputs to the units' ranking (Registry.scores), which the ranking feature ranks by.
    scores: tuple[Score, ...] = ()

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
    What is known about the member (:attr:`grants`, :attr:`accounts`) is read at
    most once per message and shared by every check in it: a feature's
    ``available`` asks these, never the database.
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
    # The dialog was closed in this message and not yet deleted (DialogEngine.close, .settle).
    dialog_closed: bool = False
    # Every module's reminders a member may turn off (Registry.reminders): what 我的信息 lists.
    reminders: tuple[Reminder, ...] = ()

    @property
    def account_id(self) -> int:
        assert self.account.id is not None
        return self.account.id

    @property
    def grants(self) -> Grants:
        """The member's roles with their units; none before binding.

        Read on first use and kept for the message (models.facts): drawing the menu asks
        every feature, and they all share this one read. Who holds no role at all is known
        from identifying them, without a read.
        """
        if self.member is None:
            return NO_GRANTS
        return grants_of(self.session, self.member)

    @property
    def accounts(self) -> list[ChatAccount]:
        """The chat accounts bound to the member, by channel; none before binding.

        Read with the member when the message came in, and kept for the message.
        """
        if self.member is None:
            return []
        return accounts_of(self.session, self.member)

    def use_locale(self, locale: str) -> None:
        """Answer the rest of this message in ``locale`` (after /lang)."""
        self.t = self.catalogues.get(locale)

    def local_now(self) -> datetime:
        return self.now.astimezone(self.config.timezone)
