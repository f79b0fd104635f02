"""The optimistic lock on a table's ``version`` column, on the suggestion table (the first to use it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from models.errors import DomainError, PermissionDenied
from models.suggestions import Suggestion, SuggestionDraft, SuggestionPolicy, submit_suggestion
from models.versioned import VersionLock
from tests.factories import make_member

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class Moved(DomainError):
    """The refusal this test's lock raises: it carries the version the row was found at."""


LOCK = VersionLock(Suggestion, lambda row: Moved("test.moved", "已变为第 {version} 版", version=row.version))


def stored(session: Session) -> Suggestion:
    member = make_member(session)
    draft = SuggestionDraft(category="其他", title="食堂加装洗手池", measure="饭前洗手排长队。")
    return submit_suggestion(session, actor=member, draft=draft, policy=SuggestionPolicy(), now=NOW)


def version_in_database(session: Session, row_id: int | None) -> int:
    return session.execute(
        sa.select(col(Suggestion.version)).where(col(Suggestion.id) == row_id)
    ).scalar_one()


def moved_by_someone_else(session: Session, row: Suggestion, to: int) -> None:
    """Another actor's step between ours, written beside the row this session holds, which stays as read.

    Not flushing first: what this actor changed in memory must not reach the database with it.
    """
    with session.no_autoflush:
        session.execute(
            sa.update(Suggestion)
            .where(col(Suggestion.id) == row.id)
            .values(version=to)
            .execution_options(synchronize_session=False)
        )


def test_a_claim_on_the_version_seen_returns_the_row_and_writes_nothing(session: Session) -> None:
    row = stored(session)
    assert LOCK.claim(session, row, row.version) is row
    session.flush()
    assert version_in_database(session, row.id) == 1


def test_a_claim_on_an_older_version_is_refused_with_the_row_as_it_now_stands(session: Session) -> None:
    row = stored(session)
    moved_by_someone_else(session, row, to=2)
    assert row.version == 1  # what this actor saw
    with pytest.raises(Moved) as refused:
        LOCK.claim(session, row, 1)
    assert refused.value.params == {"version": 2}


def test_the_check_runs_before_the_version_so_an_outsider_learns_nothing_of_changes(session: Session) -> None:
    row = stored(session)
    moved_by_someone_else(session, row, to=2)

    def outsider(current: Suggestion) -> None:
        raise PermissionDenied("test.out_of_scope", "不在您的范围内")

    with pytest.raises(PermissionDenied):
        LOCK.claim(session, row, 1, check=outsider)
    checked: list[int] = []
    with pytest.raises(Moved):
        LOCK.claim(session, row, 1, check=lambda current: checked.append(current.version))
    assert checked == [2]


def test_a_bump_moves_the_version_on_by_one_in_the_row_and_the_database(session: Session) -> None:
    row = stored(session)
    LOCK.bump(session, row, 1)
    assert row.version == 2
    assert version_in_database(session, row.id) == 2


def test_a_bump_after_someone_else_moved_the_row_is_refused_and_shows_their_version(session: Session) -> None:
    row = stored(session)
    claimed = LOCK.claim(session, row, 1)
    row.title = "这一步的改动"  # changed in memory, as a step does before it bumps
    moved_by_someone_else(session, row, to=2)
    with pytest.raises(Moved) as refused:
        LOCK.bump(session, claimed, 1)
    assert refused.value.params == {"version": 2}
    assert row.version == 2
    assert version_in_database(session, row.id) == 2
    # Reloaded to show the other actor's work: this step's change is not kept in the row.
    assert row.title == "食堂加装洗手池"
