"""The consent ledger: every contact set back to subscribed by anything but their own
sign-up, with the request that did it."""

from __future__ import annotations

import sqlite3

from mcbridge_sandbox.models import Resubscription
from mcbridge_sandbox.store.database import Database, record


class ConsentLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, entry: Resubscription) -> None:
        self.db.run(
            "INSERT INTO consent_ledger (at, audience_id, email, status_before, archived_from,"
            " method, path, key, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.at,
                entry.audience_id,
                entry.email,
                entry.status_before,
                entry.archived_from,
                entry.method,
                entry.path,
                entry.key,
                entry.batch_id,
            ),
        )

    def find(self, audience_id: str | None = None) -> list[Resubscription]:
        """Oldest first; one audience's lines when `audience_id` is given."""
        if audience_id is None:
            rows = self.db.rows("SELECT * FROM consent_ledger ORDER BY id")
        else:
            rows = self.db.rows(
                "SELECT * FROM consent_ledger WHERE audience_id = ? ORDER BY id", (audience_id,)
            )
        return [_entry(r) for r in rows]

    def clear(self) -> None:
        self.db.run("DELETE FROM consent_ledger")


def _entry(row: sqlite3.Row) -> Resubscription:
    return record(Resubscription, row)
