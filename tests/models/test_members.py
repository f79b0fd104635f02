"""How roster values are read: forgiving where people differ, strict where data would be wrong."""

from __future__ import annotations

import pytest

from models.errors import InvalidInput
from models.members import clean_employee_no, clean_name, clean_phone, format_yuan, parse_yuan


@pytest.mark.parametrize(("raw", "clean"), [("１００１", "1001"), (" a-01 ", "A-01"), ("E_7", "E_7")])
def test_employee_numbers(raw: str, clean: str) -> None:
    assert clean_employee_no(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "10 01", "1001;DROP", "<b>1</b>", "x" * 33, "工号"])
def test_bad_employee_numbers(raw: str) -> None:
    with pytest.raises(InvalidInput):
        clean_employee_no(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("138 0000 1234", "13800001234"),
        ("+86 138-0000-1234", "13800001234"),
        ("１３８００００１２３４", "13800001234"),
        ("", None),
    ],
)
def test_phones(raw: str, clean: str | None) -> None:
    assert clean_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12345", "23800001234", "138000012345", "abc"])
def test_bad_phones(raw: str) -> None:
    with pytest.raises(InvalidInput):
        clean_phone(raw)


def test_names_are_kept_verbatim_but_not_control_characters() -> None:
    assert clean_name(" <b>王五</b>🌟 ") == "<b>王五</b>🌟"
    with pytest.raises(InvalidInput):
        clean_name("王\x07五")
    with pytest.raises(InvalidInput):
        clean_name("长" * 65)


@pytest.mark.parametrize(("raw", "fen"), [("12.5", 1250), ("１２.５０元", 1250), ("", 0), ("1,000", 100000)])
def test_dues_in_yuan(raw: str, fen: int) -> None:
    assert parse_yuan(raw) == fen
    assert format_yuan(fen) == f"{fen // 100}.{fen % 100:02d}"


@pytest.mark.parametrize("raw", ["-1", "1.005", "abc", "NaN", "Infinity", "99999999"])
def test_bad_dues(raw: str) -> None:
    with pytest.raises(InvalidInput):
        parse_yuan(raw)
