"""Roster (花名册) imports and exports, independent of the file they come from.

The union's roster is kept in a spreadsheet by the 厂工会 office and handed to
the bot again and again, so an import has to be safe to repeat: rows are
matched by 工号, unchanged rows change nothing, and the whole file is checked
before anything is written. A file of 10,000 rows is read in seconds: existing
members are loaded once and written back in bulk, never one query per row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.accounts import Channel, ChatAccount
from models.base import UTCDateTime, string_enum, utcnow
from models.errors import N_, DomainError, InvalidInput
from models.members import (
    STATUS_LABELS,
    Member,
    MemberStatus,
    clean_employee_no,
    clean_name,
    clean_phone,
    format_yuan,
    parse_yuan,
)
from models.names import CELL_HIDDEN, hidden_character, trim
from models.roles import ROLE_LABELS, Role, RoleGrant, parse_role
from models.units import PATH_SEPARATOR, Unit, UnitTree, split_unit_path, subtree_ids, unit_path

# Rows written per round trip: large enough to be fast, small enough that the
# progress bar moves and no database hits its limit on bound parameters.
CHUNK_SIZE = 500

# How people separate several roles in one cell: 主席、职工代表 / chair, representative.
_ROLE_SEPARATORS = re.compile(r"[、,，;；\s]+")
_OPENING, _CLOSING = "（(", "）)"
# 管理员（厂工会）: a role on a unit other than the member's own.
_ROLE_AT_UNIT = re.compile(r"(?P<role>[^（(]+?)\s*[（(](?P<unit>[^（()）]*)[）)]")

_STATUS_WORDS: dict[str, MemberStatus] = {
    **{status.value: status for status in MemberStatus},
    **{label: status for status, label in STATUS_LABELS.items()},
}

_T = TypeVar("_T")

# The columns of a roster row as the file's header names them, for messages about a cell.
CELL_COLUMNS: dict[str, str] = {
    "employee_no": "工号",
    "name": "姓名",
    "unit": "单位",
    "phone": "手机",
    "roles": "角色",
    "monthly_dues": "月会费",
    "status": "状态",
}

RowError = tuple[int, DomainError]
"""A line of the file and what is wrong with it."""

ProgressCallback = Callable[[int], None]
"""Called during an import with the number of rows handled so far."""


@dataclass(frozen=True)
class RosterRow:
    """One line of a roster file, as the spreadsheet holds it: raw text.

    ``None`` in ``phone``, ``roles``, ``monthly_dues`` or ``status`` means the
    file has no such column, so an import leaves that field of existing members
    alone; an empty string means the column is there and the cell is blank.
    """

    line: int
    employee_no: str
    name: str
    unit: str
    phone: str | None = None
    roles: str | None = None
    monthly_dues: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class RosterEntry:
    """A roster row that passed every check, in the form the database keeps.

    ``None`` in ``roles``, ``monthly_dues_fen`` or ``status`` keeps its meaning
    from :class:`RosterRow`: "not in the file" (a blank status cell counts as
    not given, so it never reinstates or removes anyone by accident). A blank
    phone is ``None`` too, which is why ``phone_given`` says whether the file
    has a 手机 column at all.
    """

    line: int
    employee_no: str
    name: str
    unit_path: str
    phone: str | None
    phone_given: bool
    roles: StatedRoles | None
    monthly_dues_fen: int | None
    status: MemberStatus | None


@dataclass(frozen=True)
class StatedRoles:
    """A 角色 cell: roles on the member's own unit, and roles on other units with their paths."""

    own: frozenset[Role] = frozenset()
    elsewhere: frozenset[tuple[Role, str]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.own or self.elsewhere)


@dataclass(frozen=True)
class RoleChange:
    """A role an import ended, or moved with its member to their new unit."""

    employee_no: str
    name: str
    role: Role
    unit_path: str
    moved_to: str | None = None


@dataclass(frozen=True)
class ImportResult:
    """What an import did, for the summary the admin reads; every role it ended or moved is listed."""

    created: int
    updated: int
    unchanged: int
    units_created: int
    role_changes: tuple[RoleChange, ...] = ()


def parse_status(raw: str) -> MemberStatus | None:
    """A 会员状态 from the roster: 在册/转出/退会 or active/transferred/left; None when blank.

    Raises:
        InvalidInput: a word we do not know.
    """
    value = raw.strip()
    if not value:
        return None
    status = _STATUS_WORDS.get(value) or _STATUS_WORDS.get(value.lower())
    if status is None:
        raise InvalidInput(
            "roster.status_unknown",
            N_("不认识的会员状态“{status}”，请填写在册、转出或退会。"),
            status=value,
        )
    return status


def _role_parts(raw: str) -> Iterator[str]:
    """The entries of a 角色 cell: split at separators, but not inside a unit's brackets."""
    depth, current = 0, list[str]()
    for ch in re.sub(r"\s+(?=[（(])", "", raw):
        if ch in _OPENING:
            depth += 1
        elif ch in _CLOSING:
            depth = max(0, depth - 1)
        if depth == 0 and _ROLE_SEPARATORS.fullmatch(ch):
            yield "".join(current)
            current = []
        else:
            current.append(ch)
    yield "".join(current)


def parse_roles(raw: str) -> StatedRoles:
    """The roles in one cell, however they are separated; empty when blank.

    A role on the member's own unit is its title alone (工会主席); a role on another
    unit names that unit in brackets (管理员（厂工会）), as an export writes it, so the
    spreadsheet shows every role a member holds and an import can state them all.

    Raises:
        InvalidInput: one of them is not a role we know, or its unit is not a unit path.
    """
    own: set[Role] = set()
    elsewhere: set[tuple[Role, str]] = set()
    for part in _role_parts(raw):
        if not part.strip():
            continue
        found = _ROLE_AT_UNIT.fullmatch(part.strip())
        if found is None:
            own.add(parse_role(part))
        else:
            path = PATH_SEPARATOR.join(split_unit_path(found["unit"]))
            elsewhere.add((parse_role(found["role"]), path))
    return StatedRoles(frozenset(own), frozenset(elsewhere))


def _clean_row(row: RosterRow) -> tuple[RosterEntry | None, list[DomainError], str | None]:
    """Check every field of a row, so the admin sees all its problems at once.

    Returns:
        The cleaned row (None when a field is wrong), what is wrong, and the
        cleaned 工号 when that much is right, to spot repeats in any case.
    """
    errors: list[DomainError] = []
    # A control or format character anywhere is refused before the cell is read, in one
    # sentence naming the column and the character (models.names): no reason quoted back
    # with an escape sequence in it, no look-alike unit, no export that dies later.
    hidden: set[str] = set()
    for field, column in CELL_COLUMNS.items():
        raw = getattr(row, field)
        character = hidden_character(trim(raw)) if raw is not None else None
        if character is not None:
            hidden.add(field)
            errors.append(
                InvalidInput("roster.hidden_character", CELL_HIDDEN, column=column, character=character)
            )

    def check(clean: Callable[[str], _T], field: str) -> _T | None:
        raw = getattr(row, field)
        if raw is None or field in hidden:
            return None
        try:
            return clean(raw)
        except InvalidInput as error:
            errors.append(error)
            return None

    employee_no = check(clean_employee_no, "employee_no")
    name = check(clean_name, "name")
    names = check(split_unit_path, "unit")
    phone = check(clean_phone, "phone")
    roles = check(parse_roles, "roles")
    dues = check(parse_yuan, "monthly_dues")
    status = check(parse_status, "status")
    if roles and status in (MemberStatus.TRANSFERRED, MemberStatus.LEFT):
        errors.append(
            InvalidInput(
                "roster.roles_inactive",
                N_("已转出或退会的会员不能担任角色，请清空“角色”一栏。"),
            )
        )
    if errors or employee_no is None or name is None or names is None:
        return None, errors, employee_no
    entry = RosterEntry(
        line=row.line,
        employee_no=employee_no,
        name=name,
        unit_path=PATH_SEPARATOR.join(names),
        phone=phone,
        phone_given=row.phone is not None,
        roles=roles,
        monthly_dues_fen=dues,
        status=status,
    )
    return entry, [], employee_no


def validate_rows(rows: Iterable[RosterRow]) -> tuple[list[RosterEntry], list[RowError]]:
    """Check a whole file before anything is imported.

    A 工号 that appears twice is an error on the later line, which names the
    first: the admin decides which one is right, the bot does not guess.

    Returns:
        The rows that passed, cleaned; and every problem found, by line, in
        file order (a row can have several).
    """
    valid: list[RosterEntry] = []
    problems: list[RowError] = []
    first_line: dict[str, int] = {}
    for row in rows:
        entry, errors, employee_no = _clean_row(row)
        if employee_no is not None and employee_no in first_line:
            errors.append(
                InvalidInput(
                    "roster.duplicate_employee_no",
                    N_("工号 {employee_no} 与第 {first_line} 行重复。"),
                    employee_no=employee_no,
                    first_line=first_line[employee_no],
                )
            )
        elif employee_no is not None:
            first_line[employee_no] = row.line
        if errors:
            problems.extend((row.line, error) for error in errors)
        elif entry is not None:
            valid.append(entry)
    return valid, problems


def _chunks(items: Sequence[Any], size: int = CHUNK_SIZE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Known:
    """What the database holds for one member, as far as a roster can change it."""

    id: int
    name: str
    unit_id: int
    phone: str | None
    status: MemberStatus
    monthly_dues_fen: int


def _member_columns() -> sa.Select[int | None, str, str, int, str | None, MemberStatus, int]:
    return sa.select(
        col(Member.id),
        col(Member.employee_no),
        col(Member.name),
        col(Member.unit_id),
        col(Member.phone),
        col(Member.status),
        col(Member.monthly_dues_fen),
    )


def _load_members(session: Session, employee_nos: Sequence[str]) -> dict[str, _Known]:
    known: dict[str, _Known] = {}
    for chunk in _chunks(employee_nos):
        query = _member_columns().where(col(Member.employee_no).in_(chunk))
        for id_, employee_no, name, unit_id, phone, status, dues in session.execute(query):
            assert id_ is not None
            known[employee_no] = _Known(id_, name, unit_id, phone, status, dues)
    return known


def _grant_columns() -> sa.Select[int | None, int, Role, int]:
    return sa.select(col(RoleGrant.id), col(RoleGrant.member_id), col(RoleGrant.role), col(RoleGrant.unit_id))


Held = dict[tuple[Role, int], int]
"""A member's grants: grant id by (role, unit id)."""


def _load_grants(session: Session, member_ids: Sequence[int]) -> dict[int, Held]:
    """Every grant of the members whose roles the file states or who move, by member."""
    grants: dict[int, Held] = {}
    for chunk in _chunks(member_ids):
        query = _grant_columns().where(col(RoleGrant.member_id).in_(chunk))
        for grant_id, member_id, role, unit_id in session.execute(query):
            assert grant_id is not None
            grants.setdefault(member_id, {})[(role, unit_id)] = grant_id
    return grants


def _count_units(session: Session) -> int:
    return session.exec(select(sa.func.count()).select_from(Unit)).one()


def _changes(entry: RosterEntry, unit_id: int, known: _Known) -> dict[str, Any]:
    """The columns this row changes on an existing member (empty when none)."""
    wanted: dict[str, Any] = {"name": entry.name, "unit_id": unit_id}
    if entry.phone_given:
        wanted["phone"] = entry.phone
    if entry.status is not None:
        wanted["status"] = entry.status
    if entry.monthly_dues_fen is not None:
        wanted["monthly_dues_fen"] = entry.monthly_dues_fen
    return {field: value for field, value in wanted.items() if getattr(known, field) != value}


def _new_member(entry: RosterEntry, unit_id: int, now: datetime) -> dict[str, Any]:
    return {
        "employee_no": entry.employee_no,
        "name": entry.name,
        "unit_id": unit_id,
        "phone": entry.phone,
        "status": entry.status or MemberStatus.ACTIVE,
        "monthly_dues_fen": entry.monthly_dues_fen or 0,
        "locale": None,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class _RolePlan:
    """What the roles of one import come to, decided before anything is written."""

    unit_ids: dict[str, int]  # every path the file names, as a member's unit or a role's
    keep_other_grants: bool


def _wanted_grants(
    entry: RosterEntry, member: _Known, held: Held, old_unit: int | None, plan: _RolePlan
) -> set[tuple[Role, int]] | None:
    """The grants a member should hold after this row; None when the row leaves them alone.

    With a 角色 column the row states the member's roles: its titles on the member's
    (new) unit, and the roles it names on other units. Other grants end, unless
    ``keep_other_grants`` keeps those on units that are neither the member's old unit
    nor the new one (given with ``members grant``). Without the column, roles are left
    alone, except that those on the unit a member leaves end: they were that unit's.
    Nobody who is not 在册 gains a role.
    """
    unit_id = plan.unit_ids[entry.unit_path]
    if entry.roles is None:
        if old_unit is None:
            return None
        return {key for key in held if key[1] != old_unit}
    wanted = {(role, unit_id) for role in entry.roles.own}
    wanted |= {(role, plan.unit_ids[path]) for role, path in entry.roles.elsewhere}
    if member.status is not MemberStatus.ACTIVE:
        wanted &= held.keys()
    if plan.keep_other_grants:
        wanted |= {key for key in held if key[1] not in (unit_id, old_unit)}
    return wanted


def _apply_roles(
    session: Session,
    entries: Iterable[RosterEntry],
    known: dict[str, _Known],
    moved_from: dict[str, int],
    grants: dict[int, Held],
    plan: _RolePlan,
    now: datetime,
) -> tuple[set[str], list[RoleChange]]:
    """Make each member's roles those their row states (see :func:`_wanted_grants`).

    Returns:
        The 工号 of the members whose roles changed, and every role that ended or moved.
    """
    revoked: list[int] = []
    granted: list[dict[str, Any]] = []
    changed: set[str] = set()
    ended: list[tuple[RosterEntry, Role, int, int | None]] = []
    for entry in entries:
        member = known[entry.employee_no]
        held = grants.get(member.id, {})
        old_unit = moved_from.get(entry.employee_no)
        wanted = _wanted_grants(entry, member, held, old_unit, plan)
        if wanted is None:
            continue
        unit_id = plan.unit_ids[entry.unit_path]
        revoke = [key for key in held if key not in wanted]
        grant = [key for key in wanted if key not in held]
        revoked.extend(held[key] for key in revoke)
        granted.extend(
            {"member_id": member.id, "role": role, "unit_id": where, "granted_at": now}
            for role, where in grant
        )
        for role, where in sorted(revoke, key=lambda key: (_ROLE_ORDER[key[0]], key[1])):
            moved = where == old_unit and (role, unit_id) in wanted
            ended.append((entry, role, where, unit_id if moved else None))
        if revoke or grant:
            changed.add(entry.employee_no)
    if revoked:
        session.execute(sa.delete(RoleGrant).where(col(RoleGrant.id).in_(revoked)))
    if granted:
        session.execute(sa.insert(RoleGrant), granted)
    return changed, [_role_change(session, *item) for item in ended]


def _role_change(
    session: Session, entry: RosterEntry, role: Role, where: int, moved_to: int | None
) -> RoleChange:
    def path(unit_id: int) -> str:
        unit = session.get(Unit, unit_id)
        assert unit is not None
        return unit_path(session, unit)

    return RoleChange(
        employee_no=entry.employee_no,
        name=entry.name,
        role=role,
        unit_path=path(where),
        moved_to=path(moved_to) if moved_to is not None else None,
    )


def _forget_stale_objects(session: Session) -> None:
    """Bulk statements bypass the identity map: make loaded members and grants reload."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Member | RoleGrant):
            session.expire(obj)


class ImportRunStatus(StrEnum):
    RUNNING = "running"  # batches are being written; still so after a crash
    DONE = "done"
    ABANDONED = "abandoned"  # another file was imported before this one was finished
    RESUMED = "resumed"  # the same rows were imported again, which finished the job


class RosterImportRun(SQLModel, table=True):
    """An import that commits batch by batch (see :func:`import_roster`), so a crash mid-way shows.

    ``digest`` identifies the checked rows, so importing the same file again is known
    to finish what was cut short, and ``done`` says how far it had come.
    """

    __tablename__ = "roster_import_run"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64)
    label: str = Field(max_length=255)
    rows: int
    done: int = 0
    status: ImportRunStatus = Field(default=ImportRunStatus.RUNNING, sa_type=string_enum(ImportRunStatus, 16))
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def rows_digest(rows: Sequence[RosterEntry]) -> str:
    """What identifies a checked roster, whichever file (or copy of it) it came from."""
    digest = hashlib.sha256()
    for entry in rows:
        digest.update(repr(dataclasses.replace(entry, line=0)).encode())
    return digest.hexdigest()


def unfinished_import(session: Session) -> RosterImportRun | None:
    """The batched import that was cut short (a crash, a kill), if one was."""
    query = select(RosterImportRun).where(RosterImportRun.status == ImportRunStatus.RUNNING)
    return session.exec(query.order_by(col(RosterImportRun.id).desc())).first()


@dataclass(frozen=True)
class Batches:
    """Commit after every chunk, recording progress in a :class:`RosterImportRun`.

    ``after_commit`` is called once each batch is committed (a test's hook; the write
    lock is free then).
    """

    label: str
    after_commit: Callable[[int], None] | None = None


def _close_earlier_runs(session: Session, rows: Sequence[RosterEntry], now: datetime) -> str | None:
    """Runs cut short are settled by this import: finished (the same rows) or abandoned.

    Returns the rows' digest when it had to be computed.
    """
    earlier = list(
        session.exec(select(RosterImportRun).where(RosterImportRun.status == ImportRunStatus.RUNNING))
    )
    digest = rows_digest(rows) if earlier else None
    for run in earlier:
        run.status = ImportRunStatus.RESUMED if run.digest == digest else ImportRunStatus.ABANDONED
        run.finished_at = now
        session.add(run)
    return digest


def _start_run(
    session: Session, batches: Batches, rows: Sequence[RosterEntry], digest: str | None, now: datetime
) -> RosterImportRun:
    run = RosterImportRun(
        digest=digest or rows_digest(rows), label=batches.label[:255], rows=len(rows), started_at=now
    )
    session.add(run)
    session.commit()
    return run


def _check_role_units(tree: UnitTree, entries: Sequence[RosterEntry]) -> None:
    """A role named on another unit must name a unit that exists or that the file creates.

    Checked before anything is written: a typo in brackets must not make a unit.

    Raises:
        InvalidInput: the first such row, with its line.
    """
    created = {
        PATH_SEPARATOR.join(names[:depth])
        for entry in entries
        for names in [entry.unit_path.split(PATH_SEPARATOR)]
        for depth in range(1, len(names) + 1)
    }
    for entry in entries:
        for _role, path in sorted(entry.roles.elsewhere if entry.roles else (), key=lambda item: item[1]):
            if path not in created and tree.find(path) is None:
                raise InvalidInput(
                    "roster.role_unit_unknown",
                    N_("第 {line} 行：角色所在的单位“{path}”不存在，请写出完整路径，例如“厂工会/一车间”。"),
                    line=entry.line,
                    path=path,
                )


def import_roster(
    session: Session,
    rows: Sequence[RosterEntry],
    *,
    progress: ProgressCallback | None = None,
    keep_other_grants: bool = False,
    batches: Batches | None = None,
) -> ImportResult:
    """Bring the members and units of the database in line with a checked roster.

    Members are matched by 工号: new ones are added, existing ones get the
    file's name and unit, and its phone, dues and status when the file has
    those columns. When the file has a 角色 column, it states each member's
    roles (see :func:`_wanted_grants`): the roles on the member's own unit are
    its titles, roles on other units are named with the unit in brackets, and
    every other grant ends, unless ``keep_other_grants`` keeps grants on other
    units (given with ``members grant``). A member who moves to another unit
    (流动会籍) takes the roles the row lists to the new unit (they *moved*); the
    others held on the old unit end. Every role ended or moved is in the result.
    Importing the same file twice changes nothing the second time.

    Runs in the caller's transaction, unless ``batches`` is given: then each
    chunk of rows is committed on its own, so a long import on SQLite (one writer
    at a time) lets chat write between chunks. "Never a partial import" holds
    because every row was checked before the first chunk (give it the rows
    :func:`validate_rows` passed) and the import is idempotent by 工号: a crash
    leaves a :class:`RosterImportRun` RUNNING, which ``members import`` reports,
    and importing the same file again finishes the job. A member's row changes
    (fields, move, roles) are always in one chunk, so no member is half-changed.
    Should a 工号 still occur twice, the later row wins.

    Raises:
        InvalidInput: a role names a unit that neither exists nor is in the file
            (checked before anything is written).
    """
    entries: list[RosterEntry] = list({entry.employee_no: entry for entry in rows}.values())
    now = utcnow()
    tree = UnitTree(session)
    _check_role_units(tree, entries)
    digest = _close_earlier_runs(session, entries, now)
    run = _start_run(session, batches, entries, digest, now) if batches is not None else None
    units_before = _count_units(session)
    unit_ids: dict[str, int] = {}
    paths = [entry.unit_path for entry in entries]
    paths += [path for entry in entries if entry.roles for _role, path in entry.roles.elsewhere]
    for path in paths:
        if path not in unit_ids:
            unit = tree.ensure(path)
            assert unit.id is not None
            unit_ids[path] = unit.id
    units_created = _count_units(session) - units_before
    plan = _RolePlan(unit_ids=unit_ids, keep_other_grants=keep_other_grants)

    created = updated = done = 0
    role_changes: list[RoleChange] = []
    if run is not None:
        session.commit()  # the units: SQLite's write lock is held from a transaction's first read
    for chunk in _chunks(entries):
        # Read chunk by chunk, in the chunk's own transaction: on SQLite even a read holds the
        # write lock, so loading 600,000 members up front would stop the chat for as long.
        known = _load_members(session, [entry.employee_no for entry in chunk])
        touched = [
            known[e.employee_no].id
            for e in chunk
            if e.employee_no in known
            and (e.roles is not None or known[e.employee_no].unit_id != unit_ids[e.unit_path])
        ]
        grants = _load_grants(session, touched)
        new_rows: dict[str, dict[str, Any]] = {}
        updates: list[dict[str, Any]] = []
        fields_changed: set[str] = set()
        moved_from: dict[str, int] = {}
        for entry in chunk:
            unit_id = unit_ids[entry.unit_path]
            current = known.get(entry.employee_no)
            if current is None:
                new_rows[entry.employee_no] = _new_member(entry, unit_id, now)
                continue
            changes = _changes(entry, unit_id, current)
            if changes:
                updates.append({"id": current.id, **changes, "updated_at": now})
                fields_changed.add(entry.employee_no)
                if "unit_id" in changes:
                    moved_from[entry.employee_no] = current.unit_id
                for field, value in changes.items():
                    setattr(current, field, value)
        if new_rows:
            statement = sa.insert(Member).returning(col(Member.id), col(Member.employee_no))
            for member_id, employee_no in session.execute(statement, list(new_rows.values())):
                row = new_rows[employee_no]
                known[employee_no] = _Known(
                    member_id,
                    row["name"],
                    row["unit_id"],
                    row["phone"],
                    row["status"],
                    row["monthly_dues_fen"],
                )
        if updates:
            session.execute(sa.update(Member), updates)
        roles_changed, ended = _apply_roles(session, chunk, known, moved_from, grants, plan, now)
        role_changes.extend(ended)
        created += len(new_rows)
        updated += len(fields_changed | (roles_changed - new_rows.keys()))
        done += len(chunk)
        if run is not None and batches is not None:
            run.done = done
            session.add(run)
            session.commit()
            if batches.after_commit is not None:
                batches.after_commit(done)
        if progress is not None:
            progress(done)
    if run is not None:
        run.status = ImportRunStatus.DONE
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
    _forget_stale_objects(session)
    return ImportResult(
        created=created,
        updated=updated,
        unchanged=len(entries) - created - updated,
        units_created=units_created,
        role_changes=tuple(role_changes),
    )


@dataclass(frozen=True)
class RosterRecord:
    """A member as the roster shows them, for exports and listings.

    ``roles`` are those held on the member's own unit (what the 角色 column
    means); ``other_roles`` are grants on other units, as (role, unit path);
    ``channels`` the channels they are bound on (none: not bound yet, an invite to hand out).
    """

    employee_no: str
    name: str
    unit_path: str
    phone: str | None
    status: MemberStatus
    monthly_dues_fen: int
    roles: tuple[Role, ...]
    other_roles: tuple[tuple[Role, str], ...]
    channels: tuple[str, ...] = ()

    def to_row(self, line: int) -> RosterRow:
        """The row an export writes: the same words an import reads back unchanged.

        Roles on other units follow the member's own, each with its unit in brackets
        (管理员（厂工会）), so the spreadsheet hides no role and an import of it keeps
        them. A member who is not 在册 is written without roles, as an import requires:
        such a member's leftover grants carry no permission anyway.
        """
        active = self.status is MemberStatus.ACTIVE
        cell = [ROLE_LABELS[role] for role in self.roles] if active else []
        cell += [f"{ROLE_LABELS[role]}（{path}）" for role, path in self.other_roles] if active else []
        return RosterRow(
            line=line,
            employee_no=self.employee_no,
            name=self.name,
            unit=self.unit_path,
            phone=self.phone or "",
            roles="、".join(cell),
            monthly_dues=format_yuan(self.monthly_dues_fen),
            status=STATUS_LABELS[self.status],
        )


_ROLE_ORDER = {role: index for index, role in enumerate(Role)}
_CHANNEL_ORDER = {channel.value: index for index, channel in enumerate(Channel)}
_NUMBERS = re.compile(r"(\d+)")


def employee_no_key(employee_no: str) -> tuple[tuple[int, str], ...]:
    """工号 as people count them: 2 before 10, A2 before A10."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in _NUMBERS.split(employee_no))


def bound_channels(session: Session) -> dict[int, tuple[str, ...]]:
    """The channels each member is bound on now (accounts still active), by member id."""
    bound: dict[int, set[str]] = {}
    for member_id, channel in session.execute(
        sa.select(col(ChatAccount.member_id), col(ChatAccount.channel)).where(
            col(ChatAccount.member_id).is_not(None), col(ChatAccount.active).is_(True)
        )
    ):
        bound.setdefault(member_id, set()).add(channel)
    return {
        member_id: tuple(sorted(channels, key=lambda channel: _CHANNEL_ORDER.get(channel, len(Channel))))
        for member_id, channels in bound.items()
    }


def roster_records(session: Session, *, under: Unit | None = None) -> list[RosterRecord]:
    """Every member (at or below ``under``), units in tree order, then by 工号; in a few queries.

    Tree order is the union's (models.units): 甲班, 乙班, 丙班, not the order of the names' code points.
    """
    tree = UnitTree(session)
    units = {unit.id: unit for unit in session.exec(select(Unit))}
    paths: dict[int, str] = {}

    def path_of(unit_id: int) -> str:
        if unit_id not in paths:
            paths[unit_id] = tree.path_of(units[unit_id])
        return paths[unit_id]

    query = _member_columns()
    if under is not None:
        query = query.where(col(Member.unit_id).in_(subtree_ids(session, [under])))
    members = session.execute(query).all()
    grants: dict[int | None, list[tuple[Role, int]]] = {}
    for _grant_id, member_id, role, unit_id in session.execute(_grant_columns()):
        grants.setdefault(member_id, []).append((role, unit_id))
    channels = bound_channels(session)
    keyed = []
    for member_id, employee_no, name, unit_id, phone, status, dues in members:
        held = sorted(
            grants.get(member_id, []),
            key=lambda grant: (tree.order_key(units[grant[1]]), _ROLE_ORDER[grant[0]]),
        )
        record = RosterRecord(
            employee_no=employee_no,
            name=name,
            unit_path=path_of(unit_id),
            phone=phone,
            status=status,
            monthly_dues_fen=dues,
            roles=tuple(role for role, where in held if where == unit_id),
            other_roles=tuple((role, path_of(where)) for role, where in held if where != unit_id),
            channels=channels.get(member_id or 0, ()),
        )
        keyed.append(((tree.order_key(units[unit_id]), employee_no_key(employee_no)), record))
    keyed.sort(key=lambda pair: pair[0])
    return [record for _key, record in keyed]
