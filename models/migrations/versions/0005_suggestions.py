"""suggestions, their photos, supporters and history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('suggestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('measure', sa.Text(), nullable=False),
    sa.Column('benefit', sa.Text(), nullable=True),
    sa.Column('benefit_fen', sa.BigInteger(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('adopted', sa.Boolean(), nullable=True),
    sa.Column('status', sa.Enum('submitted', 'registered', 'first_reviewed', 'panel_reviewed', 'adopted', 'not_adopted', 'implementing', 'implemented', 'merged', 'closed', name='suggestionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('value_fen', sa.BigInteger(), nullable=True),
    sa.Column('award', sa.Enum('gold', 'silver', 'encouragement', name='award', native_enum=False, length=16), nullable=True),
    sa.Column('prize_fen', sa.BigInteger(), nullable=True),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('submitted_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('registered_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('implementation_started_on', sa.Date(), nullable=True),
    sa.Column('implemented_on', sa.Date(), nullable=True),
    sa.Column('answered_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('awarded_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['suggestion.id'], name=op.f('fk_suggestion_merged_into_id_suggestion')),
    sa.ForeignKeyConstraint(['proposer_id'], ['member.id'], name=op.f('fk_suggestion_proposer_id_member')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['member.id'], name=op.f('fk_suggestion_reviewer_id_member')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_suggestion_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion')),
    sa.UniqueConstraint('number', name=op.f('uq_suggestion_number'))
    )
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_index('ix_suggestion_status_due_on', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestion_unit_id'), ['unit_id'], unique=False)

    op.create_table('suggestion_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('submitted', 'registered', 'first_review', 'panel_review', 'adopted', 'not_adopted', 'implementation_started', 'effect_recorded', 'awarded', 'merged', 'replied', 'closed', 'name_revealed', name='eventkind', native_enum=False, length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('submitted', 'registered', 'first_reviewed', 'panel_reviewed', 'adopted', 'not_adopted', 'implementing', 'implemented', 'merged', 'closed', name='suggestionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['member.id'], name=op.f('fk_suggestion_event_actor_id_member')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestion.id'], name=op.f('fk_suggestion_event_suggestion_id_suggestion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_event'))
    )
    with op.batch_alter_table('suggestion_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_event_suggestion_id'), ['suggestion_id'], unique=False)

    op.create_table('suggestion_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('mime_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestion.id'], name=op.f('fk_suggestion_photo_suggestion_id_suggestion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_photo'))
    )
    with op.batch_alter_table('suggestion_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_photo_suggestion_id'), ['suggestion_id'], unique=False)

    op.create_table('suggestion_support',
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_suggestion_support_member_id_member')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestion.id'], name=op.f('fk_suggestion_support_suggestion_id_suggestion')),
    sa.PrimaryKeyConstraint('suggestion_id', 'member_id', name=op.f('pk_suggestion_support'))
    )
    with op.batch_alter_table('suggestion_support', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_support_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('suggestion_support', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_support_member_id'))

    op.drop_table('suggestion_support')
    with op.batch_alter_table('suggestion_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_photo_suggestion_id'))

    op.drop_table('suggestion_photo')
    with op.batch_alter_table('suggestion_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_event_suggestion_id'))

    op.drop_table('suggestion_event')
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_unit_id'))
        batch_op.drop_index(batch_op.f('ix_suggestion_submitted_at'))
        batch_op.drop_index('ix_suggestion_status_due_on')
        batch_op.drop_index(batch_op.f('ix_suggestion_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_suggestion_proposer_id'))
        batch_op.drop_index(batch_op.f('ix_suggestion_decided_at'))

    op.drop_table('suggestion')
