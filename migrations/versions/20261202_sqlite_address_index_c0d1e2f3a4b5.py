"""Delivery addresses searched off an index on SQLite too: a partial index holds a list's
stored delivery addresses apart from its main addresses (`ix_<prefix>stored_addresses_search`,
with the address in it), so the subscriber view's search reads the delivery addresses
alone; it scanned every stored address of the list for them.

`install_address_index` builds this index since this revision, so b8c9d0e1f2a3 builds it on
a new database; this revision builds it where b8c9d0e1f2a3 ran before. Its downgrade leaves
the index to b8c9d0e1f2a3's, which removes it on both databases.

Revision ID: c0d1e2f3a4b5
Revises: b8c9d0e1f2a3
Create Date: 2026-12-02 05:00:00

"""
from alembic import op

from mcbridge.models.search_index import install_address_index


# revision identifiers, used by Alembic.
revision = 'c0d1e2f3a4b5'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade():
    install_address_index(op.get_bind())


def downgrade():
    """Nothing of its own to undo (see above)."""
