"""The few SQL constructs that differ between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql, sqlite

from mcbridge.extensions import db


def in_binary_order(column: ColumnElement[str]) -> ColumnElement[str]:
    """Order by code point, as Python compares strings. PostgreSQL's default collation
    sorts by language rules instead, which would break a merge-join done in Python."""
    if db.engine.dialect.name == "postgresql":
        return column.collate("C")
    return column


# The largest PostgreSQL INTEGER, the type of every id column: a larger number in a query
# is an error there (and beyond 64 bits on SQLite too), never just "not found".
LARGEST_ID = 2**31 - 1

PARAMETER_STYLES = {"sqlite": ":{}", "postgresql": "%({})s"}


def driver_upsert(table: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """The same upsert as SQL text for the driver's own executemany, by column name.

    SQLAlchemy's per-row parameter processing costs more than the database's work when a
    large export writes its copy of the audience; both databases take this statement.
    """
    names = (*keys, *columns)
    placeholder = PARAMETER_STYLES[db.engine.dialect.name]
    values = ", ".join(placeholder.format(name) for name in names)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def upsert(model: Any, keys: list[str], columns: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET columns, for executemany."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: getattr(statement.excluded, name) for name in columns},
    )
