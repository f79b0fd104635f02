"""Retention: a closed case's sensitive fields are erased once it has been closed long enough.

The union keeps a family's story, income and the visit notes only while it may
need them: :attr:`HardshipPolicy.retention_years` (3 by default) after a case
closes, the retention job erases them — the sealed fields of the case, its
visits and decisions, its document photos on disk — and unlinks the case from
the member. What remains (unit, category, kinds of help, stage, dates) keeps
the figures true and names nobody. The disbursements stay as they are: they are
the union's accounts, kept under the rules for accounts.

Each erasure is logged and written to the audit log (``hardship.case.erase``),
so the union can show what it erased and when.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, col, select

from models.audit import record_audit
from models.hardship.cases import CaseStatus, HardshipCase, HardshipDecision, HardshipPhoto, HardshipVisit
from models.hardship.photos import erase_photo
from models.hardship.policy import HardshipPolicy

log = logging.getLogger(__name__)

ERASE_ACTION = "hardship.case.erase"


def retention_cutoff(now: datetime, years: int) -> datetime:
    """The moment ``years`` years before ``now`` (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def erase_expired_cases(session: Session, *, now: datetime, policy: HardshipPolicy, limit: int = 500) -> int:
    """Erase the sensitive fields of cases closed before the retention period; safe to run again.

    At most ``limit`` cases a run, so a first run over years of files stays one short transaction;
    the next run takes the rest.

    Returns:
        How many cases were erased.
    """
    cutoff = retention_cutoff(now, policy.retention_years)
    cases = session.exec(
        select(HardshipCase)
        .where(
            col(HardshipCase.status) == CaseStatus.CLOSED,
            col(HardshipCase.closed_at) < cutoff,
            col(HardshipCase.erased_at).is_(None),
        )
        .order_by(col(HardshipCase.id))
        .limit(limit)
    ).all()
    for case in cases:
        case.story = case.household = case.income = None
        case.contact_way = case.contact_note = case.close_note = None
        case.member_id = None
        case.filed_by_id = None
        case.erased_at = now
        session.add(case)
        for visit in session.exec(select(HardshipVisit).where(HardshipVisit.case_id == case.id)).all():
            visit.family = visit.mind = visit.cause = visit.needs = visit.notes = None
            session.add(visit)
        for decision in session.exec(
            select(HardshipDecision).where(HardshipDecision.case_id == case.id)
        ).all():
            decision.reason = None
            session.add(decision)
        for photo in session.exec(select(HardshipPhoto).where(HardshipPhoto.case_id == case.id)).all():
            if photo.path:
                erase_photo(photo.path)
            session.delete(photo)
        record_audit(session, actor=None, action=ERASE_ACTION, subject=f"case:{case.id}", channel="system")
    session.flush()
    if cases:
        log.info(
            "hardship retention: erased the sensitive fields of %d cases closed before %s (ids %s)",
            len(cases),
            cutoff.date().isoformat(),
            ", ".join(str(case.id) for case in cases[:50]),
        )
    return len(cases)
