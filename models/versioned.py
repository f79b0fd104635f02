"""Optimistic locking for a cadre's action on a row that carries an integer ``version`` column.

Two cadres may open the same case and act on it at once. Neither holds a lock
while they read and type; instead each action names the version its actor saw:

1. :meth:`VersionLock.claim` reloads the row and refuses at once if the version
   moved since the actor saw it. It writes nothing.
2. The action checks every rule of its own and changes the row in memory.
3. :meth:`VersionLock.bump` moves the version on with one guarded ``UPDATE``
   (``… WHERE id = :id AND version = :seen``), last, once every rule passed.
   A refused action so leaves no trace that would make the cadre's next try
   look like someone else's change. On PostgreSQL the ``UPDATE`` also waits
   for a concurrent action on the same row to finish; if that one committed,
   the row no longer matches and this action is refused instead of
   overwriting it. Either way the refusal is raised before the caller writes
   anything else of the action, so the transaction's rollback leaves the
   state as the other cadre left it.

The refusal is the table's own error (it names the case and where it now
stands), so each table builds its lock once with the error it raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from models.errors import DomainError


class Versioned(Protocol):
    """A table row with an id and a version that every handling step moves on by one."""

    id: int | None
    version: int


R = TypeVar("R", bound=Versioned)


@dataclass(frozen=True)
class VersionLock(Generic[R]):
    """The optimistic lock of one table.

    Attributes:
        model: the table class; its ``id`` and ``version`` columns are the ones guarded.
        conflict: the refusal to raise, given the row as it now stands, so the message can say
            what the other actor made of it.
    """

    model: type[R]
    conflict: Callable[[R], DomainError]

    def claim(
        self, session: Session, row: R, expected_version: int, *, check: Callable[[R], object] | None = None
    ) -> R:
        """``row`` as it stands in the database, if its version is still the one the actor saw.

        Nothing is written here: the version moves only in :meth:`bump`.

        Args:
            session: the action's session.
            row: the row as loaded; it is reloaded first, so an older copy in the session is not trusted.
            expected_version: the version the actor saw when they opened the case.
            check: run on the reloaded row before the version is compared (the actor's scope), so
                someone outside it learns nothing of the case's changes.

        Raises:
            DomainError: whatever ``check`` raises; the lock's ``conflict`` when the version moved.
        """
        session.refresh(row)
        if check is not None:
            check(row)
        if row.version != expected_version:
            raise self.conflict(row)
        return row

    def bump(self, session: Session, row: R, expected_version: int) -> None:
        """Move the version on from the one the actor saw, or refuse if it moved meanwhile.

        Call it once every rule of the action has passed, before anything else of the action is
        written that a refusal would have to undo.

        Raises:
            DomainError: the lock's ``conflict``, with ``row`` reloaded to show the other actor's work.
        """
        with session.no_autoflush:
            bumped = session.execute(
                sa.update(self.model)
                .where(col(self.model.id) == row.id, col(self.model.version) == expected_version)
                .values(version=expected_version + 1)
                .execution_options(synchronize_session=False)
            )
        if getattr(bumped, "rowcount", 0) != 1:
            session.refresh(row)
            raise self.conflict(row)
        row.version = expected_version + 1
