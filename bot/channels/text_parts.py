"""Cutting a long reply into messages that each fit a channel's limit, where a reader would cut it.

Channels count differently: Telegram in UTF-16 code units (see
``bot/channels/telegram/render.py``), WeChat in UTF-8 bytes. The cutting is
the same, so it lives here with the character's cost as a parameter. Nothing
here escapes or rewrites a character, and no cut falls inside one: where a
character begins is :func:`models.base.character_starts`, the rule the forms
and the models count limits by.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import NamedTuple

from models.base import character_starts

Cost = Callable[[str], int]
"""What one character counts towards a limit."""


def utf16_units(char: str) -> int:
    """What one character costs where limits count UTF-16 code units (Telegram): emoji count two."""
    return 2 if ord(char) > 0xFFFF else 1


def utf8_bytes(char: str) -> int:
    """What one character costs where limits count UTF-8 bytes (WeChat): a Chinese character is three."""
    return len(char.encode("utf-8", "surrogatepass"))


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: a character outside the BMP (most emoji) counts two."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class SplitText(NamedTuple):
    """The parts of a text and the whitespace removed around them.

    ``separators`` has one more item than ``parts``, and::

        text == separators[0] + parts[0] + separators[1] + ... + parts[-1] + separators[-1]
    """

    parts: list[str]
    separators: list[str]


def split_text(text: str, limit: int, cost: Cost = utf16_units) -> list[str]:
    """Cut a reply into messages of at most ``limit`` units each, a character costing ``cost(char)``.

    Where a part ends, in order of preference:

    1. at a blank line (between paragraphs), if that keeps at least half of the part;
    2. at the last line break that fits;
    3. at a space in the last quarter of the part;
    4. after Chinese punctuation (。！？；，、：…, closing brackets) in the last quarter,
       unless the next character may not start a line (another mark, a closing bracket);
    5. anywhere, but never inside a character as the member sees it: not between a
       letter and its combining mark, inside a ZWJ emoji sequence, between a flag's
       two halves or an emoji and its skin tone (:func:`models.base.character_starts`).
       Only one "character" longer than the limit is cut inside, between code points.

    The whitespace at a cut is dropped, as Telegram would trim it anyway, so no
    part starts or ends with whitespace (but for a space that carries a combining
    mark), and none is empty or blank. A text that
    fits is returned as it is, and so is a blank one (``[]`` when empty); the
    adapter skips those, since Telegram refuses an empty message.
    See :func:`split_text_with_separators` for what was dropped.
    """
    return split_text_with_separators(text, limit, cost).parts


def split_text_with_separators(text: str, limit: int, cost: Cost = utf16_units) -> SplitText:
    """:func:`split_text`, also returning the whitespace it removed, so nothing is lost unseen."""
    widest = cost("\U0001f600")  # nothing costs more than a character outside the BMP
    if limit < widest:
        raise ValueError(f"limit must be at least {widest}: one emoji costs that much")
    if not text:
        return SplitText([], [""])
    if text.isspace() or sum(cost(char) for char in text) <= limit:
        return SplitText([text], ["", ""])
    bounds = {*character_starts(text), len(text)}
    stop = len(text.rstrip())
    start = _skip_space(text, 0, bounds)
    parts: list[str] = []
    separators = [text[:start]]
    while True:
        end = _fit(text, start, limit, cost)
        if end >= stop:
            parts.append(text[start:stop])
            separators.append(text[stop:])
            return SplitText(parts, separators)
        cut, resume = _cut(text, start, end, bounds)
        parts.append(text[start:cut])
        separators.append(text[cut:resume])
        start = resume


_SPACE_RUN = re.compile(r"\s+")
# Chinese and Japanese marks a line may end after, and those it may not start with (kinsoku).
# "’" is left out of the first set: in English it is also the apostrophe of "don’t".
_BREAK_AFTER = frozenset("。．！？；，、：…‥）」』】》〉〕〗〙〛｝］”")
_NO_BREAK_BEFORE = frozenset("。．！？；，、：…‥）」』】》〉〕〗〙〛｝］”’・ー々ゝゞヽヾ")


def _fit(text: str, start: int, limit: int, cost: Cost) -> int:
    """The first index from ``start`` on that no longer fits in ``limit`` units (or the text's end)."""
    units = 0
    for index in range(start, len(text)):
        units += cost(text[index])
        if units > limit:
            return index
    return len(text)


def _cut(text: str, start: int, end: int, bounds: Collection[int]) -> tuple[int, int]:
    """Where the part beginning at ``start`` ends, and where the next begins (``end`` no longer fits).

    Both are returned because the whitespace between them is dropped. ``bounds``: where
    characters begin, and the text's end.
    """
    span = end - start
    half = start + span // 2
    last_quarter = max(end - span // 4, start + 1)
    # Whitespace runs that begin within the part or right after it: the character
    # at ``end`` does not fit, but as a separator it does not need to. A run is
    # taken whole, as a line break just past ``end`` still makes it a line break.
    runs: list[tuple[int, str]] = []
    for match in _SPACE_RUN.finditer(text, start + 1, end + 1):
        whole = _SPACE_RUN.match(text, match.start()) if match.end() > end else None
        runs.append((match.start(), (whole or match).group()))
    paragraph_breaks = [at for at, run in runs if run.count("\n") >= 2 and at >= half]
    line_breaks = [at for at, run in runs if "\n" in run]
    spaces = [at for at, _ in runs if at >= last_quarter]
    for candidates in (paragraph_breaks, line_breaks, spaces):
        for at in reversed(candidates):
            if at in bounds:
                return at, _skip_space(text, at, bounds)
    for at in range(end, last_quarter - 1, -1):
        if text[at - 1] in _BREAK_AFTER and text[at] not in _NO_BREAK_BEFORE and at in bounds:
            return _out_of_space(text, start, at, bounds)
    for at in range(end, start, -1):
        if at in bounds:
            return _out_of_space(text, start, at, bounds)
    # One grapheme cluster longer than the limit (a letter with thousands of marks):
    # cut it between code points, still never between the halves of a surrogate pair.
    at = end
    if at - 1 > start and _is_surrogate_pair(text[at - 1], text[at]):
        at -= 1
    return _out_of_space(text, start, at, bounds)


def _out_of_space(text: str, start: int, at: int, bounds: Collection[int]) -> tuple[int, int]:
    """A cut at ``at`` moved out of any whitespace around it (a space too early to prefer)."""
    cut = at
    while cut > start + 1 and text[cut - 1].isspace():
        cut -= 1
    return cut, _skip_space(text, at, bounds)


def _skip_space(text: str, index: int, bounds: Collection[int]) -> int:
    """The index after the whitespace at ``index``, leaving a space that carries a combining mark."""
    after = index
    while after < len(text) and text[after].isspace():
        after += 1
    if index < after < len(text) and after not in bounds:
        after -= 1
    return after


def _is_surrogate_pair(high: str, low: str) -> bool:
    # A str decoded leniently (surrogatepass, some JSON) can hold the two halves as two code points.
    return 0xD800 <= ord(high) <= 0xDBFF and 0xDC00 <= ord(low) <= 0xDFFF
