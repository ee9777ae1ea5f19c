"""Scripted failures, consumed in the order they were injected."""

from __future__ import annotations

import sqlite3

from mcbridge.sandbox.models import Fault
from mcbridge.sandbox.store.database import Database, record


class Faults:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, fault: Fault) -> Fault:
        cursor = self.db.run(
            "INSERT INTO faults (kind, status, retry_after, with_body, latency_ms, remaining,"
            " account_id, method, path_prefix) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                fault.kind,
                fault.status,
                fault.retry_after,
                int(fault.with_body),
                fault.latency_ms,
                fault.remaining,
                fault.account_id,
                fault.method,
                fault.path_prefix,
            ),
        )
        return self._get(int(cursor.lastrowid or 0))

    def _get(self, fault_id: int) -> Fault:
        found = self.db.row("SELECT * FROM faults WHERE id = ?", (fault_id,))
        if found is None:
            raise LookupError(fault_id)
        return _fault(found)

    def all(self) -> list[Fault]:
        return [_fault(r) for r in self.db.rows("SELECT * FROM faults ORDER BY id")]

    def clear(self) -> None:
        self.db.run("DELETE FROM faults")

    def take(self, account_id: int, method: str, path: str) -> tuple[int, Fault | None]:
        """Total latency to add, and the first counted fault that applies (one use spent)."""
        with self.db.transaction():
            matching = [f for f in self.all() if _applies(f, account_id, method, path)]
            latency = sum(f.latency_ms for f in matching if f.kind == "latency")
            chosen = next((f for f in matching if f.kind != "latency"), None)
            if chosen is not None and chosen.remaining is not None:
                if chosen.remaining <= 1:
                    self.db.run("DELETE FROM faults WHERE id = ?", (chosen.id,))
                else:
                    self.db.run(
                        "UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (chosen.id,)
                    )
        return latency, chosen


def _applies(fault: Fault, account_id: int, method: str, path: str) -> bool:
    return (
        (fault.account_id is None or fault.account_id == account_id)
        and (fault.method is None or fault.method == method)
        and (fault.path_prefix is None or path.startswith(fault.path_prefix))
    )


def _fault(row: sqlite3.Row) -> Fault:
    return record(Fault, row, with_body=bool(row["with_body"]))
