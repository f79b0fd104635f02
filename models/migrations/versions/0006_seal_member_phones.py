"""seal member phones

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Members' phones are sealed with the data key (models/sealed.py): the column
widens to hold a sealed value, then every phone still in clear text is sealed
in place. Downgrading opens them again; both need the data key the process set
(bot.app.App does before migrating).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models import sealed

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSE = "member.phone"
SEALED_LENGTH = 69  # models.sealed.sealed_length(20), as the model declares it
_member = sa.table("member", sa.column("id", sa.Integer), sa.column("phone", sa.String))


def _rewrite(change) -> None:  # type: ignore[no-untyped-def]
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_member.c.id, _member.c.phone).where(_member.c.phone.is_not(None))
    ).all()
    updates = [
        {"member_id": member_id, "new_phone": new}
        for member_id, phone in rows
        if (new := change(phone)) != phone
    ]
    if updates:
        connection.execute(
            _member.update()
            .where(_member.c.id == sa.bindparam("member_id"))
            .values(phone=sa.bindparam("new_phone")),
            updates,
        )


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.alter_column('phone',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.String(length=SEALED_LENGTH),
               existing_nullable=True)
    _rewrite(lambda phone: phone if sealed.is_sealed(phone) else sealed.seal(phone, PURPOSE))


def downgrade() -> None:
    _rewrite(lambda phone: sealed.unseal(phone, PURPOSE) if sealed.is_sealed(phone) else phone)
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.alter_column('phone',
               existing_type=sa.String(length=SEALED_LENGTH),
               type_=sa.VARCHAR(length=20),
               existing_nullable=True)
