"""A transcript-style harness: send what a member types, check what they read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from handlers.core import menu
from handlers.core.context import CoreConfig
from handlers.core.dialogs import step_payload
from handlers.core.i18n import Catalogues
from handlers.core.menu import SECTION_PREFIX
from handlers.core.messages import Incoming, Media, Reply
from handlers.core.router import MENU_PAYLOAD_PREFIX, Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore

# A section of a grouped menu is a choice of the menu's own step; a feature entry is a go: button.
SECTION_PAYLOAD = step_payload(menu.FLOW.name, "item", SECTION_PREFIX)


def transcript(replies: Sequence[Reply]) -> str:
    """What the member sees, buttons numbered as the console and WeChat show them."""
    parts = []
    for reply in replies:
        parts.append(reply.text)
        parts.extend(f"{n}. {button.label}" for n, button in enumerate(reply.buttons, start=1))
    return "\n".join(parts)


class Chat:
    """One person on one channel, talking to the real router and dialog engine."""

    def __init__(
        self, bot: Bot, *, channel: str = "telegram", key: str = "u1", locale: str | None = None
    ) -> None:
        self.bot = bot
        self.channel = channel
        self.key = key
        self.locale = locale
        self.last: list[Reply] = []

    def _deliver(self, incoming: Incoming, expect: str | Sequence[str] | None, absent: Sequence[str]) -> str:
        self.last = self.bot.handle(incoming)
        seen = transcript(self.last)
        wanted = [expect] if isinstance(expect, str) else list(expect or [])
        for fragment in wanted:
            assert fragment in seen, f"expected {fragment!r} in:\n{seen}"
        for fragment in absent:
            assert fragment not in seen, f"did not expect {fragment!r} in:\n{seen}"
        return seen

    def send(self, text: str, expect: str | Sequence[str] | None = None, absent: Sequence[str] = ()) -> str:
        return self._deliver(Incoming(self.channel, self.key, text=text, locale=self.locale), expect, absent)

    def say(self, heard: str, expect: str | Sequence[str] | None = None, absent: Sequence[str] = ()) -> str:
        """A voice message the channel recognised as ``heard``."""
        incoming = Incoming(self.channel, self.key, text=heard, locale=self.locale, spoken=True)
        return self._deliver(incoming, expect, absent)

    def send_media(self, media: Media, expect: str | Sequence[str] | None = None) -> str:
        return self._deliver(Incoming(self.channel, self.key, media=media, locale=self.locale), expect, ())

    def press(self, label: str, expect: str | Sequence[str] | None = None, absent: Sequence[str] = ()) -> str:
        """Press the button labelled ``label`` in the last replies."""
        for reply in reversed(self.last):
            for button in reply.buttons:
                if button.label == label:
                    incoming = Incoming(self.channel, self.key, button=button.payload, locale=self.locale)
                    return self._deliver(incoming, expect, absent)
        raise AssertionError(f"no button {label!r} in:\n{transcript(self.last)}")

    def menu(self) -> list[str]:
        """Every entry of the main menu, opening each section of a grouped (cadre's) menu."""
        self.send("菜单")
        buttons = [button for reply in self.last for button in reply.buttons]
        sections = [button.label for button in buttons if button.payload.startswith(SECTION_PAYLOAD)]
        if not sections:
            return [button.label for button in buttons]
        found: list[str] = []
        for section in sections:
            self.send("菜单")
            self.press(section)
            found.extend(
                button.label
                for reply in self.last
                for button in reply.buttons
                if button.payload.startswith(MENU_PAYLOAD_PREFIX)
            )
        self.send("取消")
        return found

    def buttons(self) -> list[str]:
        return [button.label for reply in self.last for button in reply.buttons]


@pytest.fixture(scope="session")
def catalogues() -> Catalogues:
    return Catalogues()


@pytest.fixture
def bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Bot:
    config = CoreConfig(dialog_timeout=timedelta(minutes=30))
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)


@pytest.fixture
def chat(bot: Bot) -> Chat:
    return Chat(bot)
