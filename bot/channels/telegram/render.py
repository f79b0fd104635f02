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
import unicodedata
from collections.abc import Sequence

from bot.channels import text_parts
from bot.channels.text_parts import SplitText, utf16_len, utf16_units
from handlers.core.messages import Button
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


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Cut a reply into messages Telegram accepts: ``text_parts.split_text`` counting UTF-16 units."""
    return text_parts.split_text(text, limit, utf16_units)


def split_text_with_separators(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> SplitText:
    """:func:`split_text`, also returning the whitespace it removed, so nothing is lost unseen."""
    return text_parts.split_text_with_separators(text, limit, utf16_units)


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
