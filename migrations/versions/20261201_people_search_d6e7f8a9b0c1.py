"""People search index: every typed word of a search is looked up in an index of the
people's names, main address and company.

- PostgreSQL: a pg_trgm GIN index (`ix_<prefix>people_search`) over the searched columns,
  lowered and joined. The pg_trgm extension is created when the server offers it and the
  database user may create it (checked first: a failed statement would abort the
  migration); otherwise the index is left out with a warning in the log, and search
  still works, scanning.
- SQLite: an FTS5 table with the trigram tokenizer (`<prefix>people_search`) filled from
  the people and kept in step by triggers; left out, with a warning, before SQLite 3.34.

Revision ID: d6e7f8a9b0c1
Revises: c5d6e7f8a9b0
Create Date: 2026-12-01 10:20:00

"""
from alembic import op

from mcbridge.models.search_index import drop_search_index, install_search_index


# revision identifiers, used by Alembic.
revision = 'd6e7f8a9b0c1'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None


def upgrade():
    install_search_index(op.get_bind())


def downgrade():
    drop_search_index(op.get_bind())
