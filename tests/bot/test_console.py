"""The console channel: numbered buttons, markup shown as typed, console-only commands."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.channels.console import ConsoleChannel
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.messages import Incoming
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import MemoryStore
from tests.factories import HOSTILE_NAME, make_member


def scripted(lines: list[str]) -> Iterator[str]:
    yield from lines


def run_console(db: SessionFactory, lines: list[str], switch: object = None) -> str:
    output = io.StringIO()
    catalogues = Catalogues()
    bot = Bot(sessions=db, store=MemoryStore(), catalogues=catalogues, config=CoreConfig(), registry=REGISTRY)
    feed = scripted(lines)

    def read_line(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    channel = ConsoleChannel(
        bot,
        console=Console(file=output, width=200, color_system=None),
        read_line=read_line,
        translator=catalogues.get("zh_CN"),
        account_key="visitor",
        switch_member=switch,  # type: ignore[arg-type]
    )
    channel.run(greeting=Incoming("console", "visitor", text="/start"))
    return output.getvalue()


def test_a_member_binds_and_reads_the_numbered_menu(db: SessionFactory) -> None:
    with db() as session:
        make_member(session)
    seen = run_console(db, ["1001", "1234", "1"])
    assert "请输入您的工号" in seen
    assert "  1. 我的信息" in seen
    assert HOSTILE_NAME in seen  # rich markup in a name is printed, not interpreted
    assert "138****1234" in seen
    assert seen.rstrip().endswith("再见！")


def test_quit_leaves_at_once(db: SessionFactory) -> None:
    seen = run_console(db, ["/quit", "1001"])
    assert "手机号的后四位" not in seen


def test_photo_command_sends_a_picture_or_says_what_is_wrong(db: SessionFactory, tmp_path: Path) -> None:
    picture = tmp_path / "idea.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    seen = run_console(db, [f"/photo {tmp_path / 'missing.png'}", f"/photo {picture}"])
    assert "找不到这个文件" in seen
    assert "请用文字回复" in seen  # the binding form wants text, and says so


def test_as_switches_identity(db: SessionFactory) -> None:
    with db() as session:
        make_member(session)
    switched: list[str | None] = []

    def switch(employee_no: str | None) -> str | None:
        switched.append(employee_no)
        return None

    run_console(db, ["/as 1001", "/as"], switch)
    assert switched == ["1001", None]


@pytest.mark.parametrize("line", ["", "   ", "\x1b[31m红色\x1b[0m", "x" * 5000])
def test_odd_lines_never_crash_the_console(db: SessionFactory, line: str) -> None:
    seen = run_console(db, [line])
    assert "出了点问题" not in seen


def test_in_english_the_hint_and_the_prompt_are_english(db: SessionFactory) -> None:
    with db() as session:
        make_member(session)
    prompts: list[str] = []
    output = io.StringIO()
    catalogues = Catalogues()
    bot = Bot(sessions=db, store=MemoryStore(), catalogues=catalogues, config=CoreConfig(), registry=REGISTRY)
    feed = scripted(["1001", "1234", "/lang en", "menu"])

    def read_line(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    ConsoleChannel(
        bot,
        console=Console(file=output, width=200, color_system=None),
        read_line=read_line,
        translator=catalogues.get("zh_CN"),
        account_key="visitor",
    ).run(greeting=Incoming("console", "visitor", text="/start"))
    seen = output.getvalue()
    after = seen.split("English from now on")[1]
    assert "(Reply with a number)" in after
    assert "（回复数字选择）" not in after
    assert prompts[-1] == "You › "
