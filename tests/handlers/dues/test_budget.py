"""我的会费 is an everyday message: its statements are counted, so the cost cannot creep up unseen."""

from __future__ import annotations

from handlers.core.router import Bot
from models.db import SessionFactory
from models.dues.ledger import System, open_month, record_dues_payment
from tests.handlers.core.test_statement_budget import statements
from tests.handlers.dues.conftest import bound
from tests.models.dues.union import DECEMBER, NOW, Union

# Who is writing (with their accounts and roles); the rate history; the months; the last payment;
# the menu after it (an upsert of the dialog). The same with one month or a hundred.
BUDGET = 5


def test_my_dues_costs_five_statements_however_long_the_history(
    db: SessionFactory, bot: Bot, union: Union
) -> None:
    with db() as session:
        for month in (202610, 202611, DECEMBER):
            open_month(session, month, now=NOW)
        record_dues_payment(
            session,
            actor=System.COMMAND_LINE,
            member=union.a1,
            month=202610,
            amount_fen=2500,
            now=NOW,
            current=DECEMBER,
        )
    member = bound(bot, "1001")
    with statements(db.engine) as seen:
        member.send("我的会费", expect="【我的会费】")
    assert len(seen) == BUDGET, "\n".join(seen)
