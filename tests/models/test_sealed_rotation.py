"""Several data keys at once: seal with the newest, open with any, and tell what still needs the newest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from models import sealed
from models.db import SessionFactory
from models.dialog_state import DialogState
from models.key_rotation import FORMS_TARGET, MEDIA_TARGET, KeyRotationProgress, rotate_keys, sealed_columns
from models.members import Member
from tests.factories import bind, make_member

OLD, NEW = bytes(range(32)), bytes(range(1, 33))


def test_values_sealed_under_the_old_key_open_and_reseal_under_the_new() -> None:
    sealed.use_key(OLD)
    before = sealed.seal("家里老人住院", "hardship.story")
    sealed.use_key(NEW, old=[OLD])
    assert sealed.unseal(before, "hardship.story") == "家里老人住院"
    after = sealed.reseal(before, "hardship.story")
    assert after is not None
    assert sealed.unseal(after, "hardship.story") == "家里老人住院"
    assert sealed.reseal(after, "hardship.story") is None  # done already: a resumed rotation skips it
    sealed.use_key(NEW)
    assert sealed.unseal(after, "hardship.story") == "家里老人住院"
    with pytest.raises(sealed.SealBroken):
        sealed.unseal(before, "hardship.story")  # once the old key is dropped, only resealed values open


def test_sealed_files_carry_their_purpose_and_rotate_like_fields() -> None:
    sealed.use_key(OLD)
    blob = sealed.seal_bytes(b"\xff\xd8 a scan of a hospital bill", "hardship.document")
    assert b"hospital" not in blob
    assert sealed.sealed_file_purpose(blob) == "hardship.document"
    assert sealed.sealed_file_purpose(b"\xff\xd8 a plain photo") is None
    sealed.use_key(NEW, old=[OLD])
    assert sealed.unseal_bytes(blob, "hardship.document") == b"\xff\xd8 a scan of a hospital bill"
    with pytest.raises(sealed.SealBroken):
        sealed.unseal_bytes(blob, "member.photo")
    again = sealed.reseal_bytes(blob)
    assert again is not None
    assert sealed.reseal_bytes(again) is None
    sealed.use_key(NEW)
    assert sealed.unseal_bytes(again, "hardship.document").endswith(b"hospital bill")


def test_a_key_id_names_a_key_without_giving_it_away() -> None:
    assert sealed.key_id(OLD) != sealed.key_id(NEW)
    assert len(sealed.key_id(OLD)) == 16
    sealed.use_key(NEW, old=[OLD])
    assert sealed.current_key_id() == sealed.key_id(NEW)


class Interrupted(Exception):
    """Stands for the operator's Ctrl-C or a crash halfway through."""


def _stop_after(batches: int, of: str) -> Callable[[str, int], None]:
    seen = []

    def hook(target: str, count: int) -> None:
        if target == of:
            seen.append(target)
        if len(seen) == batches:
            raise Interrupted

    return hook


def _stored_phones(db: SessionFactory) -> list[str]:
    with db() as session:
        raw = sa.type_coerce(Member.__table__.c.phone, sa.String)  # type: ignore[attr-defined]
        return list(session.execute(sa.select(raw).order_by(Member.__table__.c.id)).scalars())  # type: ignore[attr-defined]


def test_a_rotation_interrupted_halfway_resumes_and_then_the_old_key_is_not_needed(
    db: SessionFactory, tmp_path: Path
) -> None:
    sealed.use_key(OLD)
    with db() as session:
        for number in range(7):
            make_member(session, employee_no=f"10{number:02}", phone=f"139000000{number:02}")
    media = tmp_path / "media"
    (media / "hardship").mkdir(parents=True)
    for number in range(3):
        (media / "hardship" / f"{number}.jpg").write_bytes(
            sealed.seal_bytes(b"bill %d" % number, "hardship.document")
        )
    (media / "telegram").mkdir()
    (media / "telegram" / "plain.jpg").write_bytes(b"a photo nobody sealed")
    before = _stored_phones(db)

    sealed.use_key(NEW, old=[OLD])
    with pytest.raises(Interrupted):
        rotate_keys(db, media_dir=media, batch=3, after_batch=_stop_after(2, of="member.phone"))
    halfway = _stored_phones(db)
    assert halfway[:6] != before[:6]
    assert halfway[6:] == before[6:]
    with db() as session:  # meanwhile the bot reads every phone, rotated or not
        phones = [member.phone for member in session.exec(select(Member).order_by(col(Member.id)))]
        assert phones == [f"139000000{number:02}" for number in range(7)]
        progress = session.get(KeyRotationProgress, (sealed.key_id(NEW), "member.phone"))
        assert progress is not None
        assert progress.resealed == 6
        assert not progress.finished

    report = rotate_keys(db, media_dir=media, batch=3)
    assert report.resealed["member.phone"] == 1
    assert report.resealed[MEDIA_TARGET] == 3
    assert _stored_phones(db)[:6] == halfway[:6]  # what was done is not done again

    sealed.use_key(NEW)  # the old key is dropped: everything still opens
    with db() as session:
        phones = [member.phone for member in session.exec(select(Member).order_by(col(Member.id)))]
        assert phones == [f"139000000{number:02}" for number in range(7)]
    assert sealed.unseal_bytes((media / "hardship" / "2.jpg").read_bytes(), "hardship.document") == b"bill 2"
    assert (media / "telegram" / "plain.jpg").read_bytes() == b"a photo nobody sealed"
    again = rotate_keys(db, media_dir=media)
    assert again.total == 0
    assert {"member.phone", MEDIA_TARGET} <= set(again.already_done)


def test_a_value_the_bot_rewrote_during_the_rotation_is_kept(db: SessionFactory) -> None:
    sealed.use_key(OLD)
    with db() as session:
        member = make_member(session, phone="13900000000")
    sealed.use_key(NEW, old=[OLD])

    with db() as session:
        stored = _stored_phones(db)[0]
        session.execute(sa.update(Member).where(col(Member.id) == member.id).values(phone="13911111111"))
    # The rotation read the old value before the bot's write: its guarded update then changes nothing.
    with db() as session:
        table = Member.__table__  # type: ignore[attr-defined]
        raw = sa.type_coerce(table.c.phone, sa.String)
        result = session.connection().execute(
            sa.update(table)
            .where(table.c.id == member.id, raw == sa.bindparam("_seen", type_=sa.String))
            .values({"phone": sa.bindparam("_new", type_=sa.String)}),
            [{"_seen": stored, "_new": sealed.reseal(stored, "member.phone")}],
        )
        assert result.rowcount == 0
    with db() as session:
        assert session.get(Member, member.id).phone == "13911111111"  # type: ignore[union-attr]


def test_every_sealed_column_is_found_from_the_tables() -> None:
    targets = {item.target for item in sealed_columns()}
    assert "member.phone" in targets


def test_answers_sealed_in_an_open_form_are_rotated_too(db: SessionFactory) -> None:
    purpose = sealed.sealed_in_forms("test.draft")
    sealed.use_key(OLD)
    with db() as session:
        account = bind(session, make_member(session, phone=None))
        state = DialogState(
            account_id=account.id or 0,
            flow="report",
            step="income",
            data={
                "story": sealed.seal("老人住院", purpose),
                "size": 4,
                "photos": [sealed.seal("p", purpose)],
            },
        )
        session.add(state)
    sealed.use_key(NEW, old=[OLD])
    report = rotate_keys(db, media_dir=None)
    assert report.resealed[FORMS_TARGET] == 2
    sealed.use_key(NEW)
    with db() as session:
        data = session.exec(select(DialogState)).one().data
        assert sealed.unseal(data["story"], purpose) == "老人住院"
        assert sealed.unseal(data["photos"][0], purpose) == "p"
        assert data["size"] == 4
