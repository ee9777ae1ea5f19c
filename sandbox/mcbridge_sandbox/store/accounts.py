"""Accounts (one per API key) and their audiences.

Nothing here is cached: the CLI may add either from another process while the server runs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from mcbridge_sandbox.keys import data_centre, new_id, new_web_id
from mcbridge_sandbox.models import Account, Audience, MarketingPermission
from mcbridge_sandbox.store.database import Database, record


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, api_key: str, created_at: str) -> Account:
        cursor = self.db.run(
            "INSERT INTO accounts (api_key, dc, created_at) VALUES (?, ?, ?)",
            (api_key, data_centre(api_key), created_at),
        )
        return Account(int(cursor.lastrowid or 0), api_key, data_centre(api_key), created_at)

    def by_key(self, api_key: str) -> Account | None:
        found = self.db.row("SELECT * FROM accounts WHERE api_key = ?", (api_key,))
        return None if found is None else _account(found)

    def by_id(self, account_id: int) -> Account | None:
        found = self.db.row("SELECT * FROM accounts WHERE id = ?", (account_id,))
        return None if found is None else _account(found)

    def all(self) -> list[Account]:
        return [_account(r) for r in self.db.rows("SELECT * FROM accounts ORDER BY id")]


class Audiences:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, account_id: int, name: str, date_created: str, permissions: Sequence[str] = ()
    ) -> Audience:
        """`permissions`: the texts of a GDPR audience's marketing permissions."""
        audience_id = new_id()
        defined = [{"id": new_id(), "text": text} for text in permissions]
        cursor = self.db.run(
            "INSERT INTO audiences"
            " (id, account_id, name, web_id, date_created, marketing_permissions)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (audience_id, account_id, name, new_web_id(), date_created, json.dumps(defined)),
        )
        return self.by_pk(int(cursor.lastrowid or 0))

    def by_pk(self, pk: int) -> Audience:
        found = self.db.row("SELECT * FROM audiences WHERE pk = ?", (pk,))
        if found is None:
            raise LookupError(f"no audience with pk {pk}")
        return _audience(found)

    def get(self, audience_id: str) -> Audience | None:
        found = self.db.row("SELECT * FROM audiences WHERE id = ?", (audience_id,))
        return None if found is None else _audience(found)

    def of_account(self, account_id: int, offset: int = 0, count: int = -1) -> list[Audience]:
        rows = self.db.rows(
            "SELECT * FROM audiences WHERE account_id = ? ORDER BY pk LIMIT ? OFFSET ?",
            (account_id, count, offset),
        )
        return [_audience(r) for r in rows]

    def count_of_account(self, account_id: int) -> int:
        return int(
            self.db.scalar("SELECT COUNT(*) FROM audiences WHERE account_id = ?", (account_id,))
        )

    def take_merge_id(self, pk: int) -> int:
        """Merge ids are never reused within an audience, even after a field is deleted."""
        with self.db.transaction():
            merge_id = int(
                self.db.scalar("SELECT next_merge_id FROM audiences WHERE pk = ?", (pk,))
            )
            self.db.run("UPDATE audiences SET next_merge_id = ? WHERE pk = ?", (merge_id + 1, pk))
        return merge_id


def _account(row: sqlite3.Row) -> Account:
    return record(Account, row)


def _audience(row: sqlite3.Row) -> Audience:
    defined = json.loads(row["marketing_permissions"])
    permissions = tuple(MarketingPermission(item["id"], item["text"]) for item in defined)
    return record(Audience, row, marketing_permissions=permissions)
