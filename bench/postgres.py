"""The benchmarks' PostgreSQL databases: each tool keeps its own, which a fresh server does
not have yet."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


def ensure_database(url: str) -> bool:
    """Create the database the SQLAlchemy URL names unless it exists; True if created.
    Asked of the server's `postgres` database, since the one named cannot be connected to
    before it exists."""
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres")
    dsn = server.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if found is None:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database))
            )
        return found is None
