"""Extension instances, and `db`: the database mcbridge uses in the current app.

mcbridge may work in a database it does not own. A host application hands over its own
Flask-SQLAlchemy instance, whose session then carries mcbridge's models too (on the
default engine, or on the engine of the bind key MCBRIDGE_BIND_KEY); a host without one
gets an instance of mcbridge's own. `db` names whichever the current app's mcbridge uses,
so call sites keep saying `db.session` and `db.engine`.

Nothing here has an effect at import: connection settings, file modes and the after-fork
reset are given to mcbridge's engines by `prepare_engine`, called from `MCBridge.init_app`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import weakref
from typing import Any

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.orm import scoped_session

from mcbridge.models.base import Base

login_manager = LoginManager()
babel = Babel()
# Never initialised on an app (that would check every POST of a host's): mcbridge calls its
# `protect()` for its own views only (see mcbridge.plugin.init_csrf).
csrf = CSRFProtect()


class Database:
    """The database of one app's mcbridge: a Flask-SQLAlchemy instance, and the bind key
    under which mcbridge's tables live in it (None: its default engine)."""

    metadata: MetaData = Base.metadata

    def __init__(self, sqlalchemy: SQLAlchemy, bind_key: str | None = None) -> None:
        self.sqlalchemy = sqlalchemy
        self.bind_key = bind_key

    @property
    def session(self) -> scoped_session:
        """The instance's session: Flask-SQLAlchemy routes each model to its engine by the
        bind key in its metadata, so mcbridge's rows and a host's share one session."""
        return self.sqlalchemy.session

    @property
    def engine(self) -> Engine:
        return self.sqlalchemy.engines[self.bind_key]


class CurrentDatabase(Database):
    """The current app's `Database`, looked up on each use. Flask-Admin views hold it
    from registration on and ask for `.session` only while answering a request."""

    def __init__(self) -> None:
        """Nothing to hold: each use asks the current app."""

    @property  # type: ignore[override]
    def sqlalchemy(self) -> SQLAlchemy:
        return current_database().sqlalchemy

    @property  # type: ignore[override]
    def bind_key(self) -> str | None:
        return current_database().bind_key


def current_database() -> Database:
    return current_app.extensions["mcbridge"].database


db = CurrentDatabase()


def prepare_engine(engine: Engine, *, owned: bool) -> None:
    """Make an engine mcbridge uses safe for its worker processes and give SQLite the
    Unicode lower() mcbridge's queries call; if mcbridge owns it (its own instance, or the
    host's bind for mcbridge), also set SQLite up as mcbridge needs. A host's default
    engine keeps the host's own connection settings."""
    _register_fork_hook()
    _FORK_SAFE.add(engine)
    if not event.contains(engine, "checkout", _unicode_lower_function):
        event.listen(engine, "checkout", _unicode_lower_function)
    if owned and not event.contains(engine, "connect", _sqlite_pragmas):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "do_connect", _private_sqlite_file)


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


# The SQL name of Python's `str.lower` on SQLite connections (see mcbridge.sql.UnicodeLower).
SQLITE_LOWER = "mcbridge_lower"


def _unicode_lower_function(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Give a SQLite connection a lower() by Unicode's rules: SQLite's own lowers A-Z only,
    so "ÉCOLE" would never match "école" there while it does on PostgreSQL.

    Added on checkout rather than on connect: mcbridge may join a host's engine whose pool
    already holds connections. A function only adds a name, so a host's engine gets it too;
    the record's info remembers it for the life of the connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection) or record.info.get(SQLITE_LOWER):
        return
    dbapi_connection.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)
    record.info[SQLITE_LOWER] = True


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _private_sqlite_file(dialect: Any, _record: Any, arguments: list[Any], _params: Any) -> None:
    """A new SQLite database is created readable by its owner alone (0600): it holds names,
    addresses and password hashes. SQLite gives its WAL and shared-memory files its mode."""
    path = arguments[0] if dialect.name == "sqlite" and arguments else ""
    if not isinstance(path, str) or path in ("", ":memory:") or path.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# RQ runs each job in a forked work horse. A pooled connection used by both processes mixes
# their answers on one socket (the parent then reads the child's "in transaction"), so a
# child starts with empty pools and leaves the inherited sockets to the parent.
_FORK_SAFE: weakref.WeakSet[Engine] = weakref.WeakSet()
_FORK_HOOK: list[bool] = []


def _register_fork_hook() -> None:
    """Once per process: fork hooks cannot be removed, so a second would run twice."""
    if not _FORK_HOOK:
        os.register_at_fork(after_in_child=_empty_inherited_pools)
        _FORK_HOOK.append(True)


def _empty_inherited_pools() -> None:
    for engine in list(_FORK_SAFE):
        engine.dispose(close=False)
