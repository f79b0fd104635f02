"""The Official Account's custom menu, built from the modules' menu slots.

Members see the menu at the bottom of the chat and tap it instead of typing.
Each feature module says where its entries go (``Module.menu``: a group and a
rank); the registry refuses a slot that names no feature, so the menu can only
offer what exists. A group left empty is dropped; a group with one entry
becomes a single top-level button, saving the member a tap.

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from handlers.core.features import Feature
from handlers.core.module import GROUP_LABELS, Registry

__all__ = ["MenuPlan", "build_menu", "describe_menu", "fit_name"]

CLICK_PREFIX = "go:"  # handlers.core.router.MENU_PAYLOAD_PREFIX
# WeChat's limits: 3 top-level buttons of at most 16 bytes (5 Chinese characters),
# each with at most 5 sub-buttons of at most 60 bytes.
MAX_TOP_BUTTONS = 3
MAX_SUB_BUTTONS = 5
TOP_NAME_BYTES = 16
SUB_NAME_BYTES = 60
SHORTENED = "…"


@dataclass(frozen=True)
class MenuPlan:
    """What to publish (``menu``, WeChat's JSON), and the features it leads to."""

    menu: dict[str, Any]
    published: tuple[str, ...]

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


def build_menu(registry: Registry, translate: Callable[[str], str]) -> MenuPlan:
    """WeChat's menu JSON for the modules' menu slots.

    Args:
        registry: the modules put together (handlers.modules.REGISTRY).
        translate: gettext for the default locale.

    Raises:
        ValueError: the slots make more buttons than WeChat allows.
    """
    groups = [(group, names) for group, names in registry.menu.items() if names]
    if len(groups) > MAX_TOP_BUTTONS or any(len(names) > MAX_SUB_BUTTONS for _group, names in groups):
        raise ValueError(f"WeChat allows {MAX_TOP_BUTTONS} groups of {MAX_SUB_BUTTONS} entries")
    buttons: list[dict[str, Any]] = []
    published: list[str] = []
    for group, names in groups:
        entries = [registry.features[name] for name in names]
        published.extend(names)
        if len(entries) == 1:
            buttons.append(_click(entries[0], translate, TOP_NAME_BYTES))
        else:
            buttons.append(
                {
                    "name": fit_name(translate(GROUP_LABELS[group]), TOP_NAME_BYTES),
                    "sub_button": [_click(feature, translate, SUB_NAME_BYTES) for feature in entries],
                }
            )
    return MenuPlan({"button": buttons}, tuple(published))


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
