"""The index behind people search, one per database, each where the database can have it.

- PostgreSQL: a pg_trgm GIN index over `search_document_sql()` (the searched columns,
  lowered, joined by a space). Search writes its LIKE on exactly that expression, so the
  planner uses the index; without pg_trgm (a host whose user may not create extensions)
  there is no index and search scans, slower but with the same answers.
- SQLite: an FTS5 table with the trigram tokenizer over the same columns, reading them from
  the people table (external content) and kept in step by triggers.

A list's stored delivery addresses are searched by their own words (the subscriber view),
off an index partial to the delivery addresses (`install_address_index`): on PostgreSQL a
pg_trgm GIN index of their words (revision b8c9d0e1f2a3), on SQLite a B-tree that holds
them apart from the main addresses (c0d1e2f3a4b5).

None is a model: the revisions and `metadata.create_all` (the events at the end) both
build them, and schema comparisons leave them out (`is_search_index`). A future SQLite
batch migration that rebuilds the people table drops its triggers: it must call
`install_search_index` again.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    column,
    event,
    func,
    literal_column,
)
from sqlalchemy.dialects import postgresql

from mcbridge.models.base import table_name

logger = logging.getLogger(__name__)

SEARCHED_COLUMNS = ("first_name", "last_name", "nickname", "email", "company")
PEOPLE = table_name("people")
TRIGRAM_INDEX = f"ix_{table_name('people_search')}"
ADDRESS_INDEX = f"ix_{table_name('stored_addresses_search')}"
STORED_ADDRESSES = table_name("stored_addresses")
FTS_TABLE = table_name("people_search")
FTS_SHADOWS = tuple(f"{FTS_TABLE}_{suffix}" for suffix in ("data", "idx", "docsize", "config"))
FTS_TRIGGERS = tuple(f"{FTS_TABLE}_{event}" for event in ("insert", "delete", "update"))
SQLITE_TRIGRAM_VERSION = (3, 34, 0)


def search_document(columns: Sequence[ColumnElement[Any]]) -> ColumnElement[str]:
    """What is searched: every searched column, lowered, a space between them (no typed
    word holds a space, so none matches across two columns). Its constants are literals,
    not parameters: PostgreSQL uses the index only for the very expression it indexed."""
    parts = [func.coalesce(column, literal_column("''")) for column in columns]
    return func.lower(reduce(lambda left, right: left + literal_column("' '") + right, parts))


def search_document_sql() -> str:
    """`search_document` over the people table's columns, as the index's SQL."""
    columns = [column(name, String()) for name in SEARCHED_COLUMNS]
    return str(search_document(columns).compile(dialect=postgresql.dialect()))


def is_search_index(name: str | None, type_: str) -> bool:
    """The index's own tables and index, which schema comparisons (autogenerate, the
    tests) must leave out: no model describes them."""
    if type_ == "table":
        return name in (FTS_TABLE, *FTS_SHADOWS)
    return type_ == "index" and name in (TRIGRAM_INDEX, ADDRESS_INDEX)


def install_search_index(connection: Connection) -> bool:
    """Build the database's search index, if it can have one; says whether it did."""
    dialect = connection.dialect.name
    if dialect == "postgresql" and trigram_extension_ready(connection):
        connection.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON {PEOPLE} "
            f"USING gin ({search_document_sql()} gin_trgm_ops)"
        )
        # Statistics of the indexed expression, or the planner guesses how many match.
        connection.exec_driver_sql(f"ANALYZE {PEOPLE}")
        return True
    if dialect == "sqlite" and sqlite_has_trigram_fts(connection):
        for statement in fts_statements():
            connection.exec_driver_sql(statement)
        return True
    return False


def install_address_index(connection: Connection) -> bool:
    """The index of a list's stored delivery addresses, where the database can have one;
    says whether it built it. PostgreSQL with pg_trgm indexes their words: without it,
    PostgreSQL walked a million stored addresses in page order looking for a delivery
    address that holds "marie", and found none (0.8 s). SQLite keeps the delivery
    addresses apart in a partial index, address included, so a search reads the list's
    delivery addresses (a tenth) and no row of the others: it scanned every stored address
    for them, 0.4 s of each statement at a million."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {ADDRESS_INDEX} ON {STORED_ADDRESSES} "
            "(mailing_list_id, person_id, position, email) WHERE is_primary = 0"
        )
        # SQLite uses a partial index only once its statistics say how few rows it holds.
        connection.exec_driver_sql(f"ANALYZE {STORED_ADDRESSES}")
        return True
    if dialect != "postgresql" or not trigram_extension_ready(connection):
        return False
    connection.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {ADDRESS_INDEX} ON {STORED_ADDRESSES} "
        "USING gin (lower(email) gin_trgm_ops) WHERE NOT is_primary"
    )
    return True


def drop_address_index(connection: Connection) -> None:
    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {ADDRESS_INDEX}")


def drop_search_index(connection: Connection) -> None:
    """Remove the index and what keeps it in step (the extension stays: others may use it)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    elif connection.dialect.name == "sqlite":
        for trigger in FTS_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def trigram_extension_ready(connection: Connection) -> bool:
    """pg_trgm usable here, created if needed and allowed. Checked before anything is tried:
    a failed CREATE EXTENSION would abort the whole migration's transaction."""
    if not trigram_installed(connection):
        if not may_create_trigram_extension(connection):
            return False
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    if connection.exec_driver_sql(
        "SELECT 1 FROM pg_opclass WHERE opcname = 'gin_trgm_ops' AND pg_opclass_is_visible(oid)"
    ).first():
        return True
    logger.warning(
        "People search has no index: pg_trgm is installed in a schema outside this "
        "connection's search_path. Search works, more slowly on many people."
    )
    return False


def trigram_installed(connection: Connection) -> bool:
    return bool(
        connection.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first()
    )


def may_create_trigram_extension(connection: Connection) -> bool:
    """The server has pg_trgm, and this user may create it: a superuser, or (pg_trgm being
    a trusted extension since PostgreSQL 13) a user with CREATE on the database."""
    row = connection.exec_driver_sql(
        "SELECT v.trusted, r.rolsuper, has_database_privilege(current_database(), 'CREATE') "
        "FROM pg_available_extensions e "
        "JOIN pg_available_extension_versions v "
        "ON v.name = e.name AND v.version = e.default_version "
        "JOIN pg_roles r ON r.rolname = current_user WHERE e.name = 'pg_trgm'"
    ).first()
    if row is None:
        logger.warning(
            "People search has no index: this PostgreSQL server does not offer the pg_trgm "
            "extension (postgresql-contrib). Search works, more slowly on many people."
        )
        return False
    trusted, superuser, may_create = row
    if superuser or (trusted and may_create):
        return True
    logger.warning(
        "People search has no index: this database user may not create the pg_trgm "
        "extension. Search works, more slowly on many people; once someone allowed runs "
        "“CREATE EXTENSION pg_trgm”, run “CREATE INDEX %s ON %s USING gin (%s gin_trgm_ops)”.",
        TRIGRAM_INDEX,
        PEOPLE,
        search_document_sql(),
    )
    return False


def sqlite_has_trigram_fts(connection: Connection) -> bool:
    """FTS5 is compiled in and knows the trigram tokenizer (SQLite 3.34 and later)."""
    if (
        sqlite3.sqlite_version_info >= SQLITE_TRIGRAM_VERSION
        and connection.exec_driver_sql(
            "SELECT 1 FROM pragma_module_list WHERE name = 'fts5'"
        ).first()
    ):
        return True
    logger.warning(
        "People search has no index: SQLite %s lacks FTS5 with the trigram tokenizer "
        "(3.34 or later). Search works, more slowly on many people.",
        sqlite3.sqlite_version,
    )
    return False


def fts_statements() -> list[str]:
    """The FTS5 table, filled from the people already there, and the triggers that keep it
    in step (an external-content table forgets a row only when given its old values)."""
    columns = ", ".join(SEARCHED_COLUMNS)
    new = ", ".join(f"new.{column}" for column in SEARCHED_COLUMNS)
    old = ", ".join(f"old.{column}" for column in SEARCHED_COLUMNS)
    into = f"INSERT INTO {FTS_TABLE}"
    forget = f"{into} ({FTS_TABLE}, rowid, {columns}) VALUES ('delete', old.id, {old});"
    learn = f"{into} (rowid, {columns}) VALUES (new.id, {new});"
    insert, delete, update = FTS_TRIGGERS
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({columns}, "
        f"content='{PEOPLE}', content_rowid='id', tokenize='trigram')",
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')",
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON {PEOPLE} BEGIN {learn} END",
        f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON {PEOPLE} BEGIN {forget} END",
        f"CREATE TRIGGER IF NOT EXISTS {update} AFTER UPDATE OF id, {columns} ON {PEOPLE} "
        f"BEGIN {forget} {learn} END",
    ]


def install_with_table(
    table: Table,
    install: Callable[[Connection], bool] = install_search_index,
    drop: Callable[[Connection], None] = drop_search_index,
) -> None:
    """`metadata.create_all` builds an index with its table, as the revisions do, and
    `drop_all` removes it first (the FTS table would outlive the table it reads)."""

    def created(_target: Table, connection: Connection, **_kw: Any) -> None:
        install(connection)

    def dropping(_target: Table, connection: Connection, **_kw: Any) -> None:
        drop(connection)

    event.listen(table, "after_create", created)
    event.listen(table, "before_drop", dropping)
