"""The dialog state: one open form per account, saved, read and closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models.accounts import touch_account
from models.dialog_state import DialogState, clear_dialog, load_dialog, save_dialog

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_a_dialog_is_saved_advanced_read_and_closed(session: Session) -> None:
    account = touch_account(session, channel="telegram", external_id="7", now=NOW)
    session.flush()
    assert account.id is not None
    assert load_dialog(session, account.id) is None
    save_dialog(session, account_id=account.id, flow="bind", step="employee_no", data={}, now=NOW)
    later = NOW + timedelta(minutes=1)
    save_dialog(session, account_id=account.id, flow="bind", step="last4", data={"no": "1001"}, now=later)
    state = load_dialog(session, account.id)
    assert state is not None
    assert (state.flow, state.step, dict(state.data), state.updated_at) == (
        "bind",
        "last4",
        {"no": "1001"},
        later,
    )
    assert sa.inspect(state).transient  # a copy: nothing writes through it
    clear_dialog(session, account.id)
    assert load_dialog(session, account.id) is None
    assert session.get(DialogState, account.id) is None


def test_saving_expires_a_copy_the_session_holds(session: Session) -> None:
    account = touch_account(session, channel="telegram", external_id="7", now=NOW)
    session.flush()
    assert account.id is not None
    save_dialog(session, account_id=account.id, flow="bind", step="employee_no", data={}, now=NOW)
    held = session.get(DialogState, account.id)
    assert held is not None
    save_dialog(session, account_id=account.id, flow="lang", step="locale", data={"a": 1}, now=NOW)
    assert (held.flow, held.data) == ("lang", {"a": 1})
