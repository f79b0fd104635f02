"""Hardship assistance (困难职工帮扶): a private way to ask for help, and the case work that protects it.

The rules the union holds itself to live here, beside the tables:

* nothing is stored without the member's explicit consent, and what a member
  confides (story, household, income, contact) and what cadres write about the
  family (visit notes, contact notes, reasons) is sealed at rest, photos too;
* only cadres with ``HANDLE_HARDSHIP`` over the member's unit read or act on a
  case; every opening is audited, and so is every refused attempt;
* every stage has a time limit in working days (first contact, visit, decision,
  help, the dynamic review's date), kept by a reminder and an escalation;
* a member's notification never says more than "your application moved on";
* a closed case's sensitive fields are erased after the retention period.

The package, by what each module holds:

* :mod:`~models.hardship.cases`: the tables, stages and their transitions, limits;
* :mod:`~models.hardship.actions`: applying, opening a case, and the cadre's versioned steps;
* :mod:`~models.hardship.queries`: the queue, its counts, a member's applications;
* :mod:`~models.hardship.deadlines`, :mod:`~models.hardship.retention`, :mod:`~models.hardship.scores`,
  :mod:`~models.hardship.photos`, :mod:`~models.hardship.policy`: the reminders, the erasure,
  the ranking's 帮扶及时率, the sealed photos, the settings;
* the campaigns (送温暖), 公示 and figures have modules of their own beside these.
"""

from __future__ import annotations

from models.hardship.actions import (
    ALLOWED,
    Action,
    CaseDraft,
    CaseView,
    Conflict,
    DecisionRecord,
    VisitRecord,
    allowed_actions,
    check_draft,
    close_case,
    decide_case,
    disbursements_of,
    handles_hardship,
    hardship_scope,
    keep_under_review,
    open_case,
    record_contact,
    record_disbursement,
    record_visit,
    submit_case,
)
from models.hardship.cases import (
    CATEGORY_LABELS,
    DEADLINE_LABELS,
    HELP_LABELS,
    NEW_TOPIC,
    NEXT_STEP,
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    UPDATE_TOPIC,
    CaseStatus,
    Deadline,
    HardshipCase,
    HardshipCategory,
    HardshipDecision,
    HardshipDisbursement,
    HardshipPhoto,
    HardshipVisit,
    HelpKind,
)
from models.hardship.policy import HardshipPolicy

__all__ = [
    "ALLOWED",
    "CATEGORY_LABELS",
    "DEADLINE_LABELS",
    "HELP_LABELS",
    "NEW_TOPIC",
    "NEXT_STEP",
    "OPEN_STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "UPDATE_TOPIC",
    "Action",
    "CaseDraft",
    "CaseStatus",
    "CaseView",
    "Conflict",
    "Deadline",
    "DecisionRecord",
    "HardshipCase",
    "HardshipCategory",
    "HardshipDecision",
    "HardshipDisbursement",
    "HardshipPhoto",
    "HardshipPolicy",
    "HardshipVisit",
    "HelpKind",
    "VisitRecord",
    "allowed_actions",
    "check_draft",
    "close_case",
    "decide_case",
    "disbursements_of",
    "handles_hardship",
    "hardship_scope",
    "keep_under_review",
    "open_case",
    "record_contact",
    "record_disbursement",
    "record_visit",
    "submit_case",
]
