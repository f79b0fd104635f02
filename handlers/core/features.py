"""What a member can ask for: a feature module lists its features in its Module manifest.

The router learns command words from features, and the main menu lists the
features a member may use now — so the menu can only ever offer what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from handlers.core.context import Context
from handlers.core.messages import Reply
from models.errors import N_

Run = Callable[[Context, str], list[Reply]]


def always(ctx: Context) -> bool:
    return True


class MenuSection(StrEnum):
    """Where a feature sits when the main menu is too long to read at once (a cadre's).

    A member's handful of entries is one list; a cadre's fifteen are grouped as the
    WeChat menu groups them, so anything is two choices away.
    """

    SERVICES = "services"
    NOTICES = "notices"
    ACTIVITIES = "activities"
    SUGGESTIONS = "suggestions"
    HARDSHIP = "hardship"
    SETTINGS = "settings"


SECTION_LABELS: dict[MenuSection, str] = {
    MenuSection.SERVICES: N_("会员服务"),
    MenuSection.NOTICES: N_("通知管理"),
    MenuSection.ACTIVITIES: N_("活动管理"),
    MenuSection.SUGGESTIONS: N_("建议管理"),
    MenuSection.HARDSHIP: N_("帮扶工作"),
    MenuSection.SETTINGS: N_("我的与设置"),
}


@dataclass(frozen=True)
class Feature:
    """A thing to do. ``run`` gets the words after the command ("/start CODE" → "CODE").

    Attributes:
        name: stable id, used in button payloads ("go:me").
        rank: its place in the main menu and the help, lower first, across every module.
        section: its group when the menu is shown in groups.
        label: the menu text (a msgid).
        summary: one line for the help text (a msgid).
        words: what a member may type: "/me", "我的", "我的信息", "me".
        phrases: parts of a sentence that ask for it ("想申请困难补助"): a message that is no
            command and contains one opens it, longest phrase first.
        run: does it.
        available: whether this member may use it now (roles, binding).
        in_menu: listed in the main menu.
        for_unbound: usable before binding (help, language, binding itself).
        background: answers a button on a pushed message (已阅); any open form stays open.
        unavailable: what a member who may not use it now is told (a msgid); by default that
            they lack the permission, which is wrong where roles are not the reason.
        numbered: a word of it followed by a number ("活动 12", "活动12") runs it with that
            number, as a push tells a WeChat member to reply; WeChat has no buttons to press.
    """

    name: str
    label: str
    summary: str
    words: tuple[str, ...]
    run: Run
    phrases: tuple[str, ...] = ()
    rank: int = 1000
    section: MenuSection = MenuSection.SERVICES
    available: Callable[[Context], bool] = always
    in_menu: bool = True
    for_unbound: bool = False
    background: bool = False
    unavailable: str | None = None
    numbered: bool = False
