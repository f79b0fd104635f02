"""The organisation tree: 厂工会 → 车间/大队 → 班组, of any depth.

Each unit stores the chain of ids from the root (``/1/4/9/``), so "everything in
this cadre's subtree" is one indexed prefix match on any database, however deep
the tree grows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import UTCDateTime, utcnow
from models.errors import N_, InvalidInput, NotFound

UNIT_NAME_MAX = 64
PATH_SEPARATOR = "/"


class Unit(SQLModel, table=True):
    """A union unit. The root has no parent; names are unique among siblings."""

    __tablename__ = "unit"
    __table_args__ = (sa.UniqueConstraint("parent_id", "name", name="uq_unit_parent_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=UNIT_NAME_MAX)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    id_path: str = Field(default="", max_length=512, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def contains(self, other: Unit) -> bool:
        """True when ``other`` is this unit or lies below it."""
        return other.id_path.startswith(self.id_path)


def split_unit_path(path: str) -> list[str]:
    """Split "厂工会/二车间/甲班" into names, forgiving spaces and full-width slashes.

    Raises:
        InvalidInput: the path is empty or a name is too long.
    """
    normalised = path.replace("／", PATH_SEPARATOR).replace("\\", PATH_SEPARATOR)
    names = [part.strip() for part in normalised.split(PATH_SEPARATOR)]
    names = [name for name in names if name]
    if not names:
        raise InvalidInput("unit.path_empty", N_("单位不能为空，请按“厂工会/二车间/甲班”的格式填写。"))
    for name in names:
        if len(name) > UNIT_NAME_MAX:
            raise InvalidInput(
                "unit.name_too_long",
                N_("单位名称“{name}”太长，最多 {limit} 个字。"),
                name=name,
                limit=UNIT_NAME_MAX,
            )
    return names


class UnitTree:
    """All units in memory, for imports and path look-ups that touch many units.

    A roster of 10,000 rows names a few hundred units at most; loading them
    once and creating the missing ones as we go avoids a query per row.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_id: dict[int, Unit] = {}
        self._by_key: dict[tuple[int | None, str], Unit] = {}
        for unit in session.exec(select(Unit)):
            self._remember(unit)

    def _remember(self, unit: Unit) -> None:
        assert unit.id is not None
        self._by_id[unit.id] = unit
        self._by_key[(unit.parent_id, unit.name)] = unit

    def find(self, path: str) -> Unit | None:
        """The unit at ``path``, or None when any part of it is missing."""
        parent_id: int | None = None
        unit: Unit | None = None
        for name in split_unit_path(path):
            unit = self._by_key.get((parent_id, name))
            if unit is None:
                return None
            parent_id = unit.id
        return unit

    def ensure(self, path: str) -> Unit:
        """The unit at ``path``, creating every missing unit along it."""
        parent: Unit | None = None
        for name in split_unit_path(path):
            parent_id = parent.id if parent else None
            unit = self._by_key.get((parent_id, name))
            if unit is None:
                unit = Unit(name=name, parent_id=parent_id)
                self._session.add(unit)
                self._session.flush()
                assert unit.id is not None
                unit.id_path = f"{parent.id_path if parent else PATH_SEPARATOR}{unit.id}{PATH_SEPARATOR}"
                self._remember(unit)
            parent = unit
        assert parent is not None
        return parent

    def path_of(self, unit: Unit) -> str:
        """The readable path, "厂工会/二车间/甲班"."""
        ids = [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
        return PATH_SEPARATOR.join(self._by_id[i].name for i in ids)


def get_unit(session: Session, unit_id: int) -> Unit:
    """The unit with this id.

    Raises:
        NotFound: no such unit.
    """
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("unit.not_found", N_("找不到这个单位。"))
    return unit


def find_unit(session: Session, path: str) -> Unit:
    """The unit at a readable path.

    Raises:
        NotFound: some part of the path does not exist.
    """
    unit = UnitTree(session).find(path)
    if unit is None:
        raise NotFound("unit.not_found", N_("找不到单位“{path}”。"), path=path)
    return unit


def unit_path(session: Session, unit: Unit) -> str:
    """The readable path of one unit, in one query."""
    ids = [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    names = dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(ids))).all())
    return PATH_SEPARATOR.join(names[i] for i in ids)


def subtree_ids(session: Session, roots: Iterable[Unit]) -> set[int]:
    """The ids of every unit at or below any of ``roots``."""
    prefixes = [root.id_path for root in roots]
    if not prefixes:
        return set()
    condition = sa.or_(*(col(Unit.id_path).startswith(prefix) for prefix in prefixes))
    return {unit_id for unit_id in session.exec(select(Unit.id).where(condition)) if unit_id is not None}
