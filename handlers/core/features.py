"""What a member can ask for: a feature module lists its features in its Module manifest.

The router learns command words from features, and the main menu lists the
features a member may use now — so the menu can only ever offer what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.core.context import Context
from handlers.core.messages import Reply

Run = Callable[[Context, str], list[Reply]]


def always(ctx: Context) -> bool:
    return True


@dataclass(frozen=True)
class Feature:
    """A thing to do. ``run`` gets the words after the command ("/start CODE" → "CODE").

    Attributes:
        name: stable id, used in button payloads ("go:me").
        rank: its place in the main menu and the help, lower first, across every module.
        label: the menu text (a msgid).
        summary: one line for the help text (a msgid).
        words: what a member may type: "/me", "我的", "我的信息", "me".
        run: does it.
        available: whether this member may use it now (roles, binding).
        in_menu: listed in the main menu.
        for_unbound: usable before binding (help, language, binding itself).
        background: answers a button on a pushed message (已阅); any open form stays open.
        unavailable: what a member who may not use it now is told (a msgid); by default that
            they lack the permission, which is wrong where roles are not the reason.
    """

    name: str
    label: str
    summary: str
    words: tuple[str, ...]
    run: Run
    rank: int = 1000
    available: Callable[[Context], bool] = always
    in_menu: bool = True
    for_unbound: bool = False
    background: bool = False
    unavailable: str | None = None
