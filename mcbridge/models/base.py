"""mcbridge's own declarative base and the prefix of its table names.

The models live on their own metadata, not on one Flask-SQLAlchemy instance: a host
application hands mcbridge its database and mcbridge's tables join it. Their names carry
a prefix so they never collide with a host's own `users`, `groups` or `people`.

Table names are fixed when the classes are defined, before any app exists, so the prefix
is read from the environment variable MCBRIDGE_TABLE_PREFIX when this module is first
imported (default `mcbridge_`). Every process of one installation (web app, workers,
migrations) must see the same value; `MCBridge.init_app` refuses an app whose
MCBRIDGE_TABLE_PREFIX setting says otherwise.
"""

from __future__ import annotations

import os

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

TABLE_PREFIX = os.environ.get("MCBRIDGE_TABLE_PREFIX", "mcbridge_")


def table_name(name: str) -> str:
    """The name of one of mcbridge's tables in the database."""
    return f"{TABLE_PREFIX}{name}"


def ref(name: str) -> str:
    """The id column of one of mcbridge's tables, for a ForeignKey."""
    return f"{table_name(name)}.id"


def named(kind: str, name: str) -> str:
    """An index or constraint name given by hand (`ix`, `uq`): prefixed like the tables,
    since PostgreSQL keeps index names in one namespace per schema, the host's too."""
    return f"{kind}_{TABLE_PREFIX}{name}"


class Base(DeclarativeBase):
    """Declarative base with named constraints.

    Alembic needs stable constraint names to alter tables on SQLite (batch mode) and to
    drop constraints on PostgreSQL; unnamed constraints get random names per database.
    The names include the (prefixed) table name, so they are prefixed too.
    """

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
