"""The custom menu: only features that exist, WeChat's size limits, and the round trip through the API."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.channels.wechat.api import WeChatApi
from bot.channels.wechat.menu import (
    MAX_TOP_BUTTONS,
    SUB_NAME_BYTES,
    TOP_NAME_BYTES,
    build_menu,
    describe_menu,
    fit_name,
)
from handlers.core.context import Context
from handlers.core.features import Feature
from handlers.core.i18n import SUPPORTED_LOCALES, Catalogues
from handlers.core.messages import Reply
from handlers.core.module import MenuGroup, MenuSlot, Module, Registry
from handlers.core.router import MENU_PAYLOAD_PREFIX
from handlers.modules import REGISTRY, registry
from tests.e2e.wechat_stub import WeChatStub

CATALOGUES = Catalogues()
ZH = CATALOGUES.get("zh_CN")


def _run(ctx: Context, arg: str) -> list[Reply]:
    return []


def feature(name: str, label: str, *, in_menu: bool = True) -> Feature:
    return Feature(name=name, label=label, summary=label, words=(name,), run=_run, in_menu=in_menu)


# Stand-ins for the features later issues bring, with long labels on purpose, each in its menu slot.
FUTURE = Module(
    name="future",
    # Ballots (先进评选) are to come: a stand-in with a long label, in 工会动态.
    features=(feature("ballots", "先进职工评选投票"),),
    menu=(MenuSlot(MenuGroup.NEWS, "ballots", 30),),
)


def _only_news(full: Registry) -> Registry:
    """The menu cut to the 工会动态 entries other than 通知公告 and 排行榜: one group of one entry."""
    news = tuple(name for name in full.menu[MenuGroup.NEWS] if name not in ("notices", "ranking"))
    return replace(full, menu={group: news if group is MenuGroup.NEWS else () for group in full.menu})


def test_todays_features_are_published_in_their_groups() -> None:
    plan = build_menu(REGISTRY, ZH)
    assert plan.menu == {
        "button": [
            {
                "name": "会员服务",
                "sub_button": [
                    {"type": "click", "name": "提建议", "key": "go:suggest"},
                    {"type": "click", "name": "我的建议", "key": "go:my_suggestions"},
                    {"type": "click", "name": "困难申报", "key": "go:hardship"},
                    {"type": "click", "name": "活动报名", "key": "go:activities"},
                ],
            },
            {
                "name": "工会动态",
                "sub_button": [
                    {"type": "click", "name": "通知公告", "key": "go:notices"},
                    {"type": "click", "name": "排行榜", "key": "go:ranking"},
                ],
            },
            {
                "name": "我的",
                "sub_button": [
                    {"type": "click", "name": "我的会费", "key": "go:my_dues"},
                    {"type": "click", "name": "我的信息", "key": "go:me"},
                    {"type": "click", "name": "使用帮助", "key": "go:help"},
                ],
            },
        ]
    }
    assert plan.published == (
        "suggest",
        "my_suggestions",
        "hardship",
        "activities",
        "notices",
        "ranking",
        "my_dues",
        "me",
        "help",
    )


def test_every_published_key_opens_an_existing_feature() -> None:
    names = set(REGISTRY.features)
    for line in describe_menu(build_menu(REGISTRY, ZH).menu):
        key = line.rsplit("[", 1)[-1].rstrip("]") if "[" in line else None
        if key is not None:
            assert key.startswith(MENU_PAYLOAD_PREFIX)
            assert key.removeprefix(MENU_PAYLOAD_PREFIX) in names


def test_the_full_layout_once_the_features_exist() -> None:
    plan = build_menu(registry(FUTURE), ZH)
    assert describe_menu(plan.menu) == [
        "会员服务",
        "  提建议 [go:suggest]",
        "  我的建议 [go:my_suggestions]",
        "  困难申报 [go:hardship]",
        "  活动报名 [go:activities]",
        "工会动态",
        "  通知公告 [go:notices]",
        "  排行榜 [go:ranking]",
        "  先进职工评选投票 [go:ballots]",
        "我的",
        "  我的会费 [go:my_dues]",
        "  我的信息 [go:me]",
        "  使用帮助 [go:help]",
    ]


def test_a_group_of_one_becomes_a_top_level_button_and_names_are_cut_to_bytes() -> None:
    outings = feature("outings", "Registration for union activities and outings")
    alone = Module(name="alone", features=(outings,), menu=(MenuSlot(MenuGroup.NEWS, "outings", 5),))
    plan = build_menu(_only_news(registry(alone)), ZH)
    [button] = plan.menu["button"]
    assert button["key"] == "go:outings"
    assert button["name"] == "Registration…"  # 13 bytes + "…" (3 bytes) ≤ 16
    assert "sub_button" not in button


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_names_fit_wechats_limits_in_every_locale(locale: str) -> None:
    long_sub = feature("long", "会费" * 40)
    future = Module(
        name="future",
        features=(*FUTURE.features, long_sub),
        menu=(*FUTURE.menu, MenuSlot(MenuGroup.MINE, "long", 5)),
    )
    plan = build_menu(registry(future), CATALOGUES.get(locale))
    buttons = plan.menu["button"]
    assert len(buttons) <= MAX_TOP_BUTTONS
    for button in buttons:
        assert len(button["name"].encode()) <= TOP_NAME_BYTES
        for sub in button.get("sub_button", []):
            assert len(sub["name"].encode()) <= SUB_NAME_BYTES
    assert len(buttons[2]["sub_button"][0]["name"].encode()) == SUB_NAME_BYTES  # 19 × 3 + "…"


def test_labels_are_translated_into_the_default_locale() -> None:
    plan = build_menu(REGISTRY, CATALOGUES.get("en"))
    assert [button["name"] for button in plan.menu["button"][:2]] == ["Services", "Union news"]
    assert [sub["name"] for sub in plan.menu["button"][0]["sub_button"]][-1] == "Activities"
    names = [sub["name"] for sub in plan.menu["button"][2]["sub_button"]]
    assert names == ["My dues", "My profile", "Help"]  # "My dues": once /tmp/a/po/dues.json is applied


def test_more_entries_than_wechat_allows_are_refused() -> None:
    assert len(MenuGroup) <= MAX_TOP_BUTTONS
    extra = tuple(feature(f"extra{index}", f"第{index}项") for index in range(5))
    slots = tuple(MenuSlot(MenuGroup.SERVICES, item.name, 50 + index) for index, item in enumerate(extra))
    with pytest.raises(ValueError, match="WeChat allows"):
        build_menu(registry(Module(name="crowded", features=extra, menu=slots)), ZH)


@pytest.mark.parametrize(
    ("name", "limit", "expected"),
    [
        ("我的信息", 16, "我的信息"),
        ("会员服务中心入口", 16, "会员服务…"),
        ("abcdefghijklmnopq", 16, "abcdefghijklm…"),
    ],
)
def test_fit_name_counts_bytes(name: str, limit: int, expected: str) -> None:
    assert fit_name(name, limit) == expected
    assert len(fit_name(name, limit).encode()) <= limit


def test_describe_reads_both_shapes_wechat_answers_with() -> None:
    selfmenu = {
        "button": [
            {"name": "我的", "sub_button": {"list": [{"type": "click", "name": "我的信息", "key": "go:me"}]}},
            {"type": "view", "name": "官网", "url": "https://union.example/"},
        ]
    }
    assert describe_menu(selfmenu) == ["我的", "  我的信息 [go:me]", "官网 [https://union.example/]"]


async def test_published_menu_reads_back_the_same(api: WeChatApi, stub: WeChatStub) -> None:
    plan = build_menu(REGISTRY, ZH)
    await api.create_menu(plan.menu)
    [call] = stub.sent("/cgi-bin/menu/create")
    assert call.body == plan.menu
    assert await api.get_menu() == plan.menu
