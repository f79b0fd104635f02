"""activities, their units and sign-ups; notices to an activity's sign-ups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'cancelled', name='activitystatus', native_enum=False, length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('starts_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signup_deadline', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['member.id'], name=op.f('fk_activity_organiser_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_organiser_id'), ['organiser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_signup_deadline'), ['signup_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_starts_at'), ['starts_at'], unique=False)

    op.create_table('activity_signup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('signed_up', 'cancelled', name='signupstatus', native_enum=False, length=16), nullable=False),
    sa.Column('signed_up_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_signup_activity_id_activity')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_activity_signup_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_signup')),
    sa.UniqueConstraint('activity_id', 'member_id', name='uq_activity_signup')
    )
    with op.batch_alter_table('activity_signup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_signup_member_id'), ['member_id'], unique=False)

    op.create_table('activity_unit',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_unit_activity_id_activity')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_activity_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('activity_id', 'unit_id', name=op.f('pk_activity_unit'))
    )
    with op.batch_alter_table('activity_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_unit_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_activity_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notice_target_activity_id_activity'), 'activity', ['target_activity_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notice_target_activity_id_activity'), type_='foreignkey')
        batch_op.drop_column('target_activity_id')

    with op.batch_alter_table('activity_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_unit_unit_id'))

    op.drop_table('activity_unit')
    with op.batch_alter_table('activity_signup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_signup_member_id'))

    op.drop_table('activity_signup')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_starts_at'))
        batch_op.drop_index(batch_op.f('ix_activity_signup_deadline'))
        batch_op.drop_index(batch_op.f('ix_activity_organiser_id'))

    op.drop_table('activity')
