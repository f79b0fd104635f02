"""The unit tree: paths, subtrees, forgiving input."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from models.errors import InvalidInput, NotFound
from models.units import (
    Unit,
    UnitTree,
    find_unit,
    ordered_units,
    ordinal_of,
    split_unit_path,
    subtree_ids,
    unit_path,
)


def test_ensure_creates_each_missing_unit_once(session: Session) -> None:
    tree = UnitTree(session)
    team = tree.ensure("厂工会/二车间/甲班")
    again = tree.ensure(" 厂工会 ／ 二车间 / 甲班 ")
    assert team.id == again.id
    assert tree.path_of(team) == "厂工会/二车间/甲班"
    assert unit_path(session, team) == "厂工会/二车间/甲班"


def test_subtree_covers_any_depth_and_nothing_beside_it(session: Session) -> None:
    tree = UnitTree(session)
    deep = tree.ensure("厂工会/二车间/甲班/一组/夜班")
    sibling = tree.ensure("厂工会/三车间")
    workshop = tree.find("厂工会/二车间")
    assert workshop is not None
    ids = subtree_ids(session, [workshop])
    assert deep.id in ids
    assert workshop.id in ids
    assert sibling.id not in ids
    assert workshop.contains(deep)
    assert not workshop.contains(sibling)


def test_unit_ids_that_share_a_prefix_stay_apart(session: Session) -> None:
    """Unit 1 must not contain unit 10 merely because "/1" starts "/10"."""
    tree = UnitTree(session)
    units = [tree.ensure(f"总工会{i}") for i in range(12)]
    first = units[0]
    assert subtree_ids(session, [first]) == {first.id}


def test_find_unknown_path_names_it(session: Session) -> None:
    with pytest.raises(NotFound) as caught:
        find_unit(session, "厂工会/不存在")
    assert caught.value.params["path"] == "厂工会/不存在"


@pytest.mark.parametrize("path", ["", " / / ", "厂工会/" + "长" * 65])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidInput):
        split_unit_path(path)


@pytest.mark.parametrize(
    ("name", "pattern", "ordinal"),
    [
        ("甲班", "#stem班", 1),
        ("癸班", "#stem班", 10),
        ("一车间", "#车间", 1),
        ("十车间", "#车间", 10),
        ("十二车间", "#车间", 12),
        ("二十车间", "#车间", 20),
        ("第三车间", "第#车间", 3),
        ("一百零五号", "#号", 105),
        ("机修二班", "机修#班", 2),
        ("机修丙班", "机修#stem班", 3),
        ("2号线", "#号线", 2),
        ("１０号线", "#号线", 10),
    ],
)
def test_ordinals_are_read_as_the_union_writes_them(name: str, pattern: str, ordinal: int) -> None:
    assert ordinal_of(name) == (pattern, ordinal)


@pytest.mark.parametrize("name", ["机修车间", "厂工会", "退休职工"])
def test_a_name_without_an_ordinal_has_none(name: str) -> None:
    assert ordinal_of(name) is None


def test_siblings_come_in_creation_order_and_a_series_by_its_ordinals(session: Session) -> None:
    tree = UnitTree(session)
    for path in (
        "厂工会/一车间/丙班",
        "厂工会/一车间/乙班",
        "厂工会/动力车间",
        "厂工会/一车间/甲班",
        "厂工会/十车间",
        "厂工会/二车间",
        "厂工会/一车间/十组",
        "厂工会/一车间/二组",
    ):
        tree.ensure(path)
    units = list(session.exec(select(Unit)))
    # 丙班, 乙班, 甲班 as a series in its first one's place; 十组, 二组 the same after them.
    assert [tree.path_of(unit) for unit in ordered_units(session, units)] == [
        "厂工会",
        "厂工会/一车间",
        "厂工会/一车间/甲班",
        "厂工会/一车间/乙班",
        "厂工会/一车间/丙班",
        "厂工会/一车间/二组",
        "厂工会/一车间/十组",
        "厂工会/二车间",
        "厂工会/十车间",
        "厂工会/动力车间",
    ]


def test_a_unit_is_found_by_its_path_or_a_unique_name(session: Session) -> None:
    tree = UnitTree(session)
    first = tree.ensure("厂工会/一车间/甲班")
    second = tree.ensure("厂工会/二车间/甲班")
    workshop = tree.find("厂工会/二车间")
    assert find_unit(session, "厂工会/二车间") == workshop
    assert find_unit(session, " 二车间 ") == workshop
    assert find_unit(session, "二车间／甲班") == second
    assert find_unit(session, "厂工会") == tree.find("厂工会")
    with pytest.raises(InvalidInput) as ambiguous:
        find_unit(session, "甲班")
    assert ambiguous.value.code == "unit.ambiguous"
    assert ambiguous.value.params == {
        "count": 2,
        "path": "甲班",
        "matches": "厂工会/一车间/甲班、厂工会/二车间/甲班",
        "example": "厂工会/一车间/甲班",
    }
    assert tree.lookup("甲班") == [first, second]
    with pytest.raises(NotFound):
        find_unit(session, "三车间/甲班")
