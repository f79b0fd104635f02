"""Telegram rendering: text parts within the limit, callback data within 64 bytes, keyboard rows."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import time_machine

from bot.channels.telegram.render import (
    BUTTON_LABEL_LIMIT,
    CALLBACK_DATA_LIMIT,
    CALLBACK_TTL_SECONDS,
    MAX_BUTTONS,
    TELEGRAM_TEXT_LIMIT,
    CallbackCodec,
    SplitText,
    display_width,
    keyboard_rows,
    split_text,
    split_text_with_separators,
    utf16_len,
)
from handlers.core.messages import Button
from models.ephemeral import EphemeralStore, MemoryStore


def rejoin(split: SplitText) -> str:
    pieces = [split.separators[0]]
    for part, separator in zip(split.parts, split.separators[1:], strict=True):
        pieces += [part, separator]
    return "".join(pieces)


def check(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """The invariants every split keeps; returns the parts for the test's own assertions."""
    split = split_text_with_separators(text, limit)
    assert len(split.separators) == len(split.parts) + 1
    assert rejoin(split) == text
    assert split_text(text, limit) == split.parts
    for part in split.parts:
        assert part
        assert not part.isspace()
        if not text.isspace():
            assert utf16_len(part) <= limit
    assert all(separator == "" or separator.isspace() for separator in split.separators)
    return split.parts


# -- split_text: the everyday cases ----------------------------------------------------------------


def test_utf16_len_counts_astral_characters_twice() -> None:
    assert utf16_len("工会") == 2
    assert utf16_len("😀") == 2
    assert utf16_len("𠀀") == 2  # CJK Extension B
    assert utf16_len("👨‍👩‍👧") == 8  # three people (2 each) and two joiners
    assert utf16_len("a😀") == len("a😀".encode("utf-16-le")) // 2


def test_a_text_that_fits_is_one_part_unchanged() -> None:
    assert split_text("你好") == ["你好"]
    assert split_text("  padded\n") == ["  padded\n"]
    exact = "工" * TELEGRAM_TEXT_LIMIT
    assert split_text(exact) == [exact]
    assert split_text("😀" * 2048) == ["😀" * 2048]


def test_empty_and_blank_texts() -> None:
    assert split_text("") == []
    assert split_text(" \n\t ") == [" \n\t "]
    assert split_text(" " * 5000) == [" " * 5000]  # nothing to split; the adapter skips blank texts


def test_a_5000_character_reply_becomes_two_parts_at_a_line_end() -> None:
    lines = [f"第{number:03d}条：会员可以在工会助手里查询会费、报名活动和提交意见。" for number in range(160)]
    text = "\n".join(lines)
    assert 5000 <= len(text) <= 5600
    parts = check(text)
    assert len(parts) == 2
    first_lines = parts[0].split("\n")
    assert first_lines == lines[: len(first_lines)]
    assert parts[1].split("\n") == lines[len(first_lines) :]
    assert utf16_len(parts[0]) > TELEGRAM_TEXT_LIMIT - len(lines[0]) - 1  # it used the room it had


def test_a_blank_line_is_preferred_over_a_later_line_break() -> None:
    paragraph = "\n".join(["一行文字" * 5] * 3)  # 62 characters
    text = paragraph + "\n\n" + paragraph + "\n" + "尾" * 40
    parts = check(text, limit=120)  # the blank line lies past half of the part
    assert parts[0] == paragraph
    assert parts[1].startswith(paragraph)


def test_a_blank_line_too_early_does_not_waste_the_part() -> None:
    text = "标题\n\n" + "\n".join(["内容" * 10] * 10)
    parts = check(text, limit=100)
    assert parts[0] != "标题"
    assert parts[0].startswith("标题\n\n")


def test_lines_of_exactly_the_limit() -> None:
    a, b, c = "a" * TELEGRAM_TEXT_LIMIT, "b" * TELEGRAM_TEXT_LIMIT, "c"
    assert check(f"{a}\n{b}\n{c}") == [a, b, c]
    assert check(f"{a}\r\n{b}") == [a, b]
    assert check(f"{a}\n\n\n{b}\n") == [a, b]


def test_a_5000_character_line_of_chinese_without_punctuation_is_cut_hard() -> None:
    text = "会" * 5000
    assert check(text) == ["会" * 4096, "会" * 904]


def test_a_long_chinese_line_is_cut_after_a_full_stop() -> None:
    sentence = "工会将于本月组织会员体检，请大家按时参加。"  # 21 characters
    text = sentence * 240  # 5,040 characters on one line
    parts = check(text)
    assert len(parts) == 2
    assert parts[0].endswith("。")
    assert len(parts[0]) % len(sentence) == 0
    assert len(parts[0]) > TELEGRAM_TEXT_LIMIT - len(sentence)


def test_punctuation_cut_keeps_closing_marks_on_the_line() -> None:
    text = "他说：「好的。」" * 10
    parts = check(text, limit=20)
    for part in parts:
        assert part[0] not in "。」："  # never 「好的。 | 」
        assert part[-1] != "「"
        assert part[-1] in "」："


def test_a_long_english_line_is_cut_between_words() -> None:
    words = [random.Random(7).choice(["union", "member", "dues", "meeting", "vote"]) for _ in range(1000)]
    text = " ".join(words)
    parts = check(text)
    assert len(parts) == 2
    assert parts[0].split(" ") + parts[1].split(" ") == words


def test_a_space_far_from_the_end_is_not_used() -> None:
    text = "ab " + "x" * 50
    assert check(text, limit=20) == ["ab " + "x" * 17, "x" * 20, "x" * 13]


def test_a_space_too_early_to_prefer_is_still_never_kept_at_a_part_edge() -> None:
    assert check("a \u3000\r\n\ng4", limit=2) == ["a", "g4"]
    assert check("ab" + " " * 3 + "cd", limit=3) == ["ab", "cd"]


def test_leading_and_trailing_whitespace_of_a_long_text_go_with_the_separators() -> None:
    split = split_text_with_separators("\n  " + "a" * 10 + "\n" + "b" * 10 + " \n", limit=10)
    assert split.parts == ["a" * 10, "b" * 10]
    assert split.separators == ["\n  ", "\n", " \n"]


def test_markup_characters_are_left_exactly_as_they_are() -> None:
    line = "*粗体* _斜体_ `code` [链接](https://example.org/?a=1&b=2) <b>&amp;</b> \\ # + - = | { } . !"
    text = "\n".join([line] * 80)
    parts = check(text)
    assert len(parts) == 2
    for part in parts:
        assert set(part.split("\n")) == {line}


def test_limit_must_hold_an_emoji() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        split_text("abc", limit=1)


# -- split_text: never inside a character as the member sees it ------------------------------------


def test_emoji_count_two_and_are_never_halved() -> None:
    text = "😀" * 3000
    parts = check(text)
    assert parts == ["😀" * 2048, "😀" * 952]
    assert check("a" + "😀" * 10, limit=4) == ["a😀", "😀😀", "😀😀", "😀😀", "😀😀", "😀"]


def test_surrogate_pairs_held_as_two_code_points_stay_together() -> None:
    pair = "😀".encode("utf-16-le").decode("utf-16-le", "surrogatepass")
    lenient = "\ud83d\ude00"  # what a lenient decoder can leave in a str
    assert pair != lenient
    parts = check(lenient * 30, limit=7)
    for part in parts:
        assert part.startswith("\ud83d")
        assert part.endswith("\ude00")


@pytest.mark.parametrize(
    "cluster",
    [
        "👨\u200d👩\u200d👧\u200d👦",  # family: a ZWJ sequence
        "👍🏽",  # skin tone
        "🇨🇳",  # flag: two regional indicators
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # England: tag sequence
        "e\u0301\u0323",  # combining marks
        "1\ufe0f\u20e3",  # keycap
        "\u1100\u1161\u11a8",  # Hangul conjoining jamo
    ],
)
def test_grapheme_clusters_are_never_cut(cluster: str) -> None:
    text = cluster * 200
    for limit in (utf16_len(cluster), utf16_len(cluster) + 1, 3 * utf16_len(cluster) - 1, 100):
        for part in check(text, limit):
            assert part == cluster * (len(part) // len(cluster))


def test_flags_split_only_between_whole_flags() -> None:
    text = "🇨🇳🇫🇷🇩🇪" * 20  # one long run of regional indicators
    for part in check(text, limit=10):
        assert len(part) % 2 == 0
        assert part[:2] in {"🇨🇳", "🇫🇷", "🇩🇪"}


def test_a_space_carrying_a_combining_mark_stays_with_it() -> None:
    split = split_text_with_separators("a" * 8 + "  \u0301bbb", limit=10)
    assert split.parts == ["a" * 8, " \u0301bbb"]
    assert split.separators == ["", " ", ""]


def test_a_single_character_longer_than_the_limit_is_cut_between_code_points() -> None:
    text = "a" + "\u0301" * 30  # one grapheme cluster of 31 code points
    parts = check(text, limit=8)
    assert "".join(parts) == text


# -- split_text: properties over generated texts ---------------------------------------------------

# Each item is one grapheme cluster, and any two may stand side by side without
# merging, so the offsets between them are exactly where a cut may fall.
LATIN = [*"abcdefghijklmnopqrstuvwxyz0123456789", "’", ",", ".", "é", "e\u0301"]
CJK = list("工会会员费活动报名意见查询我们的在和了是不") + list("。，！？；：、…（）「」《》”") + ["𠀀", "𪚥"]
EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🇨🇳", "🇫🇷", "1\ufe0f\u20e3", "✅", "❤\ufe0f"]
EMOJI += ["🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "\u1100\u1161\u11a8", "한"]
MARKUP = list("*_[]()~`>#+-=|{}.!<&\\")
SPACES = [" ", " ", " ", "\n", "\n", "\r\n", "\t", "\u3000", "\xa0"]
STYLES = {
    "english": LATIN * 6 + SPACES * 4 + MARKUP,
    "chinese": CJK * 6 + ["\n"],
    "emoji": [*EMOJI, *LATIN, " ", "\n"],
    "mixed": LATIN + CJK + EMOJI + MARKUP + SPACES,
    "lines": CJK + LATIN,  # lines of random length, with blank lines
}
LONGEST_CLUSTER = max(utf16_len(cluster) for cluster in EMOJI)


def generated(seed: int) -> tuple[list[str], int]:
    rng = random.Random(seed)
    style = rng.choice(sorted(STYLES))
    alphabet = STYLES[style]
    size = rng.choice([10, 100, 1000, 5000, 6000])
    if style != "lines":
        return [rng.choice(alphabet) for _ in range(size)], rng.choice([2, 3, 5, 16, 17, 64, 300, 4096])
    clusters: list[str] = []
    while len(clusters) < size:
        clusters += [rng.choice(alphabet) for _ in range(rng.choice([0, 5, 40, 4096, 5000]))]
        clusters += rng.choice([["\n"], ["\n"], ["\n", "\n"]])
    return clusters, rng.choice([16, 100, 4096])


@pytest.mark.parametrize("seed", range(300))
def test_generated_texts_keep_every_invariant(seed: int) -> None:
    clusters, limit = generated(seed)
    text = "".join(clusters)
    parts = check(text, limit)
    if utf16_len(text) > limit and not text.isspace():
        assert parts, "a non-blank text gives at least one part"
    if limit < LONGEST_CLUSTER:
        return  # a cluster longer than the limit must be cut inside
    allowed = {0}
    offset = 0
    for cluster in clusters:
        offset += len(cluster)
        allowed.add(offset)
    split = split_text_with_separators(text, limit)
    position = 0
    for separator, part in zip(split.separators, split.parts, strict=False):
        position += len(separator)
        assert position in allowed, f"part starts inside a character: {text[position - 2 : position + 2]!r}"
        position += len(part)
        assert position in allowed, f"part ends inside a character: {text[position - 2 : position + 2]!r}"


# -- callback data ---------------------------------------------------------------------------------


def test_short_payloads_travel_as_themselves(store: EphemeralStore) -> None:
    codec = CallbackCodec(store)
    for payload in ("m:menu", "a" * CALLBACK_DATA_LIMIT, "缴" * 21, "x"):
        assert codec.encode(payload) == payload
        assert codec.decode(payload) == payload
        assert store.get("tg:cb:" + payload) is None  # nothing stored


def test_long_payloads_are_stored_under_a_short_key(store: EphemeralStore) -> None:
    codec = CallbackCodec(store)
    for payload in ("a" * (CALLBACK_DATA_LIMIT + 1), "缴" * 22, "会员意见：" * 200, "😀" * 17):
        key = codec.encode(payload)
        assert key.startswith("h:")
        assert len(key) == 22
        assert len(key.encode("utf-8")) <= CALLBACK_DATA_LIMIT
        assert key[2:].replace("-", "").replace("_", "").isalnum()  # base64url
        assert codec.decode(key) == payload


def test_the_same_payload_always_gets_the_same_key(store: EphemeralStore) -> None:
    payload = "d:activity:signup:2024年度职工运动会（羽毛球、乒乓球、拔河）"
    first = CallbackCodec(store).encode(payload)
    again = CallbackCodec(store).encode(payload)  # another process, another codec
    assert first == again
    assert CallbackCodec(store).encode(payload + "!") != first
    assert CallbackCodec(store).decode(first) == payload


def test_payloads_starting_with_the_reserved_prefix_are_always_stored(store: EphemeralStore) -> None:
    codec = CallbackCodec(store)
    key = codec.encode("h:short")
    assert key != "h:short"
    assert codec.decode(key) == "h:short"


def test_unknown_or_expired_keys_decode_to_none(store: EphemeralStore) -> None:
    codec = CallbackCodec(store)
    assert codec.decode("h:AAAAAAAAAAAAAAAAAAAA") is None
    assert codec.decode("") is None
    key = codec.encode("缴" * 40)
    store.delete("tg:cb:" + key)  # what expiry does
    assert codec.decode(key) is None


def test_stored_payloads_expire_after_the_ttl() -> None:
    store = MemoryStore()
    codec = CallbackCodec(store, ttl=3600)
    with time_machine.travel(0, tick=False) as traveller:
        key = codec.encode("缴" * 40)
        traveller.shift(timedelta(minutes=59))
        assert codec.decode(key) == "缴" * 40
        codec.encode("缴" * 40)  # sending the keyboard again renews it
        traveller.shift(timedelta(minutes=59))
        assert codec.decode(key) == "缴" * 40
        traveller.shift(timedelta(minutes=2))
        assert codec.decode(key) is None
    assert CALLBACK_TTL_SECONDS == 30 * 24 * 3600  # the default: a month of chat history


def test_codec_refuses_empty_payloads_and_bad_ttls() -> None:
    with pytest.raises(ValueError, match="payload"):
        CallbackCodec(MemoryStore()).encode("")
    with pytest.raises(ValueError, match="ttl"):
        CallbackCodec(MemoryStore(), ttl=0)


# -- keyboards -------------------------------------------------------------------------------------


def labels(rows: list[list[tuple[str, str]]]) -> list[list[str]]:
    return [[label for label, _ in row] for row in rows]


def buttons(*names: str) -> list[Button]:
    return [Button(name, f"p:{index}") for index, name in enumerate(names)]


def test_display_width() -> None:
    assert display_width("abc") == 3
    assert display_width("缴费") == 4
    assert display_width("✅ OK") == 5
    assert display_width("e\u0301") == 1
    assert display_width("👨\u200d👩\u200d👧") == 6


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["是"], [["是"]]),
        (["是", "否"], [["是", "否"]]),
        (["一", "二", "三"], [["一", "二", "三"]]),
        (["一", "二", "三", "四"], [["一", "二"], ["三", "四"]]),
        (["一", "二", "三", "四", "五"], [["一", "二", "三"], ["四", "五"]]),
        (list("1234567"), [["1", "2", "3"], ["4", "5"], ["6", "7"]]),
        # one label too wide for thirds: the block goes two to a row
        (["我的信息", "查看会员权益说明", "缴费"], [["我的信息", "查看会员权益说明"], ["缴费"]]),
        # a long label stands alone and splits the blocks around it, order kept
        (
            ["缴费", "请假", "查询本人全部会费缴纳记录与发票", "帮助"],
            [["缴费", "请假"], ["查询本人全部会费缴纳记录与发票"], ["帮助"]],
        ),
        (["Show my membership card"], [["Show my membership card"]]),
        (["Yes, I will attend", "No, thanks"], [["Yes, I will attend", "No, thanks"]]),
    ],
)
def test_automatic_rows(names: list[str], expected: list[list[str]]) -> None:
    assert labels(keyboard_rows(buttons(*names), CallbackCodec(MemoryStore()))) == expected


def test_explicit_columns() -> None:
    codec = CallbackCodec(MemoryStore())
    rows = keyboard_rows(buttons(*"1234567"), codec, per_row=3)
    assert labels(rows) == [["1", "2", "3"], ["4", "5", "6"], ["7"]]
    wide = ["a long label that would stand alone"] * 3
    assert labels(keyboard_rows(buttons(*wide), codec, per_row=2)) == [wide[:2], wide[2:]]
    for bad in (0, 9):
        with pytest.raises(ValueError, match="per_row"):
            keyboard_rows(buttons("a"), codec, per_row=bad)


def test_rows_carry_encoded_callback_data(store: EphemeralStore) -> None:
    codec = CallbackCodec(store)
    long_payload = "d:feedback:category:劳动合同与工资待遇相关问题咨询"
    rows = keyboard_rows([Button("咨询", long_payload), Button("返回", "m:menu")], codec)
    (consult, consult_data), (back, back_data) = rows[0]
    assert (consult, back) == ("咨询", "返回")
    assert back_data == "m:menu"
    assert consult_data.startswith("h:")
    assert codec.decode(consult_data) == long_payload


def test_labels_are_never_cut_silently() -> None:
    codec = CallbackCodec(MemoryStore())
    exact = "会" * BUTTON_LABEL_LIMIT
    assert labels(keyboard_rows([Button(exact, "p")], codec)) == [[exact]]
    for bad in ("会" * (BUTTON_LABEL_LIMIT + 1), "😀" * 33, "", "  "):
        with pytest.raises(ValueError, match="label"):
            keyboard_rows([Button("好", "p"), Button(bad, "q")], codec)


def test_at_most_a_hundred_buttons() -> None:
    codec = CallbackCodec(MemoryStore())
    rows = keyboard_rows(buttons(*[str(n) for n in range(MAX_BUTTONS)]), codec)
    assert sum(len(row) for row in rows) == MAX_BUTTONS
    with pytest.raises(ValueError, match="100"):
        keyboard_rows(buttons(*[str(n) for n in range(MAX_BUTTONS + 1)]), codec)


@pytest.mark.parametrize("seed", range(50))
def test_generated_keyboards_keep_order_and_limits(seed: int) -> None:
    rng = random.Random(seed)
    words = [
        "是",
        "否",
        "缴费",
        "我的信息",
        "查看会员权益说明",
        "查询本人全部会费缴纳记录与发票",
        "OK",
        "Help",
    ]
    names = [rng.choice(words) for _ in range(rng.randint(0, MAX_BUTTONS))]
    per_row = rng.choice([None, None, 1, 4, 8])
    rows = keyboard_rows(buttons(*names), CallbackCodec(MemoryStore()), per_row=per_row)
    assert [cell for row in rows for cell in row] == [
        (name, f"p:{index}") for index, name in enumerate(names)
    ]
    assert all(1 <= len(row) <= (per_row or 3) for row in rows)
    for row in rows:
        if len(row) > 1 and per_row is None:
            assert all(display_width(label) <= 20 for label, _ in row)
