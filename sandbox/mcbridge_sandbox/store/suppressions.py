"""Addresses the sandbox refuses to add: permanently deleted ones and signup-throttled ones."""

from __future__ import annotations

from collections.abc import Iterable

from mcbridge_sandbox.store.database import Database, chunks, marks


class Suppressions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def forget(self, audience_pk: int, member_hash: str) -> None:
        self.db.run(
            "INSERT OR IGNORE INTO forgotten (audience, hash) VALUES (?, ?)",
            (audience_pk, member_hash),
        )

    def forgotten_among(self, audience_pk: int, hashes: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in chunks(hashes):
            rows = self.db.rows(
                f"SELECT hash FROM forgotten WHERE audience = ? AND hash IN ({marks(chunk)})",
                (audience_pk, *chunk),
            )
            found.update(r[0] for r in rows)
        return found

    def remember(self, audience_pk: int, member_hash: str) -> None:
        """The person signed up again themselves, which lifts the ban."""
        self.db.run(
            "DELETE FROM forgotten WHERE audience = ? AND hash = ?", (audience_pk, member_hash)
        )

    def throttle(self, member_hash: str) -> None:
        self.db.run("INSERT OR IGNORE INTO throttled (hash) VALUES (?)", (member_hash,))

    def throttled_among(self, hashes: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in chunks(hashes):
            rows = self.db.rows(f"SELECT hash FROM throttled WHERE hash IN ({marks(chunk)})", chunk)
            found.update(r[0] for r in rows)
        return found
