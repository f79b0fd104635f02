"""One rule for names and units, wherever they come in."""

from __future__ import annotations

import pytest

from models.errors import InvalidInput
from models.members import clean_employee_no, clean_name
from models.names import hidden_character, trim, visible
from models.units import split_unit_path


@pytest.mark.parametrize(
    ("text", "character"),
    [
        ("二车间\x01甲班", "U+0001"),
        ("甲班\x1b[31m", "U+001B"),
        ("\u202e王五", "U+202E"),
        ("一车间\u200b", "U+200B"),
        ("王\u2028五", "U+2028"),
        ("李\x85四", "U+0085"),
        ("赵<U+202E>强", "U+202E"),  # an export's mark of one
        ("王建国", None),
        ("欧阳·娜娜", None),
        ("\ue000姓", None),  # a rare character an old system put in the private-use area
    ],
)
def test_hidden_characters_are_found_and_named(text: str, character: str | None) -> None:
    assert hidden_character(text) == character


def test_trim_removes_spaces_tabs_and_breaks_but_leaves_other_controls_to_refuse() -> None:
    assert trim("\u3000 王建国\t\r\n") == "王建国"
    assert trim("王建国\x1f") == "王建国\x1f"


def test_visible_marks_every_hidden_character() -> None:
    assert visible("二车间\x01甲班\x1b[31m") == "二车间<U+0001>甲班<U+001B>[31m"
    assert visible("第一行\n第二行", keep_lines=True) == "第一行\n第二行"
    assert visible("王建国") == "王建国"


@pytest.mark.parametrize(
    ("clean", "text"),
    [(clean_name, "王\u200b五"), (clean_name, "王五\x1f"), (split_unit_path, "厂工会/一车间\u200b")],
)
def test_names_and_units_refuse_hidden_characters(clean: object, text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean(text)  # type: ignore[operator]
    assert caught.value.params["character"].startswith("U+")


def test_employee_numbers_are_nfkc_and_trimmed() -> None:
    assert clean_employee_no("\u3000ａ１００１\t") == "A1001"
    with pytest.raises(InvalidInput):
        clean_employee_no("1001\u200b")
