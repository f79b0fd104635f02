"""Retention: closed cases lose their sensitive fields after the period; figures stay; erasure logged."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models.audit import AuditEntry
from models.hardship import (
    CaseStatus,
    HardshipCase,
    HardshipPhoto,
    HardshipPolicy,
    HardshipVisit,
    VisitRecord,
    close_case,
    record_visit,
)
from models.hardship.photos import VIEW_COPY_SECONDS, seal_photo, sweep_view_copies, view_copy
from models.hardship.retention import erase_expired_cases
from tests.models.hardship.cast import NOW, Cast, apply, cast

__all__ = ["cast"]


def test_a_case_closed_three_years_ago_is_erased_once_and_still_counts(
    session: Session, cast: Cast, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = HardshipPolicy(media_dir=tmp_path)
    sealed = tmp_path / "hardship" / "x.sealed"
    sealed.parent.mkdir()
    sealed.write_bytes(b"sealed")
    old = apply(session, cast.member)
    recent = apply(session, cast.member)
    assert old.id is not None
    assert recent.id is not None
    session.add(HardshipPhoto(case_id=old.id, position=1, path=str(sealed), mime_type="image/jpeg"))
    record_visit(
        session,
        actor=cast.chair,
        case_id=old.id,
        expected_version=1,
        visit=VisitRecord(
            visited_on=NOW.date(),
            visitors="王主席",
            family="三口之家。",
            mind="稳定。",
            cause="车祸。",
            needs="学费。",
        ),
        policy=policy,
        now=NOW,
    )
    close_case(session, actor=cast.chair, case_id=old.id, expected_version=2, note="已解决。", now=NOW)
    close_case(
        session,
        actor=cast.chair,
        case_id=recent.id,
        expected_version=1,
        note="已解决。",
        now=NOW + timedelta(days=400),
    )

    just_before = NOW.replace(year=2029) - timedelta(minutes=1)
    assert erase_expired_cases(session, now=just_before, policy=policy) == 0
    later = NOW.replace(year=2029) + timedelta(days=1)
    with caplog.at_level(logging.INFO, logger="models.hardship.retention"):
        assert erase_expired_cases(session, now=later, policy=policy) == 1
    assert erase_expired_cases(session, now=later, policy=policy) == 0

    session.refresh(old)
    assert (old.story, old.household, old.income, old.contact_way, old.close_note, old.member_id) == (
        None,
    ) * 6
    assert (old.status, old.category.value, old.erased_at) == (CaseStatus.CLOSED, "family", later)
    visit = session.exec(select(HardshipVisit).where(HardshipVisit.case_id == old.id)).one()
    assert (visit.family, visit.mind, visit.cause, visit.needs) == (None,) * 4
    assert not sealed.exists()
    assert session.exec(select(HardshipPhoto)).all() == []
    session.refresh(recent)
    assert recent.story is not None
    assert "erased the sensitive fields of 1 cases" in caplog.text
    erased = session.exec(select(AuditEntry).where(AuditEntry.action == "hardship.case.erase")).all()
    assert [entry.subject for entry in erased] == [f"case:{old.id}"]
    assert session.exec(select(HardshipCase)).all() != []


def test_a_clear_copy_made_for_a_cadre_goes_with_the_next_sweep(tmp_path: Path) -> None:
    media = tmp_path / "media"
    original = media / "wechat" / "x.jpg"
    original.parent.mkdir(parents=True)
    original.write_bytes(b"payslip")
    stored = seal_photo(str(original), media)
    assert stored is not None
    assert not original.exists()
    copy = view_copy(stored)
    assert copy is not None
    assert copy.read_bytes() == b"payslip"
    assert sweep_view_copies(time.time()) == 0
    assert sweep_view_copies(time.time() + VIEW_COPY_SECONDS + 1) >= 1
    assert not copy.exists()
