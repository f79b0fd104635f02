"""Turning neutral replies into what Telegram accepts: text parts, button rows, callback data.

Pure functions over strings (plus the ephemeral store for long button
payloads), so they are tested without Telegram. Nothing here imports
``telegram``; the adapter wraps the results in python-telegram-bot objects.

How Telegram counts characters
------------------------------
The Bot API allows "1-4096 characters after entities parsing" and does not
say which characters. Entity offsets are documented in UTF-16 code units, and
most libraries count the text limit that way too; one project that measured
(FerroxLabs/wayland#934) saw the server accept 4,096 astral emoji, that is,
count code points. We count **UTF-16 code units**: that count is never below
the code-point count, so a part that passes ours passes Telegram's under
either reading. The only price is that emoji-heavy text is cut a little
earlier than strictly needed. CJK text is in the BMP and costs one unit a
character; rarer ideographs (CJK Extension B, e.g. "𠀀") cost two, like emoji.

"After entities parsing" also means that a cut may fall inside a Markdown or
HTML entity. The adapter therefore sends text without ``parse_mode``, and
nothing here escapes or rewrites a character.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from handlers.messages import Button
from models.ephemeral import EphemeralStore

TELEGRAM_TEXT_LIMIT = 4096
"""Characters in one message (see the module docstring for how we count them)."""

CALLBACK_DATA_LIMIT = 64
"""Bytes of UTF-8 in one button's ``callback_data``."""

BUTTON_LABEL_LIMIT = 64
"""Our own ceiling for a button label: a longer one is a handler bug, not something to cut."""

MAX_BUTTONS_PER_ROW = 8
MAX_BUTTONS = 100
"""Telegram's limits for one inline keyboard."""

CALLBACK_TTL_SECONDS = 30 * 24 * 3600
"""How long a stored payload outlives the keyboard that carries it (a month of chat history)."""

THREE_PER_ROW_WIDTH = 12
TWO_PER_ROW_WIDTH = 20
"""Widest label (see :func:`display_width`) that still reads whole three, or two, to a row.

On a phone about 390 points wide, a third of a row leaves room for some 13
Latin letters or 7 Chinese characters before Telegram shortens the label with
an ellipsis, half a row for some 21 or 11. The thresholds stay a little
under that, because fonts and screens vary.
"""


# -- text --------------------------------------------------------------------------------------


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


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Cut a reply into messages of at most ``limit`` UTF-16 code units each.

    Where a part ends, in order of preference:

    1. at a blank line (between paragraphs), if that keeps at least half of the part;
    2. at the last line break that fits;
    3. at a space in the last quarter of the part;
    4. after Chinese punctuation (。！？；，、：…, closing brackets) in the last quarter,
       unless the next character may not start a line (another mark, a closing bracket);
    5. anywhere, but never inside a character as the member sees it: not between a
       letter and its combining mark, inside a ZWJ emoji sequence, between a flag's
       two halves or an emoji and its skin tone (a simplified UAX #29 grapheme rule).
       Only one "character" longer than the limit is cut inside, between code points.

    The whitespace at a cut is dropped, as Telegram would trim it anyway, so no
    part starts or ends with whitespace (but for a space that carries a combining
    mark), and none is empty or blank. A text that
    fits is returned as it is, and so is a blank one (``[]`` when empty); the
    adapter skips those, since Telegram refuses an empty message.
    See :func:`split_text_with_separators` for what was dropped.
    """
    return split_text_with_separators(text, limit).parts


def split_text_with_separators(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> SplitText:
    """:func:`split_text`, also returning the whitespace it removed, so nothing is lost unseen."""
    if limit < 2:
        raise ValueError("limit must be at least 2: an emoji is two UTF-16 code units")
    if not text:
        return SplitText([], [""])
    if text.isspace() or utf16_len(text) <= limit:
        return SplitText([text], ["", ""])
    stop = len(text.rstrip())
    start = _skip_space(text, 0)
    parts: list[str] = []
    separators = [text[:start]]
    while True:
        end = _fit(text, start, limit)
        if end >= stop:
            parts.append(text[start:stop])
            separators.append(text[stop:])
            return SplitText(parts, separators)
        cut, resume = _cut(text, start, end)
        parts.append(text[start:cut])
        separators.append(text[cut:resume])
        start = resume


_SPACE_RUN = re.compile(r"\s+")
# Chinese and Japanese marks a line may end after, and those it may not start with (kinsoku).
# "’" is left out of the first set: in English it is also the apostrophe of "don’t".
_BREAK_AFTER = frozenset("。．！？；，、：…‥）」』】》〉〕〗〙〛｝］”")
_NO_BREAK_BEFORE = frozenset("。．！？；，、：…‥）」』】》〉〕〗〙〛｝］”’・ー々ゝゞヽヾ")
_ZWJ = "\u200d"


def _fit(text: str, start: int, limit: int) -> int:
    """The first index from ``start`` on that no longer fits in ``limit`` units (or the text's end)."""
    units = 0
    for index in range(start, len(text)):
        units += 2 if ord(text[index]) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the part beginning at ``start`` ends, and where the next begins (``end`` no longer fits).

    Both are returned because the whitespace between them is dropped.
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
            if _is_boundary(text, at):
                return at, _skip_space(text, at)
    for at in range(end, last_quarter - 1, -1):
        if text[at - 1] in _BREAK_AFTER and text[at] not in _NO_BREAK_BEFORE and _is_boundary(text, at):
            return _out_of_space(text, start, at)
    for at in range(end, start, -1):
        if _is_boundary(text, at):
            return _out_of_space(text, start, at)
    # One grapheme cluster longer than the limit (a letter with thousands of marks):
    # cut it between code points, still never between the halves of a surrogate pair.
    at = end
    if at - 1 > start and _is_surrogate_pair(text[at - 1], text[at]):
        at -= 1
    return _out_of_space(text, start, at)


def _out_of_space(text: str, start: int, at: int) -> tuple[int, int]:
    """A cut at ``at`` moved out of any whitespace around it (a space too early to prefer)."""
    cut = at
    while cut > start + 1 and text[cut - 1].isspace():
        cut -= 1
    return cut, _skip_space(text, at)


def _skip_space(text: str, index: int) -> int:
    """The index after the whitespace at ``index``, leaving a space that carries a combining mark."""
    after = index
    while after < len(text) and text[after].isspace():
        after += 1
    if index < after < len(text) and not _is_boundary(text, after):
        after -= 1
    return after


def _is_surrogate_pair(high: str, low: str) -> bool:
    # A str decoded leniently (surrogatepass, some JSON) can hold the two halves as two code points.
    return 0xD800 <= ord(high) <= 0xDBFF and 0xDC00 <= ord(low) <= 0xDFFF


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


def _extends(char: str) -> bool:
    """Does ``char`` belong to the character before it? (UAX #29 Extend, SpacingMark, ZWJ, Hangul V/T)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")  # combining marks, variation selectors, keycap
        or code in (0x200C, 0x200D)  # zero-width non-joiner and joiner
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin tones
        or 0xE0020 <= code <= 0xE007F  # tags of subdivision flags (🏴 England)
        or 0x1160 <= code <= 0x11FF  # Hangul medial vowels and final consonants
        or 0xD7B0 <= code <= 0xD7FF
    )


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _is_boundary(text: str, index: int) -> bool:
    """May a message end just before ``text[index]``? A simplified UAX #29 grapheme-cluster rule."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before == "\r" and after == "\n":
        return False
    if _is_surrogate_pair(before, after):
        return False
    if _is_control(before) or _is_control(after):
        return True
    if _extends(after):
        return False
    if before == _ZWJ and not after.isspace():
        return False  # GB11, conservatively: whatever follows a joiner is joined
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        run = 0
        while index - run - 1 >= 0 and _is_regional_indicator(text[index - run - 1]):
            run += 1
        return run % 2 == 0  # flags are pairs: break only after a whole number of them
    hangul_leading = 0x1100 <= ord(before) <= 0x115F
    return not (hangul_leading and (0x1100 <= ord(after) <= 0x115F or 0xAC00 <= ord(after) <= 0xD7A3))


# -- callback data -----------------------------------------------------------------------------


class CallbackCodec:
    """Button payloads in and out of Telegram's 64-byte ``callback_data``.

    A payload that fits travels as itself: most buttons need no storage and
    keep working across restarts, a flushed Redis or the in-memory store of a
    single process. A longer one (Chinese costs three bytes a character, so 22
    characters already overflow) is kept in the ephemeral store under
    ``"h:"`` + 20 characters of base64url SHA-256 (120 bits: no collision in
    practice), and that key travels instead. The same payload always gets the
    same key, so rendering a menu again neither grows the store nor changes
    the keyboard; it only renews the expiry.

    A payload that happens to start with the reserved ``"h:"`` is always
    stored, so a payload is never mistaken for a key.

    What comes back is input from the member's client like any typed text:
    :meth:`decode` returns what was stored or the data as sent, and the core
    validates it. ``None`` means the key is unknown or expired; the adapter
    then tells the member the button is out of date. With the in-memory store,
    a restart forgets every long payload; Redis keeps them for ``ttl`` seconds.
    """

    PREFIX = "h:"
    KEY_CHARS = 20

    def __init__(
        self, store: EphemeralStore, ttl: int = CALLBACK_TTL_SECONDS, *, namespace: str = "tg:cb:"
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._store = store
        self._ttl = ttl
        self._namespace = namespace

    def fits(self, payload: str) -> bool:
        """True when the payload travels as itself, without touching the store."""
        return (
            bool(payload)
            and len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT
            and not payload.startswith(self.PREFIX)
        )

    def encode(self, payload: str) -> str:
        """The ``callback_data`` for a payload: itself when it fits, else a stored key."""
        if not payload:
            raise ValueError("a button needs a payload: Telegram refuses empty callback_data")
        if self.fits(payload):
            return payload
        raw = payload.encode("utf-8")
        digest = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode("ascii")
        key = self.PREFIX + digest[: self.KEY_CHARS]
        self._store.set(self._namespace + key, payload, self._ttl)
        return key

    def decode(self, data: str) -> str | None:
        """The payload behind ``callback_data``; None when its key expired or was never ours."""
        if not data:
            return None
        if not data.startswith(self.PREFIX):
            return data
        return self._store.get(self._namespace + data)


# -- keyboards ---------------------------------------------------------------------------------


def display_width(label: str) -> int:
    """About how wide a label shows: Chinese characters and emoji count two, marks and joiners none."""
    width = 0
    for char in label:
        if unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def keyboard_rows(
    buttons: Sequence[Button], codec: CallbackCodec, *, per_row: int | None = None
) -> list[list[tuple[str, str]]]:
    """``(label, callback_data)`` rows for an inline keyboard, buttons kept in their order.

    Without ``per_row`` the layout follows the labels' :func:`display_width`:

    - a label wider than ``TWO_PER_ROW_WIDTH`` (20: ten Chinese characters) gets a row of its own;
    - consecutive other buttons form a block sharing one column count: three to a
      row when every label in the block is at most ``THREE_PER_ROW_WIDTH`` wide
      (12: six Chinese characters), otherwise two;
    - a block's rows are balanced (four buttons make 2 + 2, not 3 + 1; seven make 3 + 2 + 2),
      because Telegram stretches buttons to the row's width and uneven rows look ragged.

    So a short pair such as 是 / 否 sits side by side, as choices do in
    Telegram's own apps, while a menu of long items becomes a list. With
    ``per_row`` (1 to 8) buttons are simply laid out that many to a row.

    Nothing is cut silently: an empty label, one over ``BUTTON_LABEL_LIMIT``
    (64, counted like message text) or more than ``MAX_BUTTONS`` buttons raise
    ValueError, as they are bugs in the handler that built the reply.
    """
    if len(buttons) > MAX_BUTTONS:
        raise ValueError(f"{len(buttons)} buttons: Telegram allows at most {MAX_BUTTONS} in one keyboard")
    if per_row is not None and not 1 <= per_row <= MAX_BUTTONS_PER_ROW:
        raise ValueError(f"per_row must be between 1 and {MAX_BUTTONS_PER_ROW}, not {per_row}")
    for button in buttons:
        if not button.label or button.label.isspace():
            raise ValueError(f"button {button.payload!r} has no label")
        if utf16_len(button.label) > BUTTON_LABEL_LIMIT:
            raise ValueError(f"button label over {BUTTON_LABEL_LIMIT} characters: {button.label!r}")
    cells = [(button.label, codec.encode(button.payload)) for button in buttons]
    if per_row is not None:
        return [cells[index : index + per_row] for index in range(0, len(cells), per_row)]
    rows: list[list[tuple[str, str]]] = []
    block: list[tuple[str, str]] = []
    columns = 3
    for cell in cells:
        width = display_width(cell[0])
        if width > TWO_PER_ROW_WIDTH:
            rows.extend(_balanced(block, columns))
            rows.append([cell])
            block, columns = [], 3
            continue
        block.append(cell)
        if width > THREE_PER_ROW_WIDTH:
            columns = 2
    rows.extend(_balanced(block, columns))
    return rows


def _balanced(cells: list[tuple[str, str]], columns: int) -> list[list[tuple[str, str]]]:
    """Rows of at most ``columns`` cells, as even as possible, longer rows first."""
    if not cells:
        return []
    count = math.ceil(len(cells) / columns)
    size, extra = divmod(len(cells), count)
    rows: list[list[tuple[str, str]]] = []
    index = 0
    for row in range(count):
        length = size + (1 if row < extra else 0)
        rows.append(cells[index : index + length])
        index += length
    return rows
