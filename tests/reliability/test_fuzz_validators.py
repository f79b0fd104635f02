"""Every reader of what members type, fed arbitrary Unicode: an answer or a clear refusal, never a crash.

A parser returns what it read or None; a validator returns the clean value or raises
``InvalidInput`` with a msgid. Anything else (an ``OverflowError`` from a date past the year 9999,
a ``decimal.InvalidOperation`` from "1e999999999", a ``UnicodeEncodeError`` from a lone surrogate)
would reach the router as an incident.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.parsing import (
    MAX_RECORD_ID,
    chinese_numeral,
    control_characters,
    normalise,
    parse_date,
    parse_id,
    parse_index,
    parse_number,
    parse_yes_no,
    text_length,
)
from handlers.core.steps import parse_moment
from handlers.suggestions.appraisal import parse_quarter
from models.errors import DomainError, InvalidInput
from models.invites import CODE_ALPHABET, CODE_LENGTH, normalise_code
from models.members import clean_employee_no, clean_name, clean_phone, parse_yuan
from models.periods import Period, parse_period
from models.roles import Role, parse_role
from models.roster import parse_roles, parse_status
from models.suggestions.tables import parse_suggestion_number
from tests.reliability.fuzzing import FUZZ, any_text, examples

TODAY = date(2026, 11, 23)
EDGES = (date(1, 1, 1), date(9999, 12, 31), TODAY)
MANY = settings(FUZZ, max_examples=examples(300))


@MANY
@given(text=any_text, today=st.sampled_from(EDGES), ahead=st.booleans())
def test_dates_and_moments_are_read_or_not_understood(text: str, today: date, ahead: bool) -> None:
    day = parse_date(text, today=today, ahead=ahead)
    assert day is None or isinstance(day, date)
    moment = parse_moment(text, today=today, ahead=ahead)
    assert moment is None or (isinstance(moment[0], date) and isinstance(moment[1], time))
    quarter = parse_quarter(text, today=today)
    assert quarter is None or 1 <= quarter[1] <= 4


@MANY
@given(text=any_text)
def test_numbers_choices_and_yes_no_are_read_or_not_understood(text: str) -> None:
    number = parse_number(text)
    assert number is None or (isinstance(number, Decimal) and number.is_finite())
    index = parse_index(text)
    assert index is None or (isinstance(index, int) and index >= 0)
    assert parse_yes_no(text) in (True, False, None)
    numeral = chinese_numeral(text)
    assert numeral is None or isinstance(numeral, int)
    number_of = parse_suggestion_number(text, year=2026)
    assert number_of is None or re.fullmatch(r"JY-\d{4}-\d{6}", number_of), number_of


@MANY
@given(text=any_text)
def test_folding_counting_and_control_characters_never_fail(text: str) -> None:
    folded = normalise(text)
    assert folded == folded.strip()
    assert text_length(text) >= 0
    assert text_length(text) <= len(text)
    found = control_characters(text)
    assert all(ch in text for ch in found)
    # What is reported cannot be seen; what is clean can be encoded to be stored.
    if not found:
        text.encode("utf-8")


# Each validator of a field members or rosters fill: what it must hold of a value it returns.
Validator = Callable[[str], Any]
VALIDATORS: dict[str, tuple[Validator, Callable[[Any], bool]]] = {
    "employee_no": (clean_employee_no, lambda v: re.fullmatch(r"[A-Z0-9][A-Z0-9_-]*", v) is not None),
    "name": (clean_name, lambda v: v == v.strip() and bool(v)),
    "phone": (clean_phone, lambda v: v is None or re.fullmatch(r"1[3-9]\d{9}", v) is not None),
    "yuan": (parse_yuan, lambda v: isinstance(v, int) and v >= 0),
    "role": (parse_role, lambda v: isinstance(v, Role)),
    "roles": (
        parse_roles,
        lambda v: (
            all(isinstance(r, Role) for r in v.own) and all(isinstance(r, Role) for r, _ in v.elsewhere)
        ),
    ),
    "status": (parse_status, lambda v: True),
    "period": (parse_period, lambda v: isinstance(v, Period)),
}


@pytest.mark.parametrize("field", sorted(VALIDATORS))
def test_each_validator_returns_a_clean_value_or_refuses_with_a_sentence(field: str) -> None:
    validate, holds = VALIDATORS[field]

    @settings(FUZZ, max_examples=examples(200))
    @given(text=any_text)
    def check(text: str) -> None:
        try:
            value = validate(text)
        except DomainError as error:
            refusal: DomainError | None = error
        else:
            refusal = None
        if refusal is not None:
            assert isinstance(refusal, InvalidInput)
            sentence = refusal.msgid.format(**refusal.params)  # every placeholder has its value
            assert sentence.rstrip()[-1] in "。！？）", sentence
            return
        assert holds(value), f"{field}: {text!r} gave {value!r}"
        if field in ("employee_no", "phone") and value is not None:
            assert validate(value) == value  # what is stored reads back as itself, for look-ups

    check()


@MANY
@given(text=any_text)
def test_an_invite_code_is_a_code_or_none(text: str) -> None:
    code = normalise_code(text)
    assert code is None or (len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET))
    assert code is None or normalise_code(code) == code


@pytest.mark.parametrize("typed", ["1e999999999", "9E+999999"])
def test_a_dues_amount_past_the_decimal_range_is_refused_not_a_crash(typed: str) -> None:
    """Regression: ``parse_yuan("1e999999999")`` raised ``decimal.Overflow`` while scaling to fen,
    so one such 月会费 cell crashed ``members import`` with a traceback."""
    with pytest.raises(InvalidInput):
        parse_yuan(typed)


@MANY
@given(text=st.one_of(any_text, st.integers(-(2**70), 2**70).map(str)))
def test_a_record_id_from_a_button_is_one_a_table_can_hold_or_none(text: str) -> None:
    found = parse_id(text)
    assert found is None or (1 <= found <= MAX_RECORD_ID and str(found) == text)
