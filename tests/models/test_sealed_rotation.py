"""Several data keys at once: seal with the newest, open with any, and tell what still needs the newest."""

from __future__ import annotations

import pytest

from models import sealed

OLD, NEW = bytes(range(32)), bytes(range(1, 33))


def test_values_sealed_under_the_old_key_open_and_reseal_under_the_new() -> None:
    sealed.use_key(OLD)
    before = sealed.seal("家里老人住院", "hardship.story")
    sealed.use_key(NEW, old=[OLD])
    assert sealed.unseal(before, "hardship.story") == "家里老人住院"
    after = sealed.reseal(before, "hardship.story")
    assert after is not None and sealed.unseal(after, "hardship.story") == "家里老人住院"
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
    assert again is not None and sealed.reseal_bytes(again) is None
    sealed.use_key(NEW)
    assert sealed.unseal_bytes(again, "hardship.document").endswith(b"hospital bill")


def test_a_key_id_names_a_key_without_giving_it_away() -> None:
    assert sealed.key_id(OLD) != sealed.key_id(NEW)
    assert len(sealed.key_id(OLD)) == 16
    sealed.use_key(NEW, old=[OLD])
    assert sealed.current_key_id() == sealed.key_id(NEW)
