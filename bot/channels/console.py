"""The console channel: the same core over a terminal, for demos, admins and tests.

Buttons are rendered as numbered lines; the member answers with the number,
exactly as on WeChat. Text from members is printed with markup off, so a
name like "[b]张三[/b]" shows as typed.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from handlers.core.i18n import Translator
from handlers.core.messages import Incoming, Media, MediaKind, Reply
from handlers.core.router import Bot

QUIT_WORDS = frozenset({"/quit", "/exit", "/q"})


class ConsoleChannel:
    """Reads lines, hands them to the bot, prints the replies.

    Console-only commands: ``/photo PATH`` sends a picture, ``/as 工号`` switches
    to another member (``/as`` alone: an unbound visitor, to try binding),
    ``/quit`` leaves.
    """

    channel = "console"

    def __init__(
        self,
        bot: Bot,
        *,
        console: Console,
        read_line: Callable[[str], str],
        translator: Translator,
        account_key: str,
        switch_member: Callable[[str | None], str | None] | None = None,
    ) -> None:
        self.bot = bot
        self.console = console
        self.read_line = read_line
        self.t = translator
        self.account_key = account_key
        self.switch_member = switch_member

    def render(self, reply: Reply) -> None:
        if reply.locale:
            # The reply's language is the member's now (after /lang too): the console's own words follow it.
            self.t = self.bot.catalogues.get(reply.locale)
        self.console.print(self.t("工会助手 ›"), style="bold cyan", end=" ")
        self.console.print(reply.text, markup=False, highlight=False)
        for number, button in enumerate(reply.buttons, start=1):
            self.console.print(f"  {number}. {button.label}", markup=False, highlight=False)
        if reply.buttons:
            self.console.print("  " + self.t("（回复数字选择）"), markup=False, highlight=False)
        for attachment in (reply.image, reply.file):
            if attachment is not None:
                self.console.print(
                    self.t("  [附件] {name}：{path}").format(name=attachment.name, path=attachment.path),
                    markup=False,
                    highlight=False,
                )

    def send(self, incoming: Incoming) -> None:
        for reply in self.bot.handle(incoming):
            self.render(reply)

    def _photo(self, argument: str) -> Incoming | None:
        path = Path(argument).expanduser()
        if not argument or not path.is_file():
            self.console.print(self.t("找不到这个文件：{path}").format(path=argument), markup=False)
            return None
        mime_type, _ = mimetypes.guess_type(path.name)
        media = Media(MediaKind.PHOTO, str(path.resolve()), mime_type, path.stat().st_size, path.name)
        return Incoming(self.channel, self.account_key, media=media)

    def step(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to leave."""
        command, _, argument = line.strip().partition(" ")
        if command.lower() in QUIT_WORDS:
            return False
        if command.lower() == "/photo":
            incoming = self._photo(argument.strip())
            if incoming is not None:
                self.send(incoming)
            return True
        if command.lower() == "/as" and self.switch_member is not None:
            key = self.switch_member(argument.strip() or None)
            if key is not None:
                self.account_key = key
                self.send(Incoming(self.channel, self.account_key, text="/start"))
            return True
        self.send(Incoming(self.channel, self.account_key, text=line))
        return True

    def run(self, greeting: Incoming | None = None) -> None:
        if greeting is not None:
            self.send(greeting)
        while True:
            try:
                line = self.read_line(self.t("您 › "))
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                break
            if not self.step(line):
                break
        self.console.print(self.t("再见！"))
