"""The few SQL constructs that differ between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from mcbridge.extensions import SQLITE_LOWER, db


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


def insert_with_conflicts(model: Any) -> Any:
    """The database's own INSERT, which knows ON CONFLICT (both databases spell it alike)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def upsert(model: Any, keys: list[str], columns: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET columns, for executemany."""
    statement = insert_with_conflicts(model)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: getattr(statement.excluded, name) for name in columns},
    )


class UnicodeLower(FunctionElement[str]):
    """A text in lower case by Unicode's rules (É to é, Ü to ü, ẞ to ß), the same on both
    databases: PostgreSQL's lower() is Unicode-aware, SQLite's lowers A-Z only, so there it
    is Python's `str.lower`, registered on each connection (`mcbridge.extensions`)."""

    type = String()
    name = "unicode_lower"
    inherit_cache = True


@compiles(UnicodeLower)
def _lower(element: UnicodeLower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(UnicodeLower, "sqlite")
def _sqlite_lower(element: UnicodeLower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"
