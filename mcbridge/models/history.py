"""For mcbridge's migrations: which installations the revisions before the prefix touch.

Those revisions (up to c4d5e6f7a8b9) created and changed unprefixed tables. They still
run on an installation from that time (mcbridge's environment says so, see
migrations/env.py); a new database skips them and gets the whole schema, prefixed, from
revision e7f8a9b0c1d2, so it never creates a `groups` or `users` table of its own.
"""

from __future__ import annotations

from alembic import op


def on_unprefixed_tables() -> bool:
    """The migration runs on an installation from before the table prefix."""
    return bool(op.get_context().opts.get("mcbridge_unprefixed"))
