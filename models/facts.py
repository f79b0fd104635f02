"""Facts a transaction reads once: a member's grants, the chat accounts bound to them.

Drawing the main menu asks every feature whether the member may use it, and
several of those questions come down to the same rows: the member's roles were
read seven times for one menu (bench/RESULTS.md, "Statements per message"). A
:class:`Fact` keeps what it read in the session for the rest of the transaction,
so every check of one message shares one read, and no check can go back to the
database on its own for what another already read.

A kept answer is never older than what a query in the same transaction would
return. The end of the transaction (commit, rollback, a savepoint's end) forgets
everything kept. A write to a table a fact is read from forgets that fact: an ORM
flush that inserts or deletes such a row or changes a column the fact depends on,
or a bulk statement on the table; a statement whose table SQLAlchemy cannot name
(``text()``) forgets every fact. Changes still pending in the session are
flushed before a kept answer is given, as a query would have flushed them.
Writes outside the session (another connection) are not seen, as a transaction
does not see them either once it has read the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from contextlib import contextmanager
from itertools import chain
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Where a session keeps its facts: {fact name: {key: value}}.
_KEPT = "unionbot.facts"
_FACTS: list[Fact[Any, Any]] = []


class Fact(Generic[K, V]):
    """One kind of fact, kept per transaction by key (a member's id).

    Args:
        name: names the fact's part of ``session.info``; unique among facts.
        watches: each mapped class the fact is read from, with the columns whose change alters
            the answer (None: any change does); inserting or deleting a row always does.
    """

    name: str

    def __init__(self, name: str, watches: Mapping[type[Any], Collection[str] | None]) -> None:
        if any(fact.name == name for fact in _FACTS):
            raise ValueError(f"a fact named {name!r} exists already")
        self.name = name
        self._watches = {cls: None if columns is None else tuple(columns) for cls, columns in watches.items()}
        self._classes = tuple(watches)
        self._tables = frozenset(sa.inspect(cls).persist_selectable.name for cls in watches)
        _FACTS.append(self)

    def recall(self, session: orm.Session, key: K, read: Callable[[], V]) -> V:
        """The answer kept for ``key`` in this transaction, or ``read()``, then kept."""
        if session.autoflush and self._pending(session):
            session.flush()  # what a query would do first; the flush forgets what it changes
        kept: dict[K, V] = session.info.setdefault(_KEPT, {}).setdefault(self.name, {})
        if key in kept:
            return kept[key]
        value = read()
        # The read may have flushed and so forgotten this fact's part: keep the value in the current one.
        session.info.setdefault(_KEPT, {}).setdefault(self.name, {})[key] = value
        return value

    def recall_many(
        self, session: orm.Session, keys: Collection[K], read: Callable[[list[K]], Mapping[K, V]]
    ) -> dict[K, V]:
        """The answers for ``keys``: those kept, and the others read together by ``read(missing)``, then kept.

        A key ``read`` gives no answer for is left out (and read again when asked again).
        """
        if session.autoflush and self._pending(session):
            session.flush()
        kept: dict[K, V] = session.info.setdefault(_KEPT, {}).setdefault(self.name, {})
        found = {key: kept[key] for key in keys if key in kept}
        missing = [key for key in keys if key not in found]
        if missing:
            fresh = read(missing)
            session.info.setdefault(_KEPT, {}).setdefault(self.name, {}).update(fresh)
            found.update(fresh)
        return found

    def remember(self, session: orm.Session, key: K, value: V) -> None:
        """Keep ``value`` for ``key``, read by a query that brought it along with something else."""
        session.info.setdefault(_KEPT, {}).setdefault(self.name, {})[key] = value

    def _pending(self, session: orm.Session) -> bool:
        return any(
            isinstance(obj, self._classes) for obj in chain(session.new, session.deleted, session.dirty)
        )

    def _written(self, session: orm.Session) -> bool:
        """Whether the flush under way changes what this fact was read from."""
        if any(isinstance(obj, self._classes) for obj in chain(session.new, session.deleted)):
            return True
        for obj in session.dirty:
            for cls, columns in self._watches.items():
                if not isinstance(obj, cls):
                    continue
                if columns is None:
                    return True
                attrs = sa.inspect(obj).attrs
                if any(attrs[column].history.has_changes() for column in columns):
                    return True
        return False

    def _reads(self, table: str | None) -> bool:
        return table is None or table in self._tables


@contextmanager
def keep_loaded(session: orm.Session) -> Iterator[None]:
    """Keep every row the session loads meanwhile in its identity map, so ``session.get`` finds it again.

    The identity map holds rows weakly: a notice a renderer loaded and let go of is
    forgotten, and the next push of the same notice read it again, with its unit
    (bench/RESULTS.md, "Statements per message"). Held here until the block ends.
    """
    held: list[object] = []

    def hold(_session: orm.Session, instance: object) -> None:
        held.append(instance)

    sa.event.listen(session, "loaded_as_persistent", hold)
    try:
        yield
    finally:
        sa.event.remove(session, "loaded_as_persistent", hold)
        held.clear()


def forget_all(session: orm.Session) -> None:
    """Forget every fact this session keeps (a write the facts cannot see, such as raw SQL)."""
    session.info.pop(_KEPT, None)


def _transaction_ended(session: orm.Session, transaction: orm.SessionTransaction) -> None:
    # A flush runs in a subtransaction of its own, which ends with it: only the end of the
    # real transaction or of a savepoint (whose rollback may undo writes) forgets.
    if transaction.parent is None or transaction.nested:
        forget_all(session)


def _after_flush(session: orm.Session, _context: Any) -> None:
    # The session's new, dirty and deleted lists and the attributes' history still show
    # what this flush writes.
    kept = session.info.get(_KEPT)
    if not kept:
        return
    for fact in _FACTS:
        if fact.name in kept and fact._written(session):
            del kept[fact.name]


def _before_statement(state: orm.ORMExecuteState) -> None:
    if state.is_select:
        return
    kept = state.session.info.get(_KEPT)
    if not kept:
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    for fact in _FACTS:
        if fact.name in kept and fact._reads(table):
            del kept[fact.name]


sa.event.listen(orm.Session, "after_transaction_end", _transaction_ended)
sa.event.listen(orm.Session, "after_flush", _after_flush)
sa.event.listen(orm.Session, "do_orm_execute", _before_statement)
