"""The Official Account's custom menu: the intended layout as data, published as far as features exist.

Members see the menu at the bottom of the chat and tap it instead of typing.
An entry that leads to a feature not built yet teaches them the menu lies, so the
layout names features, and an entry is published only when the router has
that feature and lists it in its menu: 提建议 appears the day the feature
does, by publishing again. A group left empty is dropped; a group with one
entry becomes a single top-level button, saving the member a tap.

Every entry is a CLICK button with the key ``go:<feature>``, the payload the
router already honours for its own menu buttons, so WeChat's menu and the
numbered text menu lead to the same place.

Labels are the features' own, translated into the configured default
language. Menus per language are not published: WeChat's personalised menus
could once match the client's language, but since its privacy change a
``matchrule`` with ``language`` is refused (65320), leaving only tags and the
phone's OS to match on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.features import Feature
from models.errors import N_

__all__ = ["LAYOUT", "MenuGroup", "MenuPlan", "build_menu", "describe_menu", "fit_name"]

CLICK_PREFIX = "go:"  # handlers.router.MENU_PAYLOAD_PREFIX
# WeChat's limits: 3 top-level buttons of at most 16 bytes (5 Chinese characters),
# each with at most 5 sub-buttons of at most 60 bytes.
MAX_TOP_BUTTONS = 3
MAX_SUB_BUTTONS = 5
TOP_NAME_BYTES = 16
SUB_NAME_BYTES = 60
SHORTENED = "…"


@dataclass(frozen=True)
class MenuGroup:
    """A top-level button and the features under it, in order (feature names, as in ``go:<name>``)."""

    label: str  # a msgid
    features: tuple[str, ...]


# The intended menu. Names of features still to come are the ones their issues
# will give them; until a feature with that name exists, its entry stays out.
LAYOUT: tuple[MenuGroup, ...] = (
    # 提建议 我的建议 困难申报 活动报名
    MenuGroup(N_("会员服务"), ("suggest", "my_suggestions", "hardship", "activities")),
    MenuGroup(N_("工会动态"), ("notices", "ranking")),  # 通知公告 排行榜
    MenuGroup(N_("我的"), ("dues", "me", "help")),  # 我的会费 我的信息 帮助
)


@dataclass(frozen=True)
class MenuPlan:
    """What to publish (``menu``, WeChat's JSON), and which layout entries have no feature yet."""

    menu: dict[str, Any]
    published: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.menu["button"]


def fit_name(name: str, limit: int) -> str:
    """The name cut to ``limit`` UTF-8 bytes (WeChat counts bytes), marked with "…" when cut."""
    if len(name.encode()) <= limit:
        return name
    budget = limit - len(SHORTENED.encode())
    while len(name.encode()) > budget:
        name = name[:-1]
    return name.rstrip() + SHORTENED


def _click(feature: Feature, translate: Callable[[str], str], limit: int) -> dict[str, Any]:
    return {
        "type": "click",
        "name": fit_name(translate(feature.label), limit),
        "key": CLICK_PREFIX + feature.name,
    }


def build_menu(
    features: Iterable[Feature],
    translate: Callable[[str], str],
    layout: Sequence[MenuGroup] = LAYOUT,
) -> MenuPlan:
    """WeChat's menu JSON for the features that exist and are in the menu.

    Args:
        features: the router's features (handlers.router.FEATURES).
        translate: gettext for the default locale.
        layout: the intended menu.

    Raises:
        ValueError: the layout has more buttons than WeChat allows.
    """
    if len(layout) > MAX_TOP_BUTTONS or any(len(group.features) > MAX_SUB_BUTTONS for group in layout):
        raise ValueError(f"WeChat allows {MAX_TOP_BUTTONS} groups of {MAX_SUB_BUTTONS} entries")
    offered = {feature.name: feature for feature in features if feature.in_menu}
    buttons: list[dict[str, Any]] = []
    published: list[str] = []
    missing: list[str] = []
    for group in layout:
        entries = [offered[name] for name in group.features if name in offered]
        missing.extend(name for name in group.features if name not in offered)
        published.extend(feature.name for feature in entries)
        if len(entries) == 1:
            buttons.append(_click(entries[0], translate, TOP_NAME_BYTES))
        elif entries:
            buttons.append(
                {
                    "name": fit_name(translate(group.label), TOP_NAME_BYTES),
                    "sub_button": [_click(feature, translate, SUB_NAME_BYTES) for feature in entries],
                }
            )
    return MenuPlan({"button": buttons}, tuple(published), tuple(missing))


def _target(button: Mapping[str, Any]) -> str:
    kind = str(button.get("type", ""))
    if kind == "click":
        return f"[{button.get('key', '')}]"
    if kind == "view":
        return f"[{button.get('url', '')}]"
    return f"[{kind}]"


def describe_menu(menu: Mapping[str, Any]) -> list[str]:
    """The menu as indented lines, one per button: ``我的`` then ``  我的信息 [go:me]``."""
    lines: list[str] = []
    for button in menu.get("button", []):
        subs = button.get("sub_button")
        # WeChat's menu/get writes {"list": [...]} or a plain list for sub-buttons.
        if isinstance(subs, Mapping):
            subs = subs.get("list", [])
        if subs:
            lines.append(str(button.get("name", "")))
            lines.extend(f"  {sub.get('name', '')} {_target(sub)}" for sub in subs)
        else:
            lines.append(f"{button.get('name', '')} {_target(button)}")
    return lines
