"""Contact language: a person's language (de, fr, it, en), sent as the Mailchimp contact's
`language` and available as a merge field's source. Empty for everyone already there: an
export leaves the language of their contacts as Mailchimp has it until one is set.

Revision ID: b2c3d4e5f6a7
Revises: b4c5d6e7f8a9
Create Date: 2026-12-01 07:25:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P


# revision identifiers, used by Alembic.
revision = 'b2c3d4e5f6a7'
down_revision = 'b4c5d6e7f8a9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table(f'{P}people') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))


def downgrade():
    with op.batch_alter_table(f'{P}people') as batch_op:
        batch_op.drop_column('language')
