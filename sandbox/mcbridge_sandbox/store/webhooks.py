"""Webhook registrations per audience."""

from __future__ import annotations

import json
import sqlite3

from mcbridge_sandbox.models import Webhook
from mcbridge_sandbox.store.database import Database, record


class Webhooks:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, hook: Webhook) -> None:
        self.db.run(
            "INSERT OR REPLACE INTO webhooks (id, audience, url, events, sources)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                hook.id,
                hook.audience_pk,
                hook.url,
                json.dumps(hook.events),
                json.dumps(hook.sources),
            ),
        )

    def get(self, audience_pk: int, hook_id: str) -> Webhook | None:
        found = self.db.row(
            "SELECT * FROM webhooks WHERE audience = ? AND id = ?", (audience_pk, hook_id)
        )
        return None if found is None else _webhook(found)

    def of_audience(self, audience_pk: int) -> list[Webhook]:
        rows = self.db.rows(
            "SELECT * FROM webhooks WHERE audience = ? ORDER BY rowid", (audience_pk,)
        )
        return [_webhook(r) for r in rows]

    def delete(self, hook: Webhook) -> None:
        self.db.run("DELETE FROM webhooks WHERE id = ?", (hook.id,))


def _webhook(row: sqlite3.Row) -> Webhook:
    return record(
        Webhook,
        row,
        audience_pk=row["audience"],
        events=json.loads(row["events"]),
        sources=json.loads(row["sources"]),
    )
