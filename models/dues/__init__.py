"""会费 (dues): a ledger per member and month, payments and corrections, reminders and figures.

* :mod:`~models.dues.months`: months as the ledger keeps them (202612) and as people type them;
* :mod:`~models.dues.tables`: the rate history, the monthly charges, the entries, the policy;
* :mod:`~models.dues.ledger`: what is due, recording payments (one member, a whole unit),
  corrections as reversals, rate changes, and a member's own view (我的会费);
* :mod:`~models.dues.imports`: payroll deduction files, checked whole before anything is written;
* :mod:`~models.dues.reminders`: the monthly job's reminders and cadres' digests;
* :mod:`~models.dues.figures`: collection rates, arrears, and the ranking's dues score.
"""

from __future__ import annotations

from models.dues.ledger import (
    Actor,
    MemberDues,
    System,
    correct_dues_entry,
    dues_scope,
    member_dues,
    record_dues_payment,
    record_unit_paid,
    records_dues,
    set_dues_rate,
)
from models.dues.months import Month, month_key, parse_month
from models.dues.tables import DuesEntry, DuesMonth, DuesPeriod, DuesPolicy, DuesRate, EntryKind, EntrySource

__all__ = [
    "Actor",
    "DuesEntry",
    "DuesMonth",
    "DuesPeriod",
    "DuesPolicy",
    "DuesRate",
    "EntryKind",
    "EntrySource",
    "MemberDues",
    "Month",
    "System",
    "correct_dues_entry",
    "dues_scope",
    "member_dues",
    "month_key",
    "parse_month",
    "record_dues_payment",
    "record_unit_paid",
    "records_dues",
    "set_dues_rate",
]
