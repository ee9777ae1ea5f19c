"""Alembic environment of mcbridge's own schema (`flask db …` standalone, `flask mcbridge
db …` in a host without Flask-Migrate).

It migrates mcbridge's tables only, on the engine mcbridge uses in the current app, and keeps
their version in mcbridge's own table, `<prefix>alembic_version`, so a host's version table
and tables are never touched.

Installations from before the table prefix keep their version in `alembic_version` and
their tables unprefixed. Until they reach revision e7f8a9b0c1d2 (which moves the tables to
their prefixed names), the old revisions run on the unprefixed tables there; the version
then moves to mcbridge's own table.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table, inspect

import mcbridge.models  # noqa: F401  (every table on the metadata)
from mcbridge.models.base import TABLE_PREFIX, Base, table_name
from mcbridge.models.unmodelled import is_unmodelled

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

engine = current_app.extensions["mcbridge"].database.engine
VERSION_TABLE = table_name("alembic_version")
LEGACY_VERSION_TABLE = "alembic_version"
LAST_UNPREFIXED_REVISION = "c4d5e6f7a8b9"


def skip_empty_autogenerate(_context, _revision, directives) -> None:
    """`flask db migrate` with no model change writes no empty revision file."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def only_mcbridge_tables(name, type_, _parent_names) -> bool:
    """Autogenerate compares mcbridge's tables alone: a host's are none of its business;
    nor the indexes no model describes (people search, the copy's order)."""
    if is_unmodelled(name, type_):
        return False
    return type_ != "table" or (name.startswith(TABLE_PREFIX) and name != VERSION_TABLE)


def unprefixed_revision(connection: Connection) -> str | None:
    """The revision of an installation from before the table prefix, if this is one: its
    `alembic_version` names a revision of mcbridge's unprefixed history."""
    if not inspect(connection).has_table(LEGACY_VERSION_TABLE):
        return None
    history = {
        revision.revision
        for revision in context.script.iterate_revisions(LAST_UNPREFIXED_REVISION, "base")
    }
    rows = connection.exec_driver_sql(f"SELECT version_num FROM {LEGACY_VERSION_TABLE}")
    return next((version for (version,) in rows if version in history), None)


def version_table(name: str) -> Table:
    """A version table as Alembic creates it."""
    return Table(
        name,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{name}_pkc"),
    )


def move_version_to_own_table(connection: Connection) -> None:
    """Once an old installation's tables carry the prefix, its version joins them in
    mcbridge's own version table; the old table goes when nothing else is left in it."""
    if unprefixed_revision(connection) is not None:
        return  # still before the move: stays where the old revisions expect it
    history = {revision.revision for revision in context.script.walk_revisions()}
    legacy, own = version_table(LEGACY_VERSION_TABLE), version_table(VERSION_TABLE)
    own.create(connection, checkfirst=True)
    for (version,) in connection.execute(legacy.select()).all():
        if version in history:
            connection.execute(own.insert().values(version_num=version))
            connection.execute(legacy.delete().where(legacy.c.version_num == version))
    if connection.execute(legacy.select()).first() is None:
        legacy.drop(connection)


def run_migrations_offline() -> None:
    """Emit SQL for a URL without connecting (`flask db upgrade --sql`)."""
    context.configure(
        url=engine.url.render_as_string(hide_password=False),
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with engine.connect() as connection:
        foreign_keys = sqlite_foreign_keys(connection, False)
        try:
            migrate(connection)
        finally:
            sqlite_foreign_keys(connection, foreign_keys)


def sqlite_foreign_keys(connection: Connection, enforced: bool | None) -> bool | None:
    """Batch migrations rebuild SQLite tables (DROP + copy); with foreign keys on, the DROP
    would cascade-delete dependent rows. The pragma only works outside a transaction, hence
    before the migration's transaction begins; the connection goes back to its pool (a
    host's, maybe) as it came. Returns the setting it had; None and no change elsewhere."""
    if connection.dialect.name != "sqlite" or enforced is None:
        return None
    connection.commit()
    before = bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
    return before


def migrate(connection: Connection) -> None:
    """mcbridge's revisions on the connection, version in mcbridge's own table."""
    unprefixed = unprefixed_revision(connection) is not None
    connection.commit()  # Alembic commits only a transaction it began itself
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=LEGACY_VERSION_TABLE if unprefixed else VERSION_TABLE,
        include_name=only_mcbridge_tables,
        render_as_batch=True,
        process_revision_directives=skip_empty_autogenerate,
        mcbridge_unprefixed=unprefixed,
    )
    with context.begin_transaction():
        context.run_migrations()
    if unprefixed:
        move_version_to_own_table(connection)
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
