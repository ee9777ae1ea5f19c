"""Static segments and tags: Mailchimp keeps both in one store, and so does the sandbox."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence

from mcbridge_sandbox.models import Segment
from mcbridge_sandbox.store.database import Database, chunks, marks, record


class Segments:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, audience_pk: int, name: str, now: str) -> Segment:
        cursor = self.db.run(
            "INSERT INTO segments (audience, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (audience_pk, name, now, now),
        )
        return Segment(int(cursor.lastrowid or 0), audience_pk, name, now, now)

    def get(self, audience_pk: int, segment_id: int) -> Segment | None:
        found = self.db.row(
            "SELECT * FROM segments WHERE audience = ? AND id = ?", (audience_pk, segment_id)
        )
        return None if found is None else _segment(found)

    def by_name(self, audience_pk: int, name: str) -> Segment | None:
        found = self.db.row(
            "SELECT * FROM segments WHERE audience = ? AND name = ?", (audience_pk, name)
        )
        return None if found is None else _segment(found)

    def of_audience(self, audience_pk: int, offset: int = 0, count: int = -1) -> list[Segment]:
        rows = self.db.rows(
            "SELECT * FROM segments WHERE audience = ? ORDER BY id LIMIT ? OFFSET ?",
            (audience_pk, count, offset),
        )
        return [_segment(r) for r in rows]

    def count_of_audience(self, audience_pk: int) -> int:
        return int(
            self.db.scalar("SELECT COUNT(*) FROM segments WHERE audience = ?", (audience_pk,))
        )

    def rename(self, segment: Segment, name: str, now: str) -> None:
        self.db.run(
            "UPDATE segments SET name = ?, updated_at = ? WHERE id = ?", (name, now, segment.id)
        )

    def touch(self, segment_id: int, now: str) -> None:
        self.db.run("UPDATE segments SET updated_at = ? WHERE id = ?", (now, segment_id))

    def delete(self, segment: Segment) -> None:
        with self.db.transaction():
            self.db.run("DELETE FROM segment_members WHERE segment_id = ?", (segment.id,))
            self.db.run("DELETE FROM segments WHERE id = ?", (segment.id,))

    def member_count(self, segment_id: int) -> int:
        return int(
            self.db.scalar(
                "SELECT COUNT(*) FROM segment_members WHERE segment_id = ?", (segment_id,)
            )
        )

    def member_ids(self, segment_id: int, offset: int = 0, count: int = -1) -> list[int]:
        rows = self.db.rows(
            "SELECT member_id FROM segment_members WHERE segment_id = ?"
            " ORDER BY member_id LIMIT ? OFFSET ?",
            (segment_id, count, offset),
        )
        return [r[0] for r in rows]

    def add_member(self, segment_id: int, member_id: int, now: str) -> bool:
        """True when the member was not in the segment yet."""
        cursor = self.db.run(
            "INSERT OR IGNORE INTO segment_members (segment_id, member_id, added_at)"
            " VALUES (?, ?, ?)",
            (segment_id, member_id, now),
        )
        return cursor.rowcount > 0

    def add_members(self, pairs: Sequence[tuple[int, int]], now: str) -> None:
        """(segment, member) pairs at once, for members added in bulk."""
        self.db.run_many(
            "INSERT OR IGNORE INTO segment_members (segment_id, member_id, added_at)"
            " VALUES (?, ?, ?)",
            ((segment_id, member_id, now) for segment_id, member_id in pairs),
        )

    def remove_member(self, segment_id: int, member_id: int) -> bool:
        cursor = self.db.run(
            "DELETE FROM segment_members WHERE segment_id = ? AND member_id = ?",
            (segment_id, member_id),
        )
        return cursor.rowcount > 0

    def tags_of(self, member_ids: Iterable[int]) -> dict[int, list[tuple[int, str, str]]]:
        """(segment id, name, date added) per member, for many members in one query."""
        tags: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for chunk in chunks(member_ids):
            rows = self.db.rows(
                "SELECT sm.member_id, s.id, s.name, sm.added_at FROM segment_members sm"
                " JOIN segments s ON s.id = sm.segment_id"
                f" WHERE sm.member_id IN ({marks(chunk)})"
                " ORDER BY s.id",
                chunk,
            )
            for member_id, segment_id, name, added_at in rows:
                tags[member_id].append((segment_id, name, added_at))
        return tags


def _segment(row: sqlite3.Row) -> Segment:
    return record(Segment, row, audience_pk=row["audience"])
