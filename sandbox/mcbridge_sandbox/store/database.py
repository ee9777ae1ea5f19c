"""One SQLite connection shared by every server thread.

SQLite allows one writer at a time anyway, so a single connection behind a re-entrant lock
is both the simplest thread-safe design and works for `:memory:` (where a second
connection would see a different, empty database). File databases use WAL so that other
processes, such as the CLI adding an account, can write while the server runs; the
connection stays in autocommit between transactions, so every read sees their commits.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

from mcbridge_sandbox.store.schema import ADDED_COLUMNS, SCHEMA

Params = Sequence[Any]
Record = TypeVar("Record")
SQL_VARIABLE_CHUNK = 900
# A batch subscribe of 500 touches about as many pages of the address index, spread over
# it: at SQLite's default (a checkpoint, with its fsync, every 1,000 WAL pages) every
# second call paid a checkpoint: a fifth of its time. 40 MB of WAL between checkpoints.
CHECKPOINT_PAGES = 10_000


class Database:
    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._conn.row_factory = sqlite3.Row
        self._configure()
        self._conn.executescript(SCHEMA)
        self._add_missing_columns()

    @property
    def is_memory(self) -> bool:
        return self.path == ":memory:" or self.path.startswith("file::memory:")

    def _configure(self) -> None:
        self._conn.execute("PRAGMA busy_timeout = 10000")
        self._conn.execute("PRAGMA cache_size = -131072")
        if not self.is_memory:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")

    def _add_missing_columns(self) -> None:
        """A data file written by an older sandbox gets the columns added since."""
        with self.transaction():
            for table, column, definition, fill in ADDED_COLUMNS:
                present = {row["name"] for row in self.rows(f"PRAGMA table_info({table})")}
                if column not in present:
                    self.run(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
                    if fill:
                        self.run(fill)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested uses join the outer transaction; only the outermost commits."""
        with self._lock:
            if self._depth == 0:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._conn.execute("COMMIT")

    def rows(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def row(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Params = ()) -> Any:
        found = self.row(sql, params)
        return None if found is None else found[0]

    def run(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Write statements; callers that need atomicity wrap them in `transaction()`."""
        with self._lock:
            return self._conn.execute(sql, params)

    def run_many(self, sql: str, params: Iterable[Params]) -> None:
        with self._lock:
            self._conn.executemany(sql, params)

    def script(self, sql: str) -> None:
        """DDL inside an open transaction (executescript would commit it first)."""
        with self._lock:
            for statement in _statements(sql):
                self._conn.execute(statement)

    @contextmanager
    def counting_steps(self) -> Iterator[list[int]]:
        """Count SQLite virtual-machine steps, in thousands: a cost measure that does not
        depend on machine speed, so tests can prove paging work does not grow with offset.
        """
        counter = [0]

        def tick() -> int:
            counter[0] += 1
            return 0

        with self._lock:
            self._conn.set_progress_handler(tick, 1000)
            try:
                yield counter
            finally:
                self._conn.set_progress_handler(None, 0)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _statements(sql: str) -> Iterator[str]:
    """Split a script on statement boundaries while keeping trigger bodies whole."""
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""


def chunks(items: Iterable[Any], size: int = SQL_VARIABLE_CHUNK) -> Iterator[list[Any]]:
    """Slices small enough for one `IN (...)` list."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def record(cls: type[Record], row: sqlite3.Row, **converted: Any) -> Record:
    """A dataclass from a row, column by field name; `converted` gives the fields whose
    column is named or typed differently (JSON text, 0/1 flags, `audience` for the pk).
    """
    columns = set(row.keys())
    values = {
        f.name: row[f.name]
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]  # cls is a dataclass
        if f.name in columns and f.name not in converted
    }
    return cls(**values, **converted)
