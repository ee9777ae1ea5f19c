"""Unlink choice: the run that records a leader unlinking a list says what they chose for
its contacts in Mailchimp (left as they are, or the managed ones archived).

Revision ID: b4c5d6e7f8a9
Revises: e7f8a9b0c1d2
Create Date: 2026-12-01 07:20:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P


# revision identifiers, used by Alembic.
revision = 'b4c5d6e7f8a9'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table(f'{P}sync_runs') as batch_op:
        batch_op.add_column(sa.Column('unlink_choice', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table(f'{P}sync_runs') as batch_op:
        batch_op.drop_column('unlink_choice')
