"""notices, their recipients and reads

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('notice', 'factory_affairs', 'dues_use', name='noticecategory', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('queued', 'withdrawn', name='noticestatus', native_enum=False, length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('target_kind', sa.Enum('units', 'role', name='targetkind', native_enum=False, length=16), nullable=False),
    sa.Column('target_unit_ids', sa.JSON(), nullable=False),
    sa.Column('target_role', sa.Enum('admin', 'chair', 'committee', 'group_leader', 'treasurer', 'representative', name='role', native_enum=False, length=24), nullable=True),
    sa.Column('attachment_kind', sa.Enum('image', 'file', name='attachmentkind', native_enum=False, length=16), nullable=True),
    sa.Column('attachment_ref', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
    sa.Column('attachment_mime', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('attachment_size', sa.Integer(), nullable=True),
    sa.Column('attachment_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('send_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['member.id'], name=op.f('fk_notice_author_id_member')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_notice_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_send_at'), ['send_at'], unique=False)

    op.create_table('notice_recipient',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('read_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_notice_recipient_member_id_member')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_recipient_notice_id_notice')),
    sa.PrimaryKeyConstraint('notice_id', 'member_id', name=op.f('pk_notice_recipient'))
    )
    with op.batch_alter_table('notice_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_recipient_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('notice_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_recipient_member_id'))

    op.drop_table('notice_recipient')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_send_at'))
        batch_op.drop_index(batch_op.f('ix_notice_author_id'))

    op.drop_table('notice')
