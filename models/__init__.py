"""Tables and the domain rules that go with them, one module per domain.

Importing this package registers every table on ``SQLModel.metadata``, which
Alembic and the tests compare against the migrations.
"""

from models import (
    accounts,
    activities,
    dialog_state,
    invites,
    members,
    notices,
    outbox,
    reach,
    roles,
    suggestions,
    units,
)

__all__ = [
    "accounts",
    "activities",
    "dialog_state",
    "invites",
    "members",
    "notices",
    "outbox",
    "reach",
    "roles",
    "suggestions",
    "units",
]
