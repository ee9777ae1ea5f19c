"""Scripted failures, consumed in the order they were injected."""

from __future__ import annotations

import sqlite3

from mcbridge_sandbox.models import Delay, Fault
from mcbridge_sandbox.store.database import Database, record

# A shifting listing is no answer the gateway can give: the member listing takes it.
SHIFT = "shift"


class Faults:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, fault: Fault) -> Fault:
        cursor = self.db.run(
            "INSERT INTO faults (kind, status, retry_after, with_body, latency_ms, remaining,"
            " account_id, method, path_prefix, min_count, shift, per_member_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                fault.min_count,
                fault.shift,
                fault.per_member_ms,
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

    def take(
        self, account_id: int, method: str, path: str, page_size: int
    ) -> tuple[Delay, Fault | None]:
        """The latency faults' delay, summed, and the first counted fault that applies (one
        use spent)."""
        with self.db.transaction():
            matching = [
                f
                for f in self.all()
                if f.kind != SHIFT and _applies(f, account_id, method, path, page_size)
            ]
            latencies = [f for f in matching if f.kind == "latency"]
            delay = Delay(
                sum(f.latency_ms for f in latencies), sum(f.per_member_ms for f in latencies)
            )
            chosen = next((f for f in matching if f.kind != "latency"), None)
            if chosen is not None:
                self._spend(chosen)
        return delay, chosen

    def take_shift(self, account_id: int, path: str, page_size: int) -> int:
        """How far a member listing's order has rotated for this call: by the fault's step
        more on every call it serves (0 without a shifting fault)."""
        with self.db.transaction():
            chosen = next(
                (
                    f
                    for f in self.all()
                    if f.kind == SHIFT and _applies(f, account_id, "GET", path, page_size)
                ),
                None,
            )
            if chosen is None:
                return 0
            self._spend(chosen)
            self.db.run("UPDATE faults SET served = served + 1 WHERE id = ?", (chosen.id,))
        return (chosen.served + 1) * chosen.shift

    def _spend(self, fault: Fault) -> None:
        if fault.remaining is None:
            return
        if fault.remaining <= 1:
            self.db.run("DELETE FROM faults WHERE id = ?", (fault.id,))
        else:
            self.db.run("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (fault.id,))


def _applies(fault: Fault, account_id: int, method: str, path: str, page_size: int) -> bool:
    return (
        (fault.account_id is None or fault.account_id == account_id)
        and (fault.method is None or fault.method == method)
        and (fault.path_prefix is None or path.startswith(fault.path_prefix))
        and (fault.min_count is None or page_size >= fault.min_count)
    )


def _fault(row: sqlite3.Row) -> Fault:
    return record(Fault, row, with_body=bool(row["with_body"]))
