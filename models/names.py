"""Names as the roster and the admin write them: one rule for every door they come in by.

A name or unit that carries a character nobody can see is a trap: ``一车间\\u200b``
looks like 一车间 and is another unit (outside the real cadre's scope), U+202E
turns the text around on screen, an escape sequence recolours the admin's
terminal, and a C0 control makes a spreadsheet library refuse the whole export.
So control and format characters (Unicode categories Cc and Cf, lone surrogates,
line and paragraph separators) are refused wherever a name or unit enters:
roster imports, ``members grant``/``revoke``, unit look-ups from chat. Rows
written before this rule can still hold them; :func:`visible` shows them as
``<U+202E>`` wherever such text is printed or exported.

Private-use and not-yet-assigned code points are allowed: older systems map rare
characters of people's names there (GB18030's user-defined area, recent CJK extensions).
"""

from __future__ import annotations

import re
import unicodedata

from models.errors import N_, InvalidInput

HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def is_hidden(ch: str) -> bool:
    """A control or format character: invisible, or changing how the text around it shows."""
    return unicodedata.category(ch) in HIDDEN_CATEGORIES


# How :func:`visible` marks a hidden character; such a mark in a name is refused as the
# character itself, so an export that marked one cannot be imported back unnoticed.
_MARK = re.compile(r"<U\+[0-9A-F]{4,6}>")


def hidden_character(text: str) -> str | None:
    """The first hidden character of ``text`` (or mark of one) described for a person ("U+202E"), or None."""
    for ch in text:
        if is_hidden(ch):
            return describe(ch)
    mark = _MARK.search(text)
    return mark.group()[1:-1] if mark else None


def describe(ch: str) -> str:
    """U+001B, the form an admin can look up."""
    return f"U+{ord(ch):04X}"


def visible(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every hidden character shown by its code point (``<U+200B>``), safe to print
    and to export.

    ``keep_lines`` leaves line breaks as they are, for a message of several lines.
    """

    def shown(ch: str) -> bool:
        return not is_hidden(ch) or (keep_lines and ch == "\n")

    if all(shown(ch) for ch in text):
        return text
    return "".join(ch if shown(ch) else f"<{describe(ch)}>" for ch in text)


# Spreadsheets leave these around a cell's text (a stray Tab, Alt+Enter): trimmed, not refused.
_TRIMMED_CONTROLS = frozenset("\t\n\r")


def _trimmable(ch: str) -> bool:
    return ch.isspace() and (ch in _TRIMMED_CONTROLS or not is_hidden(ch))


def trim(raw: str) -> str:
    """Spaces (full-width ones too), tabs and line breaks removed from both ends.

    Other controls Python counts as space (U+001C–U+001F, U+0085) stay, to be refused.
    """
    start, end = 0, len(raw)
    while start < end and _trimmable(raw[start]):
        start += 1
    while end > start and _trimmable(raw[end - 1]):
        end -= 1
    return raw[start:end]


def clean_label(raw: str, *, refused: str, code: str, **params: object) -> str:
    """A name as kept: surrounding spaces trimmed (:func:`trim`), hidden characters refused.

    ``refused`` is the msgid naming the field; it gets ``{character}`` and ``params``.

    Raises:
        InvalidInput: ``code``, the text holds a control or format character.
    """
    value = trim(raw)
    character = hidden_character(value)
    if character is not None:
        raise InvalidInput(code, refused, character=character, **params)
    return value


# Named here so the import, the commands and chat refuse in the same words.
NAME_HIDDEN = N_("姓名里有看不见的控制或格式字符（{character}），请删除后再试。")
UNIT_HIDDEN = N_("单位名称“{name}”里有看不见的控制或格式字符（{character}），请删除后再试。")
CELL_HIDDEN = N_("“{column}”一栏有看不见的控制或格式字符（{character}），请删除后再导入。")
