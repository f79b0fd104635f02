"""Where a member is in a conversation, kept in the database.

State lives here rather than in process memory so that a half-filled form
survives a restart and any process behind the webhook can serve the next step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.mutable import MutableDict
from sqlmodel import Field, Session, SQLModel, col

from models.base import UTCDateTime, utcnow


class DialogState(SQLModel, table=True):
    """The open dialog of one chat account: which flow, which step, what was answered."""

    __tablename__ = "dialog_state"

    account_id: int = Field(foreign_key="chat_account.id", primary_key=True)
    flow: str = Field(max_length=64)
    step: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=MutableDict.as_mutable(sa.JSON()))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def load_dialog(session: Session, account_id: int) -> DialogState | None:
    return session.get(DialogState, account_id)


def save_dialog(
    session: Session, *, account_id: int, flow: str, step: str, data: dict[str, Any], now: datetime
) -> None:
    """Open or advance the account's dialog (one per account) in one statement.

    An upsert rather than load-then-write: saving happens on nearly every
    message, often right after the previous form was closed.
    """
    table = DialogState.__table__  # type: ignore[attr-defined]
    values = {"account_id": account_id, "flow": flow, "step": step, "data": dict(data), "updated_at": now}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.account_id],
        set_={name: statement.excluded[name] for name in ("flow", "step", "data", "updated_at")},
    )
    session.execute(statement)
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
    session.execute(sa.delete(DialogState).where(col(DialogState.account_id) == account_id))
