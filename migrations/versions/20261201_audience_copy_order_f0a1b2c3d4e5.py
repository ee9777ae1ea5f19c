"""The audience copy in code-point order on PostgreSQL: an index on (list, address COLLATE
"C"), the order the export reads the copy in. Without it PostgreSQL sorted a list's whole
copy for every export (on disk at a million members). SQLite already keeps that order.

Revision ID: f0a1b2c3d4e5
Revises: e8f9a0b1c2d3
Create Date: 2026-12-01 17:00:00

"""
from alembic import op

from mcbridge.models.base import TABLE_PREFIX as P


# revision identifiers, used by Alembic.
revision = 'f0a1b2c3d4e5'
down_revision = 'e8f9a0b1c2d3'
branch_labels = None
depends_on = None

INDEX = f'ix_{P}audience_members_in_code_point_order'


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            f'CREATE INDEX {INDEX} ON {P}audience_members (mailing_list_id, email COLLATE "C")'
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index(INDEX, table_name=f'{P}audience_members')
