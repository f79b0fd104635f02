"""The gettext catalogues are complete, consistent with the source, and load.

The checks are plain functions returning a list of problems, so that a failure
lists every missing or stale message at once, and so that the second half of
this module can prove them on small catalogues written for the purpose: a
complete catalogue passes, and each kind of mistake is caught.

When these fail on the real catalogues: run ``make messages``, translate what
is empty in locales/*/LC_MESSAGES/messages.po, and run the tests again.
"""

from __future__ import annotations

import gettext
import re
import shutil
import string
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from handlers.core.i18n import DOMAIN, SUPPORTED_LOCALES, Catalogues

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"

# The same keywords as `pybabel extract` in the Makefile (checked below).
KEYWORDS: Mapping[str, tuple[int, ...] | None] = {"_": None, "t": None, "N_": None, "ngettext": (1, 2)}

# A message as gettext keys it: (msgid,) or (msgid, msgid_plural).
Key = tuple[str, ...]

# Babel leaves this one unannotated; give it the type it has, once.
read_mapping: Callable[[IO[str]], tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]] = parse_mapping_cfg


# -- the checks ---------------------------------------------------------------


def po_path(directory: Path, locale: str) -> Path:
    return directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, abort_invalid=True)


def entries(catalog: Catalog) -> Iterator[Message]:
    """The catalogue's messages, without the header entry."""
    return (message for message in catalog if message.id)


def key(msgid: str | tuple[str, ...] | list[str]) -> Key:
    return (msgid,) if isinstance(msgid, str) else tuple(msgid)


def forms(message: Message) -> tuple[str, ...]:
    """The msgstr, or every msgstr[n] of a plural entry."""
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def describe(msgid: Key, locations: list[tuple[str, int]] | None = None) -> str:
    text = " / ".join(f'"{part}"' for part in msgid)
    if locations:
        text += "  (" + ", ".join(f"{file}:{line}" for file, line in locations[:3]) + ")"
    return text


def untranslated(catalog: Catalog) -> list[str]:
    """Entries with an empty msgstr (any plural form) or marked fuzzy."""
    problems = []
    for message in entries(catalog):
        translations = forms(message)
        expected = catalog.num_plurals if message.pluralizable else 1
        if message.fuzzy:
            # pybabel compile and handlers.core.i18n both skip fuzzy entries.
            problems.append(describe(key(message.id), message.locations) + "  [fuzzy: check, drop the flag]")
        elif len(translations) != expected or not all(translations):
            problems.append(describe(key(message.id), message.locations))
    return problems


def placeholders(text: str) -> set[str] | None:
    """The str.format field names in ``text`` ({name}, {name:>3}, {name.attr}); None if malformed."""
    names = set()
    try:
        for _literal, field, _spec, _conversion in string.Formatter().parse(text):
            if field is not None:
                names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    except ValueError:
        return None
    return names


def placeholder_problems(catalog: Catalog) -> list[str]:
    """Translations whose {placeholders} differ from their msgid's.

    A placeholder the msgid lacks would raise KeyError in ``.format``; one left
    out loses information. The one allowance: in a language with several plural
    forms, the first (singular) form may leave out the count ("one reminder").
    """
    problems = []
    for message in entries(catalog):
        expected: set[str] = set()
        for msgid in key(message.id):
            names = placeholders(msgid)
            if names is None:
                problems.append(f"{describe(key(message.id))}: the msgid is not a valid format string")
                break
            expected |= names
        else:
            for index, text in enumerate(forms(message)):
                if not text:
                    continue  # untranslated() reports it
                names = placeholders(text)
                may_omit = message.pluralizable and index == 0 and catalog.num_plurals > 1
                if names is None:
                    problems.append(f'{describe(key(message.id))}: "{text}" is not a valid format string')
                elif names - expected or (expected - names and not may_omit):
                    found = ", ".join(sorted(names)) or "none"
                    wanted = ", ".join(sorted(expected)) or "none"
                    problems.append(
                        f'{describe(key(message.id))}: "{text}" has {{{found}}}, wants {{{wanted}}}'
                    )
    return problems


def header_problems(catalog: Catalog, locale: str) -> list[str]:
    problems = []
    if catalog.fuzzy:
        problems.append("the header is marked fuzzy, so pybabel compile skips the whole catalogue")
    if catalog.charset.lower() != "utf-8":
        problems.append(f"charset is {catalog.charset}, not utf-8")
    # Babel writes zh_CN as zh_Hans_CN in the Language header: compare parsed locales.
    if catalog.locale is None or str(catalog.locale) != str(Locale.parse(locale)):
        problems.append(f"Language is {catalog.locale}, not {locale}")
    plural = get_plural(locale)
    if (catalog.num_plurals, catalog.plural_expr) != (plural.num_plurals, plural.plural_expr):
        problems.append(f"Plural-Forms is {catalog.plural_forms!r}, not {plural.plural_forms!r}")
    return problems


def source_messages(root: Path) -> dict[Key, list[tuple[str, int]]]:
    """Every translatable string under ``root``, found as ``make messages`` finds them."""
    with (root / "babel.cfg").open() as fp:
        method_map, options_map = read_mapping(fp)
    found: dict[Key, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        root, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault(key(message), []).append((filename, lineno))
    return found


def staleness(catalog: Catalog, source: Mapping[Key, list[tuple[str, int]]]) -> list[str]:
    """What ``make messages`` would add to or remove from the catalogue."""
    in_catalogue = {key(message.id) for message in entries(catalog)}
    problems = [
        f"not in the catalogue: {describe(msgid, source[msgid])}"
        for msgid in sorted(source.keys() - in_catalogue)
    ]
    problems += [
        f"no longer in the source: {describe(msgid)}" for msgid in sorted(in_catalogue - source.keys())
    ]
    return problems


def loading_problem(directory: Path, locale: str) -> str | None:
    """None when ``Catalogues`` loads the locale and translates one of its messages as written."""
    catalog = read_catalogue(po_path(directory, locale))
    translated = sorted(
        (message for message in entries(catalog) if not message.fuzzy and all(forms(message))),
        key=lambda message: key(message.id),
    )
    if not translated:
        return (
            f"{po_path(directory, locale)} has no translated message yet; run `make messages` and translate"
        )
    translator = Catalogues(directory).get(locale)
    # A missing or unreadable catalogue falls back to NullTranslations, which has no header.
    if not translator._translations.info():
        return f"Catalogues did not load {po_path(directory, locale)}"
    singular = next((message for message in translated if not message.pluralizable), None)
    if singular is not None:
        msgid, msgstr = key(singular.id)[0], forms(singular)[0]
        if translator(msgid) != msgstr:
            return f'"{msgid}" translates to "{translator(msgid)}", the catalogue says "{msgstr}"'
    plural = next((message for message in translated if message.pluralizable), None)
    if plural is not None:
        msgid, msgid_plural = key(plural.id)[:2]
        choose = gettext.c2py(catalog.plural_expr)
        for count in (0, 1, 2, 5, 11, 21):
            wanted = forms(plural)[choose(count)]
            got = translator.ngettext(msgid, msgid_plural, count)
            if got != wanted:
                return f'ngettext("{msgid}", …, {count}) gives "{got}", the catalogue says "{wanted}"'
    return None


def report(title: str, problems: list[str]) -> str:
    return f"{title} ({len(problems)}):\n  " + "\n  ".join(problems)


# -- the real catalogues -------------------------------------------------------

LOCALE_PARAMS = [pytest.param(locale, id=locale) for locale in SUPPORTED_LOCALES]
CATALOGUE_PATHS = [pytest.param(TEMPLATE, id="template")] + [
    pytest.param(po_path(LOCALES_DIR, locale), id=locale) for locale in SUPPORTED_LOCALES
]


@pytest.mark.parametrize("locale", LOCALE_PARAMS)
def test_catalogue_header(locale: str) -> None:
    problems = header_problems(read_catalogue(po_path(LOCALES_DIR, locale)), locale)
    assert not problems, report(f"{po_path(LOCALES_DIR, locale)} header", problems)


@pytest.mark.parametrize("locale", LOCALE_PARAMS)
def test_every_message_is_translated(locale: str) -> None:
    problems = untranslated(read_catalogue(po_path(LOCALES_DIR, locale)))
    assert not problems, report(f"untranslated in {locale}; fill in {po_path(LOCALES_DIR, locale)}", problems)


@pytest.mark.parametrize("locale", LOCALE_PARAMS)
def test_translations_keep_the_placeholders(locale: str) -> None:
    problems = placeholder_problems(read_catalogue(po_path(LOCALES_DIR, locale)))
    assert not problems, report(f"placeholders differ in {locale}", problems)


@pytest.fixture(scope="module")
def source() -> dict[Key, list[tuple[str, int]]]:
    return source_messages(ROOT)


@pytest.mark.parametrize("path", CATALOGUE_PATHS)
def test_catalogue_is_not_stale(path: Path, source: dict[Key, list[tuple[str, int]]]) -> None:
    problems = staleness(read_catalogue(path), source)
    assert not problems, report(
        f"{path.relative_to(ROOT)} is out of date with the source: run `make messages`, then translate",
        problems,
    )


@pytest.mark.parametrize("locale", LOCALE_PARAMS)
def test_catalogue_loads_and_translates(locale: str) -> None:
    problem = loading_problem(LOCALES_DIR, locale)
    assert problem is None, problem


def test_extraction_keywords_match_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^KEYWORDS :=(.*)$", makefile, re.MULTILINE)
    assert line, "the Makefile defines KEYWORDS for pybabel extract"
    assert parse_keywords(re.findall(r"-k\s+(\S+)", line.group(1))) == KEYWORDS
    assert "--no-default-keywords $(KEYWORDS)" in makefile


# -- the checks themselves, on catalogues written for the purpose ----------------

HEADERS = {
    "zh_CN": ("zh_Hans_CN", "nplurals=1; plural=0;"),
    "zh_TW": ("zh_Hant_TW", "nplurals=1; plural=0;"),
    "en": ("en", "nplurals=2; plural=(n != 1);"),
}


def write_po(path: Path, locale: str, body: str, *, header_flags: str = "") -> Path:
    language, plural_forms = HEADERS[locale]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"{header_flags}"
        'msgid ""\n'
        'msgstr ""\n'
        '"Content-Type: text/plain; charset=utf-8\\n"\n'
        f'"Language: {language}\\n"\n'
        f'"Plural-Forms: {plural_forms}\\n"\n'
        "\n" + body,
        encoding="utf-8",
    )
    return path


# One singular and one plural entry, translated completely, per locale.
COMPLETE = {
    "zh_CN": (
        'msgid "您好，{name}！"\nmsgstr "您好，{name}！"\n\n'
        'msgid "{n} 条提醒"\nmsgid_plural "{n} 条提醒"\nmsgstr[0] "{n} 条提醒"\n'
    ),
    "zh_TW": (
        'msgid "您好，{name}！"\nmsgstr "您好，{name}！"\n\n'
        'msgid "{n} 条提醒"\nmsgid_plural "{n} 条提醒"\nmsgstr[0] "{n} 條提醒"\n'
    ),
    "en": (
        'msgid "您好，{name}！"\nmsgstr "Hello, {name}!"\n\n'
        'msgid "{n} 条提醒"\nmsgid_plural "{n} 条提醒"\nmsgstr[0] "one reminder"\nmsgstr[1] "{n} reminders"\n'
    ),
}


@pytest.mark.parametrize("locale", LOCALE_PARAMS)
def test_checks_pass_a_complete_catalogue(tmp_path: Path, locale: str) -> None:
    catalog = read_catalogue(write_po(po_path(tmp_path, locale), locale, COMPLETE[locale]))
    assert header_problems(catalog, locale) == []
    assert untranslated(catalog) == []
    assert placeholder_problems(catalog) == []


def test_untranslated_lists_every_gap(tmp_path: Path) -> None:
    body = (
        'msgid "已译"\nmsgstr "Done"\n\n'
        '#: handlers/a.py:3\nmsgid "未译"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "存疑"\nmsgstr "Doubtful"\n\n'
        'msgid "{n} 人"\nmsgid_plural "{n} 人"\nmsgstr[0] "{n} person"\nmsgstr[1] ""\n\n'
        'msgid "{n} 次"\nmsgid_plural "{n} 次"\nmsgstr[0] "once"\n'
    )
    catalog = read_catalogue(write_po(tmp_path / "en.po", "en", body))
    assert untranslated(catalog) == [
        '"未译"  (handlers/a.py:3)',
        '"存疑"  [fuzzy: check, drop the flag]',
        '"{n} 人" / "{n} 人"',
        '"{n} 次" / "{n} 次"',
    ]


def test_header_problems_catch_a_wrong_header(tmp_path: Path) -> None:
    path = write_po(tmp_path / "x.po", "en", "", header_flags="#, fuzzy\n")
    problems = header_problems(read_catalogue(path), "zh_TW")
    assert len(problems) == 3
    assert "fuzzy" in problems[0]
    assert "Language" in problems[1]
    assert "Plural-Forms" in problems[2]


def test_placeholder_problems_catch_renamed_lost_and_broken_fields(tmp_path: Path) -> None:
    body = (
        'msgid "本月会费 {amount} 元"\nmsgstr "Dues this month: {amount:.2f} yuan"\n\n'
        'msgid "{name}，您好"\nmsgstr "Hello, {nmae}"\n\n'
        'msgid "{unit}的{name}"\nmsgstr "{name}"\n\n'
        'msgid "第 {n} 名"\nmsgstr "No. {n"\n\n'
        'msgid "用 {{ 和 }} 括起来"\nmsgstr "Put it in {{ and }}"\n\n'
        'msgid "未译 {x}"\nmsgstr ""\n\n'
        'msgid "{n} 条提醒"\nmsgid_plural "{n} 条提醒"\nmsgstr[0] "one reminder"\nmsgstr[1] "reminders"\n'
    )
    problems = placeholder_problems(read_catalogue(write_po(tmp_path / "en.po", "en", body)))
    assert problems == [
        '"{name}，您好": "Hello, {nmae}" has {nmae}, wants {name}',
        '"{unit}的{name}": "{name}" has {name}, wants {name, unit}',
        '"第 {n} 名": "No. {n" is not a valid format string',
        '"{n} 条提醒" / "{n} 条提醒": "reminders" has {none}, wants {n}',
    ]


def test_a_single_plural_form_must_keep_the_count(tmp_path: Path) -> None:
    body = 'msgid "{n} 条提醒"\nmsgid_plural "{n} 条提醒"\nmsgstr[0] "多条提醒"\n'
    problems = placeholder_problems(read_catalogue(write_po(tmp_path / "zh_TW.po", "zh_TW", body)))
    assert problems == ['"{n} 条提醒" / "{n} 条提醒": "多条提醒" has {none}, wants {n}']


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A small project with the real babel.cfg: strings in code, migrations and tests."""
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    files = {
        "bot/cli.py": 'print(_("数据库已是最新结构。"))\n',
        "handlers/menu.py": (
            'LABEL = N_("主菜单")\n\ndef f(t, n):\n    return t.ngettext("{n} 条提醒", "{n} 条提醒", n)\n'
        ),
        "models/errors.py": 'def f(n):\n    return ngettext("{n} 人", "{n} 人", n), gettext("不提取")\n',
        "scheduler/jobs/digest.py": 'X = _("每周摘要")\n',
        "models/migrations/versions/0001_initial.py": 'X = _("迁移里的字")\n',
        "tests/test_x.py": 'X = _("测试里的字")\n',
        "bench/bench_x.py": 'X = _("基准里的字")\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_source_messages_follow_babel_cfg_and_the_keywords(source_tree: Path) -> None:
    assert source_messages(source_tree) == {
        ("数据库已是最新结构。",): [("bot/cli.py", 1)],
        ("主菜单",): [("handlers/menu.py", 1)],
        ("{n} 条提醒", "{n} 条提醒"): [("handlers/menu.py", 4)],
        ("{n} 人", "{n} 人"): [("models/errors.py", 2)],
        ("每周摘要",): [("scheduler/jobs/digest.py", 1)],
    }


def test_staleness_lists_what_make_messages_would_change(source_tree: Path, tmp_path: Path) -> None:
    body = (
        'msgid "数据库已是最新结构。"\nmsgstr "数据库已是最新结构。"\n\n'
        'msgid "主菜单"\nmsgstr "主菜单"\n\n'
        'msgid "{n} 条提醒"\nmsgid_plural "{n} 条提醒"\nmsgstr[0] "{n} 条提醒"\n\n'
        'msgid "每周摘要"\nmsgstr "每周摘要"\n\n'
        'msgid "已删除的句子"\nmsgstr "已删除的句子"\n'
    )
    catalog = read_catalogue(write_po(tmp_path / "zh_CN.po", "zh_CN", body))
    assert staleness(catalog, source_messages(source_tree)) == [
        'not in the catalogue: "{n} 人" / "{n} 人"  (models/errors.py:2)',
        'no longer in the source: "已删除的句子"',
    ]
    catalog.add(("{n} 人", "{n} 人"), ("{n} 人",))
    catalog.delete("已删除的句子")
    assert staleness(catalog, source_messages(source_tree)) == []


def test_loading_problem_passes_complete_catalogues(tmp_path: Path) -> None:
    for locale in SUPPORTED_LOCALES:
        write_po(po_path(tmp_path, locale), locale, COMPLETE[locale])
    for locale in SUPPORTED_LOCALES:
        assert loading_problem(tmp_path, locale) is None


def test_loading_problem_reports_an_empty_catalogue(tmp_path: Path) -> None:
    write_po(po_path(tmp_path, "en"), "en", 'msgid "未译"\nmsgstr ""\n')
    problem = loading_problem(tmp_path, "en")
    assert problem is not None
    assert "no translated message yet" in problem
