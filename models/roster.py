"""Roster (花名册) imports and exports, independent of the file they come from.

The union's roster is kept in a spreadsheet by the 厂工会 office and handed to
the bot again and again, so an import has to be safe to repeat: rows are
matched by 工号, unchanged rows change nothing, and the whole file is checked
before anything is written. A file of 10,000 rows is read in seconds: existing
members are loaded once and written back in bulk, never one query per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.accounts import Channel, ChatAccount
from models.base import utcnow
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
from models.units import PATH_SEPARATOR, Unit, UnitTree, split_unit_path, subtree_ids

# Rows written per round trip: large enough to be fast, small enough that the
# progress bar moves and no database hits its limit on bound parameters.
CHUNK_SIZE = 500

# How people separate several roles in one cell: 主席、职工代表 / chair, representative.
_ROLE_SEPARATORS = re.compile(r"[、,，;；\s]+")

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
    roles: frozenset[Role] | None
    monthly_dues_fen: int | None
    status: MemberStatus | None


@dataclass(frozen=True)
class ImportResult:
    """What an import did, for the summary line the admin reads."""

    created: int
    updated: int
    unchanged: int
    units_created: int


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


def parse_roles(raw: str) -> frozenset[Role]:
    """The roles in one cell, however they are separated; empty when blank.

    Raises:
        InvalidInput: one of them is not a role we know.
    """
    return frozenset(parse_role(part) for part in _ROLE_SEPARATORS.split(raw) if part)


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


def _load_grants(session: Session, member_ids: Sequence[int]) -> dict[tuple[int, int], dict[Role, int]]:
    """Grant ids by (member, unit) and role, for the members whose roles the file sets."""
    grants: dict[tuple[int, int], dict[Role, int]] = {}
    for chunk in _chunks(member_ids):
        query = _grant_columns().where(col(RoleGrant.member_id).in_(chunk))
        for grant_id, member_id, role, unit_id in session.execute(query):
            assert grant_id is not None
            grants.setdefault((member_id, unit_id), {})[role] = grant_id
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


def _apply_roles(
    session: Session,
    entries: Iterable[RosterEntry],
    known: dict[str, _Known],
    unit_ids: dict[str, int],
    grants: dict[tuple[int, int], dict[Role, int]],
    now: datetime,
) -> set[str]:
    """Make each member's roles on their own unit those of the 角色 column.

    Returns:
        The 工号 of the members whose roles changed.
    """
    revoked: list[int] = []
    granted: list[dict[str, Any]] = []
    changed: set[str] = set()
    for entry in entries:
        if entry.roles is None:
            continue
        member = known[entry.employee_no]
        unit_id = unit_ids[entry.unit_path]
        held = grants.get((member.id, unit_id), {})
        wanted = entry.roles if member.status is MemberStatus.ACTIVE else entry.roles & held.keys()
        revoke = [grant_id for role, grant_id in held.items() if role not in wanted]
        grant = [role for role in wanted if role not in held]
        revoked.extend(revoke)
        granted.extend(
            {"member_id": member.id, "role": role, "unit_id": unit_id, "granted_at": now} for role in grant
        )
        if revoke or grant:
            changed.add(entry.employee_no)
    if revoked:
        session.execute(sa.delete(RoleGrant).where(col(RoleGrant.id).in_(revoked)))
    if granted:
        session.execute(sa.insert(RoleGrant), granted)
    return changed


def _forget_stale_objects(session: Session) -> None:
    """Bulk statements bypass the identity map: make loaded members and grants reload."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Member | RoleGrant):
            session.expire(obj)


def import_roster(
    session: Session, rows: Sequence[RosterEntry], *, progress: ProgressCallback | None = None
) -> ImportResult:
    """Bring the members and units of the database in line with a checked roster.

    Members are matched by 工号: new ones are added, existing ones get the
    file's name and unit, and its phone, dues and status when the file has
    those columns; a member who moved to another unit (流动会籍) simply moves.
    When the file has a 角色 column, a member's roles *on their own unit*
    become exactly those listed; roles held on other units (given with
    ``members grant``) are left alone, and nobody who is not 在册 gains one.
    Importing the same file twice changes nothing the second time.

    Runs in the caller's transaction; give it the rows :func:`validate_rows`
    passed. Should a 工号 still occur twice, the later row wins.
    """
    entries: list[RosterEntry] = list({entry.employee_no: entry for entry in rows}.values())
    now = utcnow()
    units_before = _count_units(session)
    tree = UnitTree(session)
    unit_ids: dict[str, int] = {}
    for entry in entries:
        if entry.unit_path not in unit_ids:
            unit = tree.ensure(entry.unit_path)
            assert unit.id is not None
            unit_ids[entry.unit_path] = unit.id
    units_created = _count_units(session) - units_before

    known = _load_members(session, [entry.employee_no for entry in entries])
    with_roles = [known[e.employee_no].id for e in entries if e.roles is not None and e.employee_no in known]
    grants = _load_grants(session, with_roles)
    created = updated = done = 0
    for chunk in _chunks(entries):
        new_rows: dict[str, dict[str, Any]] = {}
        updates: list[dict[str, Any]] = []
        fields_changed: set[str] = set()
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
        roles_changed = _apply_roles(session, chunk, known, unit_ids, grants, now)
        created += len(new_rows)
        updated += len(fields_changed | (roles_changed - new_rows.keys()))
        done += len(chunk)
        if progress is not None:
            progress(done)
    _forget_stale_objects(session)
    return ImportResult(
        created=created,
        updated=updated,
        unchanged=len(entries) - created - updated,
        units_created=units_created,
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

        A member who is not 在册 is written without roles, as an import requires:
        such a member's leftover grants carry no permission anyway.
        """
        roles = self.roles if self.status is MemberStatus.ACTIVE else ()
        return RosterRow(
            line=line,
            employee_no=self.employee_no,
            name=self.name,
            unit=self.unit_path,
            phone=self.phone or "",
            roles="、".join(ROLE_LABELS[role] for role in roles),
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
