"""Batch requests, their progress, status history and result archives."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mcbridge_sandbox.models import Batch
from mcbridge_sandbox.store.database import Database, record

SUMMARY = (
    "id, account_id, status, total_operations, finished_operations, errored_operations,"
    " submitted_at, completed_at, results_url"
)


class Batches:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        batch_id: str,
        account_id: int,
        operations: list[dict[str, Any]],
        submitted_at: str,
        results_url: str,
    ) -> Batch:
        with self.db.transaction():
            self.db.run(
                "INSERT INTO batches (id, account_id, status, total_operations, submitted_at,"
                " results_url, operations) VALUES (?, ?, 'pending', ?, ?, ?, ?)",
                (
                    batch_id,
                    account_id,
                    len(operations),
                    submitted_at,
                    results_url,
                    json.dumps(operations),
                ),
            )
            self._record(batch_id, "pending", submitted_at)
        return self._get(batch_id)

    def get(self, account_id: int, batch_id: str) -> Batch | None:
        found = self.db.row(
            f"SELECT {SUMMARY} FROM batches WHERE id = ? AND account_id = ?",
            (batch_id, account_id),
        )
        return None if found is None else _batch(found)

    def exists(self, batch_id: str) -> bool:
        return self.db.row("SELECT 1 FROM batches WHERE id = ?", (batch_id,)) is not None

    def _get(self, batch_id: str) -> Batch:
        found = self.db.row(f"SELECT {SUMMARY} FROM batches WHERE id = ?", (batch_id,))
        if found is None:
            raise LookupError(batch_id)
        return _batch(found)

    def of_account(self, account_id: int, offset: int, count: int) -> list[Batch]:
        rows = self.db.rows(
            f"SELECT {SUMMARY} FROM batches WHERE account_id = ? ORDER BY seq LIMIT ? OFFSET ?",
            (account_id, count, offset),
        )
        return [_batch(r) for r in rows]

    def count_of_account(self, account_id: int) -> int:
        return int(
            self.db.scalar("SELECT COUNT(*) FROM batches WHERE account_id = ?", (account_id,))
        )

    def unfinished_count(self, account_id: int) -> int:
        return int(
            self.db.scalar(
                "SELECT COUNT(*) FROM batches WHERE account_id = ? AND status <> 'finished'",
                (account_id,),
            )
        )

    def next_pending(self) -> tuple[Batch, list[dict[str, Any]]] | None:
        found = self.db.row(
            "SELECT id, operations FROM batches WHERE status = 'pending' ORDER BY seq LIMIT 1"
        )
        if found is None:
            return None
        return self._get(found["id"]), json.loads(found["operations"])

    def set_status(self, batch_id: str, status: str, at: str) -> None:
        with self.db.transaction():
            self.db.run("UPDATE batches SET status = ? WHERE id = ?", (status, batch_id))
            self._record(batch_id, status, at)

    def progress(self, batch_id: str, finished: int, errored: int) -> None:
        self.db.run(
            "UPDATE batches SET finished_operations = ?, errored_operations = ? WHERE id = ?",
            (finished, errored, batch_id),
        )

    def finish(self, batch_id: str, results: bytes, at: str) -> None:
        """Operations are dropped once done: the archive is what clients read from now on."""
        with self.db.transaction():
            self.db.run(
                "UPDATE batches SET status = 'finished', completed_at = ?, results = ?,"
                " operations = '[]' WHERE id = ?",
                (at, results, batch_id),
            )
            self._record(batch_id, "finished", at)

    def results(self, batch_id: str) -> bytes | None:
        value = self.db.scalar("SELECT results FROM batches WHERE id = ?", (batch_id,))
        return None if value is None else bytes(value)

    def history(self, batch_id: str) -> list[dict[str, str]]:
        rows = self.db.rows(
            "SELECT status, at FROM batch_history WHERE batch_id = ? ORDER BY rowid", (batch_id,)
        )
        return [{"status": r["status"], "at": r["at"]} for r in rows]

    def delete(self, batch_id: str) -> None:
        with self.db.transaction():
            self.db.run("DELETE FROM batches WHERE id = ?", (batch_id,))
            self.db.run("DELETE FROM batch_history WHERE batch_id = ?", (batch_id,))

    def _record(self, batch_id: str, status: str, at: str) -> None:
        self.db.run(
            "INSERT INTO batch_history (batch_id, status, at) VALUES (?, ?, ?)",
            (batch_id, status, at),
        )


def _batch(row: sqlite3.Row) -> Batch:
    return record(Batch, row)
