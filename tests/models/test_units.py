"""The unit tree: paths, subtrees, forgiving input."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from models.errors import InvalidInput, NotFound
from models.units import UnitTree, find_unit, split_unit_path, subtree_ids, unit_path


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
