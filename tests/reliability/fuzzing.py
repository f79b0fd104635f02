"""What the fuzz tests share: hypothesis settings fit for a busy 2-core machine, and hostile text.

The settings are derandomized (the same examples every run, so a red run is red again on the
developer's machine and never flickers in CI), keep no example database in the working tree, and
have no per-example deadline: a busy machine makes examples slow, not wrong. A long campaign
(``UNIONBOT_FUZZ_SCALE``) draws new examples instead, and prints how to reproduce what it finds.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SCALE = int(os.environ.get("UNIONBOT_FUZZ_SCALE", "1"))
"""How many times more examples to try than ``make test`` does: a long campaign on a quiet machine
(``UNIONBOT_FUZZ_SCALE=20 pytest tests/reliability``) explores further with the same tests."""


FUZZ = settings(
    derandomize=SCALE == 1,  # a campaign draws afresh each time
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    print_blob=SCALE != 1,  # how to replay what a campaign found
)
"""The base of every fuzz test's settings; each gives its own ``max_examples`` through :func:`examples`."""


def examples(count: int) -> int:
    """``count`` examples, times :data:`SCALE`."""
    return count * SCALE


# What members, copy-paste and hostile senders put in a message, beside random Unicode.
NASTY_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "取消\x00",
    "\u202e1001",
    "1001\u200b",
    "\ufeff菜单",
    "\ud800",
    "１２３４",
    "①",
    "一百万亿亿亿亿",
    "9" * 400,
    "1e999999999",
    "-1e-999999999",
    "NaN",
    "Infinity",
    "-0",
    "½",
    "٣",
    "𝟙𝟘𝟘𝟙",
    "2026-02-30",
    "9999年99月99日",
    "0000-00-00",
    "下下下下下下下下周一",
    "明天下午25点",
    "%s %d {name} {0} {{}}",
    "<b>粗</b>]]><![CDATA[",
    "<!DOCTYPE x [<!ENTITY a 'b'>]>&a;",
    "'; DROP TABLE member; --",
    "👨‍👩‍👧‍👦" * 50,
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "a\u0300" * 300,
    "字" * 5000,
    "\n" * 50,
    "返回",
    "跳过",
    "确认",
    "是",
    "否",
    "好了",
)

any_text = st.one_of(
    st.sampled_from(NASTY_TEXTS),
    st.text(max_size=80),  # every code point, surrogates and controls included
    st.text(st.characters(codec="utf-8"), max_size=300),
    st.text(st.sampled_from("0123456789一二三四五六七八九十百千万亿年月日号周点半-./:元¥ 　"), max_size=24),
)
"""Arbitrary Unicode, weighted toward what the parsers read: digits, dates, amounts."""
