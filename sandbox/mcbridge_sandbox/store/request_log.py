"""What clients asked of the API, with keys masked: tests count write calls with it."""

from __future__ import annotations

import sqlite3
from typing import Any

from mcbridge_sandbox.models import LoggedRequest
from mcbridge_sandbox.store.database import Database, record

KEEP_AT_MOST = 200_000


class RequestLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, entry: LoggedRequest) -> None:
        cursor = self.db.run(
            "INSERT INTO request_log (at, method, path, query, status, duration_ms, key,"
            " account_id, members) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.at,
                entry.method,
                entry.path,
                entry.query,
                entry.status,
                entry.duration_ms,
                entry.key,
                entry.account_id,
                entry.members,
            ),
        )
        newest = int(cursor.lastrowid or 0)
        if newest % 10_000 == 0:
            self.db.run("DELETE FROM request_log WHERE id <= ?", (newest - KEEP_AT_MOST,))

    def find(
        self,
        *,
        account_id: int | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> list[LoggedRequest]:
        conditions: list[str] = []
        params: list[Any] = []
        if account_id is not None:
            conditions.append("account_id = ?")
            params.append(account_id)
        if method:
            conditions.append("method = ?")
            params.append(method.upper())
        if path_prefix:
            conditions.append("substr(path, 1, ?) = ?")
            params.extend((len(path_prefix), path_prefix))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self.db.rows(f"SELECT * FROM request_log{where} ORDER BY id", params)
        return [_entry(r) for r in rows]

    def clear(self) -> None:
        self.db.run("DELETE FROM request_log")


def _entry(row: sqlite3.Row) -> LoggedRequest:
    return record(LoggedRequest, row)
