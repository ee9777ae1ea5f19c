"""Who acted, as text: who gave a list's consent, started a run or asked to bring an address
back, as the identity named them (a host's users are no rows of mcbridge's users table).

Revision ID: b0c1d2e3f4a5
Revises: b3c4d5e6f7a8
Create Date: 2026-12-01 07:30:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P


# revision identifiers, used by Alembic.
revision = 'b0c1d2e3f4a5'
down_revision = 'b3c4d5e6f7a8'
branch_labels = None
depends_on = None

LABELS = (
    ('mailing_lists', 'consent_by_label'),
    ('sync_runs', 'triggered_by_label'),
    ('bring_back_requests', 'requested_by_label'),
)


def upgrade():
    for table, column in LABELS:
        with op.batch_alter_table(f'{P}{table}') as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=255), nullable=True))


def downgrade():
    for table, column in reversed(LABELS):
        with op.batch_alter_table(f'{P}{table}') as batch_op:
            batch_op.drop_column(column)
