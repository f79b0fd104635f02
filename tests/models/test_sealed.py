"""Sensitive fields sealed with the data key: members' phones are never in the database in clear."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from bot.database import alembic_config, upgrade
from models import sealed
from models.accounts import BindingPolicy, ChatAccount, find_member_for_binding
from models.base import utcnow
from models.db import SessionFactory, make_engine
from models.ephemeral import MemoryStore
from models.members import Member
from models.roster import roster_records
from tests.conftest import TEST_DATABASE_URL, drop_postgres_schema, postgres_engine
from tests.factories import make_member

PHONE = "13912345678"


def test_a_sealed_value_opens_only_with_its_key_and_for_its_field() -> None:
    first, second = sealed.seal(PHONE, "member.phone"), sealed.seal(PHONE, "member.phone")
    assert first != second  # a fresh nonce each time: equal phones do not look equal
    assert PHONE not in first
    assert sealed.unseal(first, "member.phone") == PHONE
    assert len(first) <= sealed.sealed_length(len(PHONE))
    with pytest.raises(sealed.SealBroken):
        sealed.unseal(first, "hardship.note")  # pasted into another field
    with pytest.raises(sealed.SealBroken):
        sealed.unseal(first[:-2] + ("A" if first[-2] != "A" else "B") + first[-1], "member.phone")
    with pytest.raises(sealed.SealBroken):
        sealed.unseal(PHONE, "member.phone")  # clear text is not taken for sealed
    sealed.use_key(bytes(32))
    with pytest.raises(sealed.SealBroken):
        sealed.unseal(first, "member.phone")


def test_lookup_hashes_are_equal_for_equal_values_and_depend_on_the_key() -> None:
    digest = sealed.lookup_hash(PHONE, "member.phone")
    assert digest == sealed.lookup_hash(PHONE, "member.phone")
    assert digest != sealed.lookup_hash(PHONE, "hardship.id_card")
    assert PHONE not in digest
    assert len(digest) == 64
    sealed.use_key(bytes(32))
    assert sealed.lookup_hash(PHONE, "member.phone") != digest


def test_without_a_key_nothing_is_sealed_or_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealed, "_keys", None)
    with pytest.raises(sealed.NoDataKey):
        sealed.seal(PHONE, "member.phone")


def test_the_phone_is_sealed_at_rest_and_binding_and_the_roster_still_read_it(
    db: SessionFactory, session: Session
) -> None:
    member = make_member(session, employee_no="2001", phone=PHONE)
    session.commit()
    engine = db.engine
    with engine.connect() as connection:  # what a dump of the table holds
        rows = connection.exec_driver_sql("SELECT * FROM member").all()
    assert rows
    assert PHONE not in repr(rows)
    if engine.dialect.name == "sqlite":
        database = Path(str(engine.url.database))
        for file in (database, database.with_name(database.name + "-wal")):
            if file.exists():
                assert PHONE.encode() not in file.read_bytes()

    account = ChatAccount(channel="telegram", external_id="42")
    session.add(account)
    session.flush()
    found = find_member_for_binding(
        session,
        MemoryStore(),
        BindingPolicy(max_attempts=3, cooldown=timedelta(minutes=15)),
        account=account,
        employee_no="2001",
        phone_last4="5678",
        now=utcnow(),
    )
    assert found.id == member.id
    [record] = roster_records(session)
    assert record.phone == PHONE  # the office's export shows it as before


@pytest.fixture(params=["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    assert TEST_DATABASE_URL
    schema = f"unionbot_sealed_{os.getpid()}"
    engine = postgres_engine(TEST_DATABASE_URL, schema)
    yield engine
    engine.dispose()
    drop_postgres_schema(TEST_DATABASE_URL, schema)


def test_the_migration_seals_phones_kept_in_clear_and_the_downgrade_opens_them(
    empty_engine: sa.Engine,
) -> None:
    engine = empty_engine
    upgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO unit (name, id_path, created_at) VALUES ('厂工会', '/1/', :at)"),
            {"at": utcnow()},
        )
        connection.execute(
            sa.text(
                "INSERT INTO member (employee_no, name, unit_id, phone, status, monthly_dues_fen, created_at,"
                " updated_at) SELECT '3001', '王芳', id, :phone, 'active', 0, :at, :at FROM unit"
            ),
            {"phone": PHONE, "at": utcnow()},
        )
    upgrade(engine)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT phone FROM member")).scalar_one()
    assert sealed.is_sealed(stored)
    assert PHONE not in stored
    with Session(engine) as session:
        assert session.exec(select(Member)).one().phone == PHONE
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0005")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT phone FROM member")).scalar_one() == PHONE
    upgrade(engine)  # and up again: sealed once more, readable
    with Session(engine) as session:
        assert session.exec(select(Member)).one().phone == PHONE
