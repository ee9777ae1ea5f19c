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


def upsert(model: Any, keys: list[str], columns: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET columns, for executemany."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: getattr(statement.excluded, name) for name in columns},
    )
