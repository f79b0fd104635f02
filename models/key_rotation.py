"""Re-sealing every sealed value under a new data key (``python -m bot keys rotate``).

Every column of type :class:`~models.sealed.Sealed` in any table, found from the
tables' metadata (a feature's new sealed column is rotated without being listed
here), the answers open forms keep sealed (purposes declared with
:func:`models.sealed.sealed_in_forms`), and every sealed file under the media
folder, is opened with whichever key
sealed it and sealed again under the current key. Meanwhile the bot runs on with
both keys (``models.sealed.use_key(new, old=[...])``), so nothing stops working.

It goes a batch of rows at a time, each batch in a transaction of its own with
the progress it makes (:class:`KeyRotationProgress`: the last row done, per
column, under the new key's id), so an interrupted rotation resumes where it
stopped. A value the bot rewrites meanwhile is left alone: each row is updated
only if it still holds what was read. Values the new key sealed already (written
by the bot since it restarted, or by an earlier run) are recognised and skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models import sealed
from models.base import UTCDateTime, utcnow
from models.db import SessionFactory
from models.dialog_state import DialogState

MEDIA_TARGET = "media files"
BATCH = 500


class KeyRotationProgress(SQLModel, table=True):
    """How far the rotation to one key got in one sealed column (``table.column``) or the media files."""

    __tablename__ = "key_rotation_progress"

    key_id: str = Field(primary_key=True, max_length=16)
    target: str = Field(primary_key=True, max_length=120)
    # The last primary key done in a column; the last file's path (relative to the media folder) for files.
    position: str = Field(default="", max_length=1000)
    resealed: int = Field(default=0)
    finished: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class SealedColumn:
    table: sa.Table
    column: sa.Column[str]
    key: sa.Column[int]
    purpose: str

    @property
    def target(self) -> str:
        return f"{self.table.name}.{self.column.name}"


@dataclass
class RotationReport:
    """What a run did: values re-sealed per target, and the targets finished before this run."""

    resealed: dict[str, int] = field(default_factory=dict)
    already_done: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.resealed.values())


class RotationBlocked(RuntimeError):
    """A sealed column the rotation cannot walk (no single integer primary key)."""


def sealed_columns(metadata: sa.MetaData = SQLModel.metadata) -> list[SealedColumn]:
    """Every sealed column of every table, in a stable order."""
    found = []
    for table in sorted(metadata.tables.values(), key=lambda table: table.name):
        for column in table.columns:
            if not isinstance(column.type, sealed.Sealed):
                continue
            keys = list(table.primary_key.columns)
            if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
                raise RotationBlocked(
                    f"{table.name}.{column.name}: a sealed column needs one integer primary key"
                )
            found.append(SealedColumn(table, column, keys[0], column.type.purpose))
    return found


def _progress(session: Session, key_id: str, target: str) -> KeyRotationProgress:
    row = session.get(KeyRotationProgress, (key_id, target))
    if row is None:
        row = KeyRotationProgress(key_id=key_id, target=target)
        session.add(row)
    return row


# Called after each committed batch with its target and how many values it re-sealed; tests interrupt here.
BatchHook = Callable[[str, int], None]


def _rotate_column(
    sessions: SessionFactory, item: SealedColumn, key_id: str, batch: int, hook: BatchHook
) -> int:
    raw = sa.type_coerce(item.column, sa.String)
    resealed = 0
    while True:
        with sessions() as session:
            progress = _progress(session, key_id, item.target)
            if progress.finished:
                return resealed
            after = int(progress.position) if progress.position else None
            query = sa.select(item.key, raw).where(item.column.is_not(None)).order_by(item.key).limit(batch)
            if after is not None:
                query = query.where(item.key > after)
            rows = session.execute(query).all()
            changes = []
            for row_id, stored in rows:
                again = sealed.reseal(stored, item.purpose)
                if again is not None:
                    changes.append({"_id": row_id, "_seen": stored, "_new": again})
            if changes:
                # Guarded by what was read: a value the bot rewrote meanwhile (under the new key) stays.
                statement = (
                    sa.update(item.table)
                    .where(item.key == sa.bindparam("_id"), raw == sa.bindparam("_seen", type_=sa.String))
                    .values({item.column.name: sa.bindparam("_new", type_=sa.String)})
                )
                session.connection().execute(statement, changes)
            progress.resealed += len(changes)
            progress.updated_at = utcnow()
            if rows:
                progress.position = str(rows[-1][0])
            if len(rows) < batch:
                progress.finished = True
        resealed += len(changes)
        hook(item.target, len(changes))
        if len(rows) < batch:
            return resealed


FORMS_TARGET = "dialog_state.data"


def _reseal_answers(value: Any, purposes: frozenset[str]) -> tuple[Any, int]:
    """``value`` (a form's saved answers) with every sealed string re-sealed; and how many were."""
    if isinstance(value, str) and sealed.is_sealed(value):
        for purpose in purposes:
            try:
                again = sealed.reseal(value, purpose)
            except sealed.SealBroken:
                continue
            return (value, 0) if again is None else (again, 1)
        return value, 0  # sealed for a purpose nobody declared: left for the form's timeout
    if isinstance(value, dict):
        changed = 0
        result = {}
        for key, item in value.items():
            result[key], count = _reseal_answers(item, purposes)
            changed += count
        return result, changed
    if isinstance(value, list):
        items = [_reseal_answers(item, purposes) for item in value]
        return [item for item, _count in items], sum(count for _item, count in items)
    return value, 0


def _rotate_forms(sessions: SessionFactory, key_id: str, batch: int, hook: BatchHook) -> int:
    """Answers sealed into open forms (``models.sealed.sealed_in_forms``), a batch of forms at a time."""
    purposes = sealed.form_purposes()
    table = DialogState.__table__  # type: ignore[attr-defined]
    resealed = 0
    while True:
        with sessions() as session:
            progress = _progress(session, key_id, FORMS_TARGET)
            if progress.finished:
                return resealed
            query = sa.select(table.c.account_id, table.c.data, table.c.updated_at).order_by(
                table.c.account_id
            )
            if progress.position:
                query = query.where(table.c.account_id > int(progress.position))
            rows = session.execute(query.limit(batch)).all()
            changes = 0
            for account_id, data, updated_at in rows if purposes else ():
                again, count = _reseal_answers(data, purposes)
                if count:
                    # Guarded by the form's last save: a member who answered meanwhile keeps their answer.
                    session.execute(
                        sa.update(table)
                        .where(table.c.account_id == account_id, table.c.updated_at == updated_at)
                        .values(data=again)
                    )
                    changes += count
            progress.resealed += changes
            progress.updated_at = utcnow()
            if rows:
                progress.position = str(rows[-1][0])
            if len(rows) < batch:
                progress.finished = True
        resealed += changes
        hook(FORMS_TARGET, changes)
        if len(rows) < batch:
            return resealed


def _sealed_files(media_dir: Path) -> Iterator[Path]:
    if not media_dir.is_dir():
        return
    for path in sorted(media_dir.rglob("*")):
        if path.is_file() and not path.name.startswith(".rotating-"):
            yield path


def _replace(path: Path, content: bytes) -> None:
    """Write ``content`` over ``path`` whole or not at all (a crash leaves the old file)."""
    draft = path.with_name(f".rotating-{path.name}")
    with open(draft, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(draft, path.stat().st_mode & 0o777)
    os.replace(draft, path)


def _rotate_files(sessions: SessionFactory, media_dir: Path, key_id: str, batch: int, hook: BatchHook) -> int:
    with sessions() as session:
        progress = _progress(session, key_id, MEDIA_TARGET)
        if progress.finished:
            return 0
        after = progress.position
    resealed, done, last = 0, 0, after
    pending = 0

    def record(finished: bool) -> None:
        with sessions() as session:
            row = _progress(session, key_id, MEDIA_TARGET)
            row.position = last
            row.resealed += pending
            row.finished = finished
            row.updated_at = utcnow()

    for path in _sealed_files(media_dir):
        relative = path.relative_to(media_dir).as_posix()
        if after and relative <= after:
            continue
        with open(path, "rb") as handle:
            head = handle.read(len(sealed.FILE_MAGIC))
        if head == sealed.FILE_MAGIC:
            again = sealed.reseal_bytes(path.read_bytes())
            if again is not None:
                _replace(path, again)
                resealed += 1
                pending += 1
        last, done = relative, done + 1
        if done % batch == 0:
            record(False)
            hook(MEDIA_TARGET, pending)
            pending = 0
    record(True)
    hook(MEDIA_TARGET, pending)
    return resealed


def rotate_keys(
    sessions: SessionFactory,
    *,
    media_dir: Path | None,
    batch: int = BATCH,
    after_batch: BatchHook = lambda target, count: None,
) -> RotationReport:
    """Re-seal everything under the current key; resumes a rotation to the same key where it stopped.

    Raises:
        models.sealed.SealBroken: a value opens under none of the keys held (which one is named,
            never its content); what was done before it stays done.
        RotationBlocked: a sealed column in a table without a single integer primary key.
    """
    key_id = sealed.current_key_id()
    report = RotationReport()
    columns = sealed_columns()
    with sessions() as session:
        finished = _finished_targets(session, key_id)
    for item in columns:
        if item.target in finished:
            report.already_done.append(item.target)
            continue
        report.resealed[item.target] = _rotate_column(sessions, item, key_id, batch, after_batch)
    if FORMS_TARGET in finished:
        report.already_done.append(FORMS_TARGET)
    else:
        report.resealed[FORMS_TARGET] = _rotate_forms(sessions, key_id, batch, after_batch)
    if media_dir is not None:
        if MEDIA_TARGET in finished:
            report.already_done.append(MEDIA_TARGET)
        else:
            report.resealed[MEDIA_TARGET] = _rotate_files(sessions, media_dir, key_id, batch, after_batch)
    return report


def _finished_targets(session: Session, key_id: str) -> set[str]:
    query = select(KeyRotationProgress.target).where(
        col(KeyRotationProgress.key_id) == key_id, col(KeyRotationProgress.finished).is_(True)
    )
    return set(session.exec(query))
