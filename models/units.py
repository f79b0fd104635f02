"""The organisation tree: 厂工会 → 车间/大队 → 班组, of any depth.

Each unit stores the chain of ids from the root (``/1/4/9/``), so "everything in
this cadre's subtree" is one indexed prefix match on any database, however deep
the tree grows.

Units are listed as the union thinks of them, not in the order of their names'
code points (丙班 before 乙班 before 甲班): siblings in the order they were
created, except that siblings named by one pattern with an ordinal in it (甲班,
乙班, 丙班; 一车间 … 十二车间; 1号线, 2号线) follow their ordinals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import UTCDateTime, utcnow
from models.errors import N_, InvalidInput, NotFound
from models.facts import Fact
from models.names import UNIT_HIDDEN, clean_label, trim, visible

UNIT_NAME_MAX = 64
PATH_SEPARATOR = "/"
# Shown when a name is ambiguous: enough to pick from, short enough for one screen.
MATCHES_LISTED = 10

# The ten heavenly stems name teams (甲班, 乙班) in that order.
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_NUMERALS |= {"八": 8, "九": 9}
_MULTIPLIERS = {"十": 10, "百": 100, "千": 1000}
# The first ordinal in a name: Arabic digits (half or full width), a Chinese numeral, or a stem
# at the start, after 第 or before 班/组/队 (甲班, 第乙组, 机修丙班; not the 丁 of 丁香车间).
_ORDINAL = re.compile(
    r"(?P<digits>[0-9０-９]+)"
    r"|(?P<numeral>[零〇一二两三四五六七八九十百千]+)"
    rf"|(?P<stem>(?:^|(?<=第))[{_STEMS}]|[{_STEMS}](?=[班组队]))"
)


def _chinese_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105; digits alone read as digits (三八 → 38)."""
    if not any(char in _MULTIPLIERS for char in text):
        return int("".join(str(_NUMERALS[char]) for char in text))
    total, digit = 0, None
    for char in text:
        if char in _MULTIPLIERS:
            total += (1 if digit is None else digit) * _MULTIPLIERS[char]
            digit = None
        else:
            digit = _NUMERALS[char]
    return total + (digit or 0)


def ordinal_of(name: str) -> tuple[str, int] | None:
    """A name's pattern and the ordinal in it ("二车间" → ("#车间", 2)), or None when it has none.

    Names of one pattern are numbered alike whether their ordinal is written 二, 2 or ２;
    stems have a pattern of their own (甲班 and 一班 are not one series).
    """
    match = _ORDINAL.search(name)
    if match is None:
        return None
    if match["stem"]:
        mark, value = "#stem", _STEMS.index(match["stem"]) + 1
    elif match["digits"]:
        mark, value = "#", int(match["digits"])  # int() reads full-width digits too
    else:
        mark, value = "#", _chinese_number(match["numeral"])
    return name[: match.start()] + mark + name[match.end() :], value


SiblingKey = tuple[int, int, int]


def sibling_keys(siblings: Sequence[Unit]) -> dict[int, SiblingKey]:
    """How siblings sort: by creation, a series of ordinal names together and by its ordinals.

    A series takes the place of its first-created member, so a workshop added later
    as 一车间 still comes before 二车间, and 机修车间 keeps its place among them.
    """
    first_of: dict[str, int] = {}
    keys: dict[int, SiblingKey] = {}
    for unit in sorted(siblings, key=lambda unit: unit.id or 0):
        assert unit.id is not None
        found = ordinal_of(unit.name)
        if found is None:
            keys[unit.id] = (unit.id, 0, unit.id)
            continue
        pattern, value = found
        keys[unit.id] = (first_of.setdefault(pattern, unit.id), value, unit.id)
    return keys


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

    Every path typed or imported comes through here, so every name is trimmed and
    checked by one rule (models.names): ``一车间\u200b`` is refused, not a new unit.

    Raises:
        InvalidInput: the path is empty, a name is too long or holds a control or format character.
    """
    normalised = path.replace("／", PATH_SEPARATOR).replace("\\", PATH_SEPARATOR)
    names = [
        clean_label(part, refused=UNIT_HIDDEN, code="unit.name_hidden", name=visible(trim(part)))
        for part in normalised.split(PATH_SEPARATOR)
    ]
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
        self._by_name: dict[str, list[Unit]] = {}
        self._sibling_keys: dict[int, SiblingKey] | None = None
        for unit in session.exec(select(Unit)):
            self._remember(unit)

    def _remember(self, unit: Unit) -> None:
        assert unit.id is not None
        self._by_id[unit.id] = unit
        self._by_key[(unit.parent_id, unit.name)] = unit
        self._by_name.setdefault(unit.name, []).append(unit)
        self._sibling_keys = None

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

    def lookup(self, path: str) -> list[Unit]:
        """The units ``path`` may mean, in tree order: its full path, or else the units it ends.

        "二车间" or "二车间/甲班" is how an admin names a unit; it is one unit when the
        name is unique, several when it is not (every workshop has its 甲班).
        """
        exact = self.find(path)
        if exact is not None:
            return [exact]
        names = split_unit_path(path)
        found = []
        for unit in self._by_name.get(names[-1], []):
            ancestor: Unit | None = unit
            for name in reversed(names[:-1]):
                parent_id = ancestor.parent_id if ancestor is not None else None
                ancestor = self._by_id.get(parent_id) if parent_id is not None else None
                if ancestor is None or ancestor.name != name:
                    break
            else:
                found.append(unit)
        return self.ordered(found)

    def path_of(self, unit: Unit) -> str:
        """The readable path, "厂工会/二车间/甲班"."""
        return PATH_SEPARATOR.join(self._by_id[i].name for i in _path_ids(unit))

    def order_key(self, unit: Unit) -> tuple[SiblingKey, ...]:
        """Where a unit comes in the tree: after its parent, among its siblings by :func:`sibling_keys`."""
        if self._sibling_keys is None:
            families: dict[int | None, list[Unit]] = {}
            for known in self._by_id.values():
                families.setdefault(known.parent_id, []).append(known)
            self._sibling_keys = {}
            for siblings in families.values():
                self._sibling_keys |= sibling_keys(siblings)
        return tuple(self._sibling_keys[i] for i in _path_ids(unit))

    def ordered(self, units: Iterable[Unit]) -> list[Unit]:
        """``units`` in tree order."""
        return sorted(units, key=self.order_key)


def _path_ids(unit: Unit) -> list[int]:
    return [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


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
    """The unit a full path names, or a unique unit name or end of a path ("二车间", "二车间/甲班").

    Raises:
        NotFound: no unit has that path, nor a path ending so.
        InvalidInput: ``unit.ambiguous``, several units do; the error lists them to choose from.
    """
    tree = UnitTree(session)
    units = tree.lookup(path)
    if not units:
        raise NotFound("unit.not_found", N_("找不到单位“{path}”。"), path=path)
    if len(units) > 1:
        listed = [tree.path_of(unit) for unit in units[:MATCHES_LISTED]]
        if len(units) > MATCHES_LISTED:
            listed.append("……")
        raise InvalidInput(
            "unit.ambiguous",
            N_("“{path}”对应 {count} 个单位：{matches}。请写出完整路径，例如“{example}”。"),
            count=len(units),
            path=path.strip(),
            matches="、".join(listed),
            example=listed[0],
        )
    return units[0]


def ordered_units(session: Session, units: Iterable[Unit]) -> list[Unit]:
    """``units`` in tree order (see the module docstring), for lists a person reads."""
    return UnitTree(session).ordered(units)


# The names along units' paths: a delivery batch names the same sender's unit in every push,
# a cadre's /me and queue the same few units in every line.
_NAMES = Fact[int, str]("unit names", {Unit: ("name",)})


def unit_path(session: Session, unit: Unit) -> str:
    """The readable path of one unit, in one query at most; names once read are kept for the transaction."""
    ids = _path_ids(unit)

    def read(missing: list[int]) -> dict[int, str]:
        rows = session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(missing))).all()
        return {unit_id: name for unit_id, name in rows if unit_id is not None}

    names = _NAMES.recall_many(session, ids, read)
    return PATH_SEPARATOR.join(names[i] for i in ids)


def subtree_ids(session: Session, roots: Iterable[Unit]) -> set[int]:
    """The ids of every unit at or below any of ``roots``."""
    prefixes = [root.id_path for root in roots]
    if not prefixes:
        return set()
    condition = sa.or_(*(col(Unit.id_path).startswith(prefix) for prefix in prefixes))
    return {unit_id for unit_id in session.exec(select(Unit.id).where(condition)) if unit_id is not None}
