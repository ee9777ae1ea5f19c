"""Delivery addresses searched off an index: the subscriber view finds a list's delivery
addresses by their own words. PostgreSQL with pg_trgm gets a GIN index of the stored
delivery addresses' lowered text (`ix_<prefix>stored_addresses_search`, partial to the
addresses that are not a person's main one); without it, a search for a common word
walked the list's million stored addresses in page order. SQLite scans them, as before.

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-02 01:10:00

"""
from alembic import op

from mcbridge.models.search_index import drop_address_index, install_address_index


# revision identifiers, used by Alembic.
revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None


def upgrade():
    install_address_index(op.get_bind())


def downgrade():
    drop_address_index(op.get_bind())
