"""Translations: catalogues for zh_CN (default), zh_TW and en, bound per message.

Msgids are the simplified-Chinese sentences themselves, as the union writes
them; the zh_CN catalogue repeats them so that a missing translation in any
catalogue is visible to the test that checks them.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from models.errors import DomainError, Label

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"
SUPPORTED_LOCALES = ("zh_CN", "zh_TW", "en")
DEFAULT_LOCALE = "zh_CN"

LOCALE_NAMES: Mapping[str, str] = {"zh_CN": "简体中文", "zh_TW": "繁體中文", "en": "English"}

# Babel's negotiation maps "zh-hant" to nothing useful; clients send all of these.
_ALIASES: Mapping[str, str] = {
    "zh": "zh_CN",
    "zh_cn": "zh_CN",
    "zh_hans": "zh_CN",
    "zh_sg": "zh_CN",
    "zh_hans_cn": "zh_CN",
    "zh_tw": "zh_TW",
    "zh_hk": "zh_TW",
    "zh_mo": "zh_TW",
    "zh_hant": "zh_TW",
    "zh_hant_tw": "zh_TW",
    "zh_hant_hk": "zh_TW",
    "en": "en",
}


def negotiate_locale(hint: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Our locale for a client's language tag ("zh-Hant-HK", "en-US", None)."""
    if not hint:
        return default
    tag = hint.strip().replace("-", "_").lower()
    while tag:
        if tag in _ALIASES:
            return _ALIASES[tag]
        if tag.startswith("en"):
            return "en"
        if "_" not in tag:
            break
        tag = tag.rsplit("_", 1)[0]
    return default


def _load(directory: Path, locale: str) -> gettext.NullTranslations:
    folder = directory / locale / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_path.exists() and (not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
        with mo_path.open("rb") as fp:
            return gettext.GNUTranslations(fp)
    if not po_path.exists():
        return gettext.NullTranslations()
    # A fresh checkout has no compiled .mo: compile in memory rather than
    # make every entry point remember a build step.
    with po_path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Translations for one locale. Call it like gettext's ``_``."""

    locale: str
    _translations: gettext.NullTranslations

    def __call__(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self._translations.ngettext(singular, plural, count)

    def error(self, error: DomainError) -> str:
        """The member-facing sentence of a domain error, in this locale."""
        return self.sentence(error.msgid, error.params)

    def sentence(self, msgid: str, params: Mapping[str, Any]) -> str:
        """``msgid`` translated and filled in; :class:`~models.errors.Label` parameters are translated too."""
        values = {name: self(value) if isinstance(value, Label) else value for name, value in params.items()}
        return self(msgid).format(**values)


class Catalogues:
    """Every locale's translations, loaded once per process."""

    def __init__(self, directory: Path = LOCALES_DIR, default_locale: str = DEFAULT_LOCALE) -> None:
        self.default_locale = default_locale
        self._translators = {
            locale: Translator(locale, _load(directory, locale)) for locale in SUPPORTED_LOCALES
        }

    def get(self, locale: str | None) -> Translator:
        return self._translators.get(locale or self.default_locale) or self._translators[self.default_locale]
