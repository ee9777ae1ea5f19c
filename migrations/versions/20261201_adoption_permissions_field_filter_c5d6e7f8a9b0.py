"""Adoption, marketing permissions and the person-field filter of a mailing list.

- `adoption`: what a leader decided for the contacts an audience already held when the
  list was linked: adopt them (the next export tags them as managed), or leave them; empty
  while undecided. Who and when are kept with it.
- `marketing_permissions`: on a GDPR audience, the permissions every contact the list adds
  gets ([{"id", "text", "enabled"}]).
- `filter_field`, `filter_condition`, `filter_value`: one condition on any person field
  that every recipient must pass.
- `sync_runs.adopted`: the contacts a run adopted (a preview: would adopt).

Revision ID: c5d6e7f8a9b0
Revises: b0c1d2e3f4a5
Create Date: 2026-12-01 10:05:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P


# revision identifiers, used by Alembic.
revision = 'c5d6e7f8a9b0'
down_revision = 'b0c1d2e3f4a5'
branch_labels = None
depends_on = None

COLUMNS = (
    ('adoption', sa.String(length=10)),
    ('adoption_by_label', sa.String(length=255)),
    ('adoption_at', sa.DateTime()),
    ('marketing_permissions', sa.JSON()),
    ('filter_field', sa.String(length=20)),
    ('filter_condition', sa.String(length=12)),
    ('filter_value', sa.String(length=200)),
)


def upgrade():
    with op.batch_alter_table(f'{P}mailing_lists') as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table(f'{P}sync_runs') as batch_op:
        batch_op.add_column(
            sa.Column('adopted', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table(f'{P}sync_runs') as batch_op:
        batch_op.drop_column('adopted')
    with op.batch_alter_table(f'{P}mailing_lists') as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
