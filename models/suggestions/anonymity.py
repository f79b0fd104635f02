"""Where an anonymous suggestion comes from, said no closer than a crowd of colleagues.

A suggestion counts for the unit its proposer belonged to (:attr:`Suggestion.unit_id`).
For a named one every screen says which. For an anonymous one that would nearly name
the proposer: "厂工会/一车间/乙班" is a 班组 of five, and the cadre knows all five. So
every view, export and figure of an anonymous suggestion shows instead the smallest unit
at or above the proposer's whose subtree has at least
:attr:`SuggestionPolicy.anonymity_min_members` active members, and the union itself
when none has. The suggestion itself keeps its unit: it still counts there for the
"三及时" reminders and the cadres' scope, which name no unit to anyone.

Members are counted as they are now, active ones only: a unit that lost members since
shows a larger unit, never a smaller one than it has people for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.members import Member, MemberStatus
from models.suggestions.tables import Suggestion, SuggestionPolicy
from models.units import PATH_SEPARATOR, Unit


def _path_ids(unit: Unit) -> list[int]:
    return [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


def anonymous_units(session: Session, unit_ids: Iterable[int], *, min_members: int) -> dict[int, Unit]:
    """For each unit, the unit an anonymous suggestion of it is shown under (see the module).

    Three queries however many units: the units, the units above them, and the active
    members per unit of their unions, summed here over each subtree.
    """
    wanted = sorted(set(unit_ids))
    if not wanted:
        return {}
    units = session.exec(select(Unit).where(col(Unit.id).in_(wanted))).all()
    chains = {unit.id: _path_ids(unit) for unit in units if unit.id is not None}
    above = sorted({unit_id for chain in chains.values() for unit_id in chain})
    by_id = {unit.id: unit for unit in session.exec(select(Unit).where(col(Unit.id).in_(above))).all()}
    roots = {chain[0] for chain in chains.values()}
    per_unit: Mapping[str, int] = dict(
        session.exec(
            select(Unit.id_path, func.count())
            .join(Member, col(Member.unit_id) == Unit.id)
            .where(
                col(Member.status) == MemberStatus.ACTIVE,
                sa.or_(*(col(Unit.id_path).startswith(by_id[root].id_path) for root in roots)),
            )
            .group_by(col(Unit.id_path))
        ).all()
    )

    def members(unit: Unit) -> int:
        return sum(count for path, count in per_unit.items() if path.startswith(unit.id_path))

    shown: dict[int, Unit] = {}
    for unit_id, chain in chains.items():
        deepest_first = [by_id[i] for i in reversed(chain)]
        shown[unit_id] = next(
            (unit for unit in deepest_first if members(unit) >= min_members), deepest_first[-1]
        )
    return shown


def shown_units(
    session: Session, suggestions: Iterable[Suggestion], policy: SuggestionPolicy
) -> dict[int, Unit]:
    """The unit each suggestion is shown under, by its id: its own when named, see the module when not."""
    rows = [suggestion for suggestion in suggestions if suggestion.id is not None]
    hidden = anonymous_units(
        session,
        (suggestion.unit_id for suggestion in rows if suggestion.anonymous),
        min_members=policy.anonymity_min_members,
    )
    named = sorted({suggestion.unit_id for suggestion in rows if not suggestion.anonymous})
    own = {unit.id: unit for unit in session.exec(select(Unit).where(col(Unit.id).in_(named))).all()}
    shown: dict[int, Unit] = {}
    for suggestion in rows:
        assert suggestion.id is not None
        shown[suggestion.id] = (hidden if suggestion.anonymous else own)[suggestion.unit_id]
    return shown


def shown_unit(session: Session, suggestion: Suggestion, policy: SuggestionPolicy) -> Unit:
    """The unit one suggestion is shown under: its own when named, a crowd's when anonymous."""
    assert suggestion.id is not None
    return shown_units(session, [suggestion], policy)[suggestion.id]
