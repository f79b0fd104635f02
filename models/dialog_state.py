"""Where a member is in a conversation, kept in the database.

State lives here rather than in process memory so that a half-filled form
survives a restart and any process behind the webhook can serve the next step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field, Session, SQLModel

from models.base import UTCDateTime, utcnow
from models.facts import Fact


class DialogState(SQLModel, table=True):
    """The open dialog of one chat account: which flow, which step, what was answered."""

    __tablename__ = "dialog_state"

    account_id: int = Field(foreign_key="chat_account.id", primary_key=True)
    flow: str = Field(max_length=64)
    step: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=MutableDict.as_mutable(sa.JSON()))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_TABLE: sa.Table = DialogState.__table__  # type: ignore[attr-defined]
# Built once: a reused statement keeps its cache key, so SQLAlchemy compiles it once per engine.
_LOAD = sa.select(_TABLE).where(_TABLE.c.account_id == sa.bindparam("account_id"))
_CLEAR = sa.delete(_TABLE).where(_TABLE.c.account_id == sa.bindparam("account_id"))
_SAVED = ("flow", "step", "data", "updated_at")
_UPSERTS: dict[str, sa.Insert] = {}


# What identify selects along with who is writing (the table joined on the account's id), so the
# open dialog needs no statement of its own.
DIALOG_TABLE = _TABLE
OPEN_DIALOG_COLUMNS = (_TABLE.c.flow, _TABLE.c.step, _TABLE.c.data, _TABLE.c.updated_at)
# Each account's open dialog as read in this transaction (None: none open); saving or closing one,
# a statement on the table, forgets it (models.facts).
_OPEN = Fact[int, dict[str, Any] | None]("open dialogs", {DialogState: None})


def load_dialog(session: Session, account_id: int) -> DialogState | None:
    """The account's open dialog, as a detached copy (read with Core: this runs on every message).

    Nothing writes through it: :func:`save_dialog` and :func:`clear_dialog` do. Read once
    per transaction at most, and not at all when identifying the writer brought it along.
    """

    def read() -> dict[str, Any] | None:
        row = session.execute(_LOAD, {"account_id": account_id}).first()
        return None if row is None else dict(row._mapping)

    values = _OPEN.recall(session, account_id, read)
    return None if values is None else DialogState(**values)


def note_open_dialog(session: Session, account_id: int, columns: Sequence[Any]) -> None:
    """Keep the account's open dialog, read as :data:`OPEN_DIALOG_COLUMNS` by a query about something else.

    ``columns`` are all None when the account has no open dialog (an outer join found no row).
    """
    flow, step, data, updated_at = columns
    values = None
    if flow is not None:
        values = {
            "account_id": account_id,
            "flow": flow,
            "step": step,
            "data": data,
            "updated_at": updated_at,
        }
    _OPEN.remember(session, account_id, values)


def _upsert(dialect: str) -> sa.Insert:
    statement = _UPSERTS.get(dialect)
    if statement is None:
        insert = postgresql_insert(_TABLE) if dialect == "postgresql" else sqlite_insert(_TABLE)
        statement = insert.on_conflict_do_update(
            index_elements=[_TABLE.c.account_id],
            set_={name: insert.excluded[name] for name in _SAVED},
        )
        _UPSERTS[dialect] = statement
    return statement


def save_dialog(
    session: Session, *, account_id: int, flow: str, step: str, data: dict[str, Any], now: datetime
) -> None:
    """Open or advance the account's dialog (one per account) in one statement.

    An upsert rather than load-then-write: saving happens on nearly every
    message, often right after the previous form was closed.
    """
    values = {"account_id": account_id, "flow": flow, "step": step, "data": dict(data), "updated_at": now}
    session.execute(_upsert(session.get_bind().dialect.name), values)
    # A copy loaded earlier in this session is now out of date.
    stale = session.identity_map.get(session.identity_key(DialogState, account_id))
    if stale is not None:
        session.expire(stale)


def clear_dialog(session: Session, account_id: int) -> None:
    """Close the account's dialog, if any.

    A plain DELETE rather than ``session.delete``: after a rolled-back
    savepoint the ORM may still think it has a row to delete, and this must
    work whatever it thinks.
    """
    session.execute(_CLEAR, {"account_id": account_id})
