"""Brake and failure notices: a list's own brake limits (empty: the installation's), the
reason of the last notice mailed to its leaders, and on a run a leader confirmed past the
brake, the archives and changes they confirmed.

Revision ID: b3c4d5e6f7a8
Revises: b1c2d3e4f5a6
Create Date: 2026-12-01 07:30:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P


# revision identifiers, used by Alembic.
revision = 'b3c4d5e6f7a8'
down_revision = 'b1c2d3e4f5a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table(f'{P}mailing_lists') as batch_op:
        batch_op.add_column(sa.Column('brake_archive_share', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('brake_archive_min', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('brake_change_share', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('notified_reason', sa.String(length=40), nullable=True))
    with op.batch_alter_table(f'{P}sync_runs') as batch_op:
        batch_op.add_column(sa.Column('allowed_archives', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allowed_changes', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table(f'{P}sync_runs') as batch_op:
        batch_op.drop_column('allowed_changes')
        batch_op.drop_column('allowed_archives')
    with op.batch_alter_table(f'{P}mailing_lists') as batch_op:
        batch_op.drop_column('notified_reason')
        batch_op.drop_column('brake_change_share')
        batch_op.drop_column('brake_archive_min')
        batch_op.drop_column('brake_archive_share')
