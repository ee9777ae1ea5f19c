"""Consent-safe exports: who archived a contact, bring-back requests, pending batches,
fixed managed tags.

Revision ID: 3f1c2a9b7d44
Revises: d09781dadcb3
Create Date: 2026-12-01 04:00:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.history import on_unprefixed_tables


# revision identifiers, used by Alembic.
revision = '3f1c2a9b7d44'
down_revision = 'd09781dadcb3'
branch_labels = None
depends_on = None


def upgrade():
    if not on_unprefixed_tables():
        return  # a new database: see mcbridge.models.history
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_by_mcbridge_at', sa.String(length=40), nullable=True))

    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_elsewhere', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('already_in_audience', sa.Integer(), server_default='0', nullable=False))

    op.create_table(
        'bring_back_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailing_list_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['mailing_list_id'], ['mailing_lists.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bring_back_list_email', 'bring_back_requests', ['mailing_list_id', 'email'])
    op.create_table(
        'pending_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailing_list_id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.String(length=40), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['mailing_list_id'], ['mailing_lists.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pending_batches_mailing_list_id', 'pending_batches', ['mailing_list_id'])

    # The managed tag is fixed once a list is linked: renaming the list must not change it.
    op.execute(
        "UPDATE mailing_lists SET mailchimp_tag = substr('mcbridge: ' || name, 1, 100) "
        "WHERE mailchimp_tag IS NULL AND mailchimp_list_id IS NOT NULL"
    )


def downgrade():
    if not on_unprefixed_tables():
        return  # a new database: see mcbridge.models.history
    op.drop_index('ix_pending_batches_mailing_list_id', table_name='pending_batches')
    op.drop_table('pending_batches')
    op.drop_index('ix_bring_back_list_email', table_name='bring_back_requests')
    op.drop_table('bring_back_requests')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('already_in_audience')
        batch_op.drop_column('archived_elsewhere')
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.drop_column('archived_by_mcbridge_at')
