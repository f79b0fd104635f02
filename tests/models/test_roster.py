"""Roster imports: every row checked first, matched by 工号, safe to repeat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.db import SessionFactory
from models.errors import InvalidInput
from models.members import Member, MemberStatus
from models.roles import Role, RoleGrant, grant_role, grants_of
from models.roster import (
    CHUNK_SIZE,
    Batches,
    ImportResult,
    ImportRunStatus,
    RoleChange,
    RosterEntry,
    RosterImportRun,
    RosterRow,
    StatedRoles,
    import_roster,
    parse_roles,
    parse_status,
    roster_records,
    rows_digest,
    unfinished_import,
    validate_rows,
)
from models.units import Unit, UnitTree, find_unit, unit_path
from tests.factories import HOSTILE_NAME, bind, make_member


def row(line: int, employee_no: str, **fields: str | None) -> RosterRow:
    values: dict[str, Any] = {"name": "王芳", "unit": "厂工会/一车间/甲班", **fields}
    return RosterRow(line=line, employee_no=employee_no, **values)


def valid(*rows: RosterRow) -> list[RosterEntry]:
    entries, problems = validate_rows(rows)
    assert problems == []
    return entries


def member(session: Session, employee_no: str) -> Member:
    found = session.exec(select(Member).where(Member.employee_no == employee_no)).one()
    return found


def own_roles(session: Session, employee_no: str) -> set[Role]:
    person = member(session, employee_no)
    return {grant.role for grant, unit in grants_of(session, person) if unit.id == person.unit_id}


# -- checking the file --------------------------------------------------------


def test_each_problem_is_reported_with_its_line() -> None:
    rows = [
        row(2, "1001", phone="13800001234"),
        row(3, "1002", phone="12345"),
        row(4, "1003", name="  "),
        row(5, "1004", roles="总经理"),
        row(6, "1005", monthly_dues="十二元"),
        row(7, "1006", status="停薪留职"),
        row(8, "10 07!", unit=""),
    ]
    entries, problems = validate_rows(rows)
    assert [entry.employee_no for entry in entries] == ["1001"]
    assert [(line, error.code) for line, error in problems] == [
        (3, "member.phone_invalid"),
        (4, "member.name_empty"),
        (5, "role.unknown"),
        (6, "member.dues_invalid"),
        (7, "roster.status_unknown"),
        (8, "member.employee_no_invalid"),
        (8, "unit.path_empty"),
    ]


def test_a_repeated_employee_no_is_an_error_on_the_later_line_naming_the_first() -> None:
    rows = [row(2, "a01", name="李强"), row(3, "1002"), row(4, "Ａ01", name="李强强")]
    entries, problems = validate_rows(rows)
    assert [entry.line for entry in entries] == [2, 3]
    [(line, error)] = problems
    assert line == 4
    assert error.code == "roster.duplicate_employee_no"
    assert error.msgid.format(**error.params) == "工号 A01 与第 2 行重复。"


def test_a_repeat_is_reported_even_when_the_row_has_other_mistakes() -> None:
    _, problems = validate_rows([row(2, "1001"), row(3, "1001", phone="123")])
    assert {error.code for _, error in problems} == {"member.phone_invalid", "roster.duplicate_employee_no"}


def test_values_are_cleaned_as_the_database_keeps_them() -> None:
    [entry] = valid(
        row(
            2,
            " ｗ１２ ",
            name=" 欧阳明辉 ",
            unit=" 厂工会 ／ 二车间 / 甲班 ",
            phone="+86 138-0000-1234",
            roles="主席、职工代表",
            monthly_dues="１２.５元",
            status="在册",
        )
    )
    assert entry.employee_no == "W12"
    assert entry.name == "欧阳明辉"
    assert entry.unit_path == "厂工会/二车间/甲班"
    assert entry.phone == "13800001234"
    assert entry.roles == StatedRoles(own=frozenset({Role.CHAIR, Role.REPRESENTATIVE}))
    assert entry.monthly_dues_fen == 1250
    assert entry.status is MemberStatus.ACTIVE


@pytest.mark.parametrize(
    "cell",
    [
        "主席、职工代表",
        "chair,representative",
        "工会主席，代表",
        "chair; 代表",
        "chair  representative",
        "主席；职工代表",
    ],
)
def test_roles_in_one_cell_may_be_separated_as_people_write_them(cell: str) -> None:
    assert parse_roles(cell) == StatedRoles(own=frozenset({Role.CHAIR, Role.REPRESENTATIVE}))


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("在册", MemberStatus.ACTIVE),
        ("转出", MemberStatus.TRANSFERRED),
        ("退会", MemberStatus.LEFT),
        ("active", MemberStatus.ACTIVE),
        ("Transferred", MemberStatus.TRANSFERRED),
        (" LEFT ", MemberStatus.LEFT),
        ("", None),
    ],
)
def test_status_in_chinese_or_english(cell: str, status: MemberStatus | None) -> None:
    assert parse_status(cell) is status


def test_someone_who_left_cannot_be_listed_with_a_role() -> None:
    _, problems = validate_rows([row(2, "1001", roles="委员", status="退会")])
    assert [error.code for _, error in problems] == ["roster.roles_inactive"]


# -- importing ----------------------------------------------------------------


def test_an_import_creates_the_units_and_members(session: Session) -> None:
    result = import_roster(
        session,
        valid(
            row(2, "1001", name=HOSTILE_NAME, phone="13800001234", monthly_dues="25", status="在册"),
            row(3, "1002", unit="厂工会/一车间/乙班", phone="", monthly_dues="12.50", status="转出"),
            row(4, "1003", unit="厂工会/运输大队"),
        ),
    )
    assert result == ImportResult(created=3, updated=0, unchanged=0, units_created=5)
    first, second = member(session, "1001"), member(session, "1002")
    assert first.name == HOSTILE_NAME
    assert first.phone == "13800001234"
    assert first.monthly_dues_fen == 2500
    assert first.status is MemberStatus.ACTIVE
    assert unit_path(session, find_unit(session, "厂工会/一车间/乙班")) == "厂工会/一车间/乙班"
    assert second.phone is None
    assert second.monthly_dues_fen == 1250
    assert second.status is MemberStatus.TRANSFERRED
    assert member(session, "1003").monthly_dues_fen == 0


def test_importing_the_same_file_again_changes_nothing(session: Session) -> None:
    rows = valid(
        row(2, "1001", phone="13800001234", roles="小组长", monthly_dues="20", status="在册"),
        row(3, "1002", unit="厂工会/二车间", roles="", monthly_dues="15.5", status="退会"),
    )
    import_roster(session, rows)
    stamp = member(session, "1001").updated_at
    again = import_roster(session, rows)
    assert again == ImportResult(created=0, updated=0, unchanged=2, units_created=0)
    assert len(session.exec(select(Member)).all()) == 2
    assert len(session.exec(select(Unit)).all()) == 4
    assert len(session.exec(select(RoleGrant)).all()) == 1
    assert member(session, "1001").updated_at == stamp


def test_a_member_is_updated_by_employee_no_and_moves_unit(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", name="王芳", phone="13800001234")))
    result = import_roster(
        session, valid(row(2, "1001", name="王芳芳", unit="厂工会/二车间/乙班", phone="13900005678"))
    )
    assert result == ImportResult(created=0, updated=1, unchanged=0, units_created=2)
    moved = member(session, "1001")
    assert moved.name == "王芳芳"
    assert moved.phone == "13900005678"
    assert unit_path(session, session.get(Unit, moved.unit_id) or Unit(name="")) == "厂工会/二车间/乙班"


def test_several_members_changing_different_things_at_once(session: Session) -> None:
    import_roster(
        session,
        valid(
            row(2, "1001", phone="13800001234", monthly_dues="10"),
            row(3, "1002", phone="13800005678", monthly_dues="10"),
            row(4, "1003", phone="13800009999", monthly_dues="10"),
        ),
    )
    result = import_roster(
        session,
        valid(
            row(2, "1001", name="改名", phone="13800001234", monthly_dues="10"),
            row(3, "1002", phone="13900005678", monthly_dues="12"),
            row(4, "1003", phone="13800009999", monthly_dues="10"),
        ),
    )
    assert result == ImportResult(created=0, updated=2, unchanged=1, units_created=0)
    assert member(session, "1001").name == "改名"
    assert (member(session, "1002").phone, member(session, "1002").monthly_dues_fen) == ("13900005678", 1200)
    assert member(session, "1003").name == "王芳"


def test_a_member_already_loaded_in_the_session_shows_the_import(session: Session) -> None:
    loaded = make_member(session, employee_no="1001", unit="厂工会/一车间/甲班")
    import_roster(session, valid(row(2, "1001", name="新名字", unit="厂工会/二车间")))
    assert loaded.name == "新名字"
    assert loaded.unit_id == find_unit(session, "厂工会/二车间").id


def test_columns_missing_from_the_file_are_left_as_they_are(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", phone="13800001234", monthly_dues="30", status="转出")))
    result = import_roster(session, valid(row(2, "1001", name="王芳")))
    assert result.unchanged == 1
    kept = member(session, "1001")
    assert (kept.phone, kept.monthly_dues_fen, kept.status) == ("13800001234", 3000, MemberStatus.TRANSFERRED)


def test_a_blank_cell_in_a_present_column_clears_the_phone_and_dues(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", phone="13800001234", monthly_dues="30")))
    import_roster(session, valid(row(2, "1001", phone="", monthly_dues="")))
    cleared = member(session, "1001")
    assert (cleared.phone, cleared.monthly_dues_fen) == (None, 0)


def test_a_blank_status_cell_keeps_the_status(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", status="退会")))
    import_roster(session, valid(row(2, "1001", status="")))
    assert member(session, "1001").status is MemberStatus.LEFT


def test_roles_on_the_own_unit_become_exactly_those_listed(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="主席、小组长")))
    person = member(session, "1001")

    result = import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="主席，职工代表")))
    assert result.updated == 1
    assert own_roles(session, "1001") == {Role.CHAIR, Role.REPRESENTATIVE}
    assert result.role_changes == (RoleChange("1001", "王芳", Role.GROUP_LEADER, "厂工会/一车间"),)

    import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="")))
    assert list(grants_of(session, person)) == []


def test_the_roles_column_states_roles_on_other_units_too(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="主席")))
    person = member(session, "1001")
    grant_role(session, member=person, role=Role.COMMITTEE, unit=find_unit(session, "厂工会"))

    # Named in brackets, as an export writes it: kept.
    result = import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="主席、委员（厂工会）")))
    assert result.unchanged == 1
    assert result.role_changes == ()

    # Not named: ended, and said so.
    result = import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="主席")))
    assert result.role_changes == (RoleChange("1001", "王芳", Role.COMMITTEE, "厂工会"),)
    assert [(grant.role, unit.name) for grant, unit in grants_of(session, person)] == [(Role.CHAIR, "一车间")]

    # A role on another unit given in the file is granted there.
    import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="主席 , 管理员 (厂工会)")))
    everywhere = {(grant.role, unit.name) for grant, unit in grants_of(session, person)}
    assert everywhere == {(Role.CHAIR, "一车间"), (Role.ADMIN, "厂工会")}


def test_keep_other_grants_keeps_roles_given_on_other_units(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", unit="厂工会/一车间", roles="主席")))
    person = member(session, "1001")
    grant_role(session, member=person, role=Role.COMMITTEE, unit=find_unit(session, "厂工会"))
    result = import_roster(
        session, valid(row(2, "1001", unit="厂工会/一车间", roles="")), keep_other_grants=True
    )
    assert result.role_changes == (RoleChange("1001", "王芳", Role.CHAIR, "厂工会/一车间"),)
    assert [(grant.role, unit.name) for grant, unit in grants_of(session, person)] == [
        (Role.COMMITTEE, "厂工会")
    ]


def test_a_role_does_not_survive_a_move_between_units(session: Session) -> None:
    import_roster(session, valid(row(2, "2001", unit="厂工会/一车间", roles="工会主席")))
    person = member(session, "2001")
    result = import_roster(
        session, valid(row(2, "2001", unit="厂工会/二车间", roles="")), keep_other_grants=True
    )
    assert result.role_changes == (RoleChange("2001", "王芳", Role.CHAIR, "厂工会/一车间"),)
    assert list(grants_of(session, person)) == []


def test_a_role_listed_again_moves_with_its_member(session: Session) -> None:
    import_roster(session, valid(row(2, "2001", unit="厂工会/一车间", roles="工会主席、职工代表")))
    result = import_roster(session, valid(row(2, "2001", unit="厂工会/二车间", roles="工会主席")))
    assert result.role_changes == (
        RoleChange("2001", "王芳", Role.CHAIR, "厂工会/一车间", moved_to="厂工会/二车间"),
        RoleChange("2001", "王芳", Role.REPRESENTATIVE, "厂工会/一车间"),
    )
    assert own_roles(session, "2001") == {Role.CHAIR}
    assert [unit.name for _grant, unit in grants_of(session, member(session, "2001"))] == ["二车间"]


def test_without_a_roles_column_a_move_ends_the_roles_on_the_unit_left(session: Session) -> None:
    import_roster(session, valid(row(2, "2001", unit="厂工会/一车间", roles="工会主席")))
    grant_role(session, member=member(session, "2001"), role=Role.ADMIN, unit=find_unit(session, "厂工会"))
    result = import_roster(session, valid(row(2, "2001", unit="厂工会/二车间")))
    assert result.role_changes == (RoleChange("2001", "王芳", Role.CHAIR, "厂工会/一车间"),)
    assert [(grant.role, unit.name) for grant, unit in grants_of(session, member(session, "2001"))] == [
        (Role.ADMIN, "厂工会")
    ]


def test_a_role_on_a_unit_that_does_not_exist_is_refused_before_anything_is_written(session: Session) -> None:
    entries = valid(row(2, "1001", unit="厂工会/一车间"), row(3, "1002", roles="委员（厂工会/一车问）"))
    with pytest.raises(InvalidInput) as refused:
        import_roster(session, entries)
    assert refused.value.params == {"line": 3, "path": "厂工会/一车问"}
    assert session.exec(select(sa.func.count()).select_from(Member)).one() == 0


def test_without_a_roles_column_roles_are_untouched(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", roles="小组长")))
    result = import_roster(session, valid(row(2, "1001")))
    assert result.unchanged == 1
    assert own_roles(session, "1001") == {Role.GROUP_LEADER}


def test_nobody_gains_a_role_while_not_active(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", status="退会")))
    import_roster(session, valid(row(2, "1001", roles="委员")))
    assert own_roles(session, "1001") == set()


def test_progress_is_reported_as_rows_are_written(session: Session) -> None:
    seen: list[int] = []
    rows = valid(*(row(n + 2, f"{1000 + n}") for n in range(1200)))
    import_roster(session, rows, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1200
    assert len(seen) > 1


@contextmanager
def counted_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_large_file_takes_a_handful_of_queries_not_one_per_row(session: Session) -> None:
    rows = valid(
        *(
            row(n + 2, f"{10000 + n}", unit=f"厂工会/车间{n % 5}/班组{n % 3}", phone=f"138{n:08d}", roles="")
            for n in range(2000)
        )
    )
    with counted_statements(session) as first:
        assert import_roster(session, rows).created == 2000
    with counted_statements(session) as second:
        assert import_roster(session, rows).unchanged == 2000
    assert len(first) < 60
    assert len(second) < 20


# -- reading the roster back --------------------------------------------------


def test_records_show_own_roles_apart_from_roles_elsewhere(session: Session) -> None:
    make_member(
        session,
        employee_no="1001",
        unit="厂工会/一车间",
        roles=[(Role.CHAIR, "厂工会/一车间"), (Role.COMMITTEE, "厂工会")],
    )
    make_member(session, employee_no="2001", unit="厂工会/二车间/甲班", phone=None)
    records = roster_records(session)
    assert [record.employee_no for record in records] == ["1001", "2001"]
    chair = records[0]
    assert chair.roles == (Role.CHAIR,)
    assert chair.other_roles == ((Role.COMMITTEE, "厂工会"),)
    assert chair.to_row(2).roles == "工会主席、工会委员（厂工会）"
    assert [r.employee_no for r in roster_records(session, under=find_unit(session, "厂工会/二车间"))] == [
        "2001"
    ]


def test_a_record_written_as_a_row_imports_back_unchanged(session: Session) -> None:
    make_member(session, employee_no="1001", roles=[(Role.GROUP_LEADER, "厂工会/一车间/甲班")])
    make_member(session, employee_no="1002", name="退会的人")
    member(session, "1002").status = MemberStatus.LEFT
    session.flush()
    rows = [record.to_row(line) for line, record in enumerate(roster_records(session), start=2)]
    entries, problems = validate_rows(rows)
    assert problems == []
    assert import_roster(session, entries) == ImportResult(created=0, updated=0, unchanged=2, units_created=0)


def test_a_member_who_left_is_exported_without_the_roles_they_can_no_longer_use(session: Session) -> None:
    make_member(session, employee_no="1001", roles=[(Role.GROUP_LEADER, "厂工会/一车间/甲班")])
    member(session, "1001").status = MemberStatus.LEFT
    session.flush()
    [record] = roster_records(session)
    assert record.roles == (Role.GROUP_LEADER,)
    assert record.to_row(2).roles == ""
    assert record.to_row(2).status == "退会"


def test_unit_tree_sees_units_an_import_created(session: Session) -> None:
    import_roster(session, valid(row(2, "1001", unit="厂工会/三车间/丁班")))
    assert UnitTree(session).find("厂工会/三车间/丁班") is not None


def test_records_come_by_unit_in_the_unions_order_then_by_number_with_their_channels(
    session: Session,
) -> None:
    for employee_no, unit in (
        ("10", "厂工会/一车间/丙班"),
        ("9", "厂工会/一车间/丙班"),
        ("20", "厂工会/一车间/乙班"),
        ("30", "厂工会/一车间/甲班"),
        ("A10", "厂工会/一车间/甲班"),
        ("A2", "厂工会/一车间/甲班"),
    ):
        make_member(session, employee_no=employee_no, unit=unit)
    bind(session, member(session, "30"), channel="wechat")
    bind(session, member(session, "30"))
    bind(session, member(session, "20"), active=False)
    records = roster_records(session)
    assert [(record.employee_no, record.unit_path[-2:]) for record in records] == [
        ("30", "甲班"),
        ("A2", "甲班"),
        ("A10", "甲班"),
        ("20", "乙班"),
        ("9", "丙班"),
        ("10", "丙班"),
    ]
    assert {record.employee_no: record.channels for record in records if record.channels} == {
        "30": ("telegram", "wechat")
    }


# -- chunk by chunk ---------------------------------------------------------------


class Killed(Exception):
    """The process dying between two chunks."""


def test_a_batched_import_cut_short_is_known_and_finished_by_importing_again(db: SessionFactory) -> None:
    rows = valid(*(row(n + 2, f"{1000 + n}", roles="委员" if n == 0 else None) for n in range(1200)))

    def killed_after_the_first_chunk(done: int) -> None:
        raise Killed

    with pytest.raises(Killed), db() as session:
        import_roster(
            session, rows, batches=Batches(label="花名册.xlsx", after_commit=killed_after_the_first_chunk)
        )
    with db() as session:
        run = unfinished_import(session)
        assert run is not None
        assert (run.label, run.done, run.rows) == ("花名册.xlsx", CHUNK_SIZE, 1200)
        assert run.digest == rows_digest(rows)
        # What was written is whole chunks, each member with their roles.
        assert session.exec(select(sa.func.count()).select_from(Member)).one() == CHUNK_SIZE
        assert own_roles(session, "1000") == {Role.COMMITTEE}

    with db() as session:
        result = import_roster(session, rows, batches=Batches(label="花名册.xlsx"))
        assert (result.created, result.unchanged) == (1200 - CHUNK_SIZE, CHUNK_SIZE)
    with db() as session:
        assert unfinished_import(session) is None
        statuses = session.exec(select(RosterImportRun.status).order_by(col(RosterImportRun.id))).all()
        assert statuses == [ImportRunStatus.RESUMED, ImportRunStatus.DONE]


def test_another_file_imported_after_a_cut_short_one_leaves_it_abandoned(db: SessionFactory) -> None:
    def killed(done: int) -> None:
        raise Killed

    with pytest.raises(Killed), db() as session:
        import_roster(
            session, valid(*(row(n + 2, f"{1000 + n}") for n in range(600))), batches=Batches("a", killed)
        )
    with db() as session:
        import_roster(session, valid(row(2, "2001")), batches=Batches("b"))
    with db() as session:
        assert unfinished_import(session) is None
        statuses = session.exec(select(RosterImportRun.status).order_by(col(RosterImportRun.id))).all()
        assert statuses == [ImportRunStatus.ABANDONED, ImportRunStatus.DONE]
