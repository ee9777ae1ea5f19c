"""Bare extension instances, bound to an app in `MCBridge.init_app`.

They live at module level (not on the plugin) so that models and views can import them
without importing the app factory, which keeps import order free of cycles.
"""

import contextlib
import os
import sqlite3
import weakref
from collections.abc import Iterable
from typing import Any

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with named constraints.

    Alembic needs stable constraint names to alter tables on SQLite (batch mode) and to
    drop constraints on PostgreSQL; unnamed constraints get random names per database.
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


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite enforces foreign keys (cascades) only when asked, per connection; WAL and a busy
    timeout let the web app and the workers use one database file at the same time."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@event.listens_for(Engine, "do_connect")
def _private_sqlite_file(dialect: Any, _record: Any, arguments: list[Any], _params: Any) -> None:
    """A new SQLite database is created readable by its owner alone (0600): it holds names,
    addresses and password hashes. SQLite gives its WAL and shared-memory files its mode."""
    path = arguments[0] if dialect.name == "sqlite" and arguments else ""
    if not isinstance(path, str) or path in ("", ":memory:") or path.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


_FORK_SAFE: weakref.WeakSet[Engine] = weakref.WeakSet()


def start_fresh_after_fork(engines: Iterable[Engine]) -> None:
    """RQ runs each job in a forked work horse. A pooled connection used by both processes
    mixes their answers on one socket (the parent then reads the child's "in transaction"),
    so a child starts with empty pools and leaves the inherited sockets to the parent."""
    _FORK_SAFE.update(engines)


def _empty_inherited_pools() -> None:
    for engine in list(_FORK_SAFE):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_empty_inherited_pools)
