"""Member rows, fast offset paging and the bulk pre-fill used by benchmarks."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from mcbridge_sandbox.keys import subscriber_hash
from mcbridge_sandbox.models import Member
from mcbridge_sandbox.store.database import Database, chunks, marks
from mcbridge_sandbox.store.schema import BLOCK_SIZE, MEMBER_BLOCK_TRIGGERS, MEMBER_INDEXES

COLUMNS = (
    "audience",
    "hash",
    "email",
    "unique_email_id",
    "web_id",
    "status",
    "prior_status",
    "merge_fields",
    "email_type",
    "language",
    "vip",
    "ip_signup",
    "timestamp_signup",
    "ip_opt",
    "timestamp_opt",
    "unsubscribe_reason",
    "source",
    "last_changed",
    "compliance",
    "marketing_permissions",
)
INSERT_SQL = f"INSERT INTO members (id, {', '.join(COLUMNS)}) VALUES (?{', ?' * len(COLUMNS)})"
UPDATE_SQL = f"UPDATE members SET {', '.join(f'{c} = ?' for c in COLUMNS)} WHERE id = ?"
ENCODE_JSON = json.JSONEncoder(separators=(",", ":")).encode
MEMBER_VALUES = attrgetter("audience_pk", *COLUMNS[1:])
MERGE_FIELDS_AT = COLUMNS.index("merge_fields")
VIP_AT = COLUMNS.index("vip")
COMPLIANCE_AT = COLUMNS.index("compliance")
PERMISSIONS_AT = COLUMNS.index("marketing_permissions")
# The same columns in a selected row, which starts with the id.
ROW_MERGE_FIELDS, ROW_VIP, ROW_COMPLIANCE, ROW_PERMISSIONS = (
    1 + at for at in (MERGE_FIELDS_AT, VIP_AT, COMPLIANCE_AT, PERMISSIONS_AT)
)
SELECT = f"SELECT id, {', '.join(COLUMNS)} FROM members"


@dataclass(frozen=True)
class MemberPage:
    members: list[Member]
    total: int


@dataclass
class _Positions:
    """Where pages of one filtered listing started: offset → id of the member there, and
    the listing's total, valid while no member changes (`version`)."""

    version: int
    total: int
    ids: dict[int, int] = field(default_factory=lambda: {0: 0})

    def nearest(self, offset: int) -> tuple[int, int]:
        """The known position at or before `offset`: (its offset, its member id)."""
        known = max(at for at in self.ids if at <= offset)
        return known, self.ids[known]


POSITION_KEYS = 64


class Members:
    """Member rows. Every write goes through here and moves `version` on, which tells the
    filtered listings' remembered positions that they are stale."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.version = 0
        self._positions: dict[tuple[Any, ...], _Positions] = {}

    def _changed(self) -> None:
        self.version += 1

    def get(self, audience_pk: int, member_hash: str) -> Member | None:
        found = self.db.row(f"{SELECT} WHERE audience = ? AND hash = ?", (audience_pk, member_hash))
        return None if found is None else _member(found)

    def get_many(self, audience_pk: int, hashes: Iterable[str]) -> dict[str, Member]:
        found: dict[str, Member] = {}
        for chunk in chunks(hashes):
            rows = self.db.rows(
                f"{SELECT} WHERE audience = ? AND hash IN ({marks(chunk)})",
                (audience_pk, *chunk),
            )
            found.update((row["hash"], _member(row)) for row in rows)
        return found

    def by_ids(self, member_ids: Sequence[int]) -> list[Member]:
        found: list[Member] = []
        for chunk in chunks(member_ids):
            rows = self.db.rows(f"{SELECT} WHERE id IN ({marks(chunk)}) ORDER BY id", chunk)
            found.extend(_member(r) for r in rows)
        return found

    def insert(self, member: Member) -> Member:
        self._changed()
        cursor = self.db.run(INSERT_SQL, (None, *_values(member)))
        member.id = int(cursor.lastrowid or 0)
        return member

    def insert_many(self, members: Sequence[Member]) -> None:
        """Members whose ids the caller assigned (see MemberWriter.defer_inserts)."""
        self._changed()
        self.db.run_many(INSERT_SQL, ((member.id, *_values(member)) for member in members))

    def next_id(self) -> int:
        return int(self.db.scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM members"))

    def save(self, member: Member) -> None:
        self._changed()
        self.db.run(UPDATE_SQL, (*_values(member), member.id))

    def delete(self, member_id: int) -> None:
        self._changed()
        with self.db.transaction():
            self.db.run("DELETE FROM segment_members WHERE member_id = ?", (member_id,))
            self.db.run("DELETE FROM members WHERE id = ?", (member_id,))

    def all(self, audience_pk: int) -> list[Member]:
        rows = self.db.rows(f"{SELECT} WHERE audience = ? ORDER BY id", (audience_pk,))
        return [_member(r) for r in rows]

    def status_counts(self, audience_pk: int) -> dict[str, int]:
        rows = self.db.rows(
            "SELECT status, SUM(n) FROM member_blocks WHERE audience = ? GROUP BY status",
            (audience_pk,),
        )
        return {status: int(n) for status, n in rows}

    def page(
        self,
        audience_pk: int,
        *,
        status: str | None = None,
        since: str | None = None,
        offset: int = 0,
        count: int = 10,
        include_archived: bool = True,
    ) -> MemberPage:
        """Members in the order they were added; `since` filters on `last_changed`;
        `include_archived=False` leaves archived members out unless `status` asks for them."""
        statuses = _Statuses(status, include_archived)
        if since is not None:
            return self._filtered_page(
                audience_pk, statuses, "last_changed > ?", (since,), offset, count
            )
        start_id, skip, total = self._locate(audience_pk, statuses, offset)
        status_sql, status_params = statuses.clause()
        rows = self.db.rows(
            f"{SELECT} WHERE audience = ?{status_sql} AND id >= ? ORDER BY id LIMIT ? OFFSET ?",
            (audience_pk, *status_params, start_id, count, skip),
        )
        return MemberPage([_member(r) for r in rows], total)

    def search(
        self, audience_pk: int, text: str, status: str | None, offset: int, count: int
    ) -> MemberPage:
        """Substring search for the read-only page: a scan, fine for people, not for APIs."""
        pattern = f"%{text.lower()}%"
        return self._filtered_page(
            audience_pk,
            _Statuses(status),
            "(lower(email) LIKE ? OR lower(merge_fields) LIKE ?)",
            (pattern, pattern),
            offset,
            count,
        )

    def _filtered_page(
        self,
        audience_pk: int,
        statuses: _Statuses,
        condition: str,
        params: Sequence[Any],
        offset: int,
        count: int,
    ) -> MemberPage:
        """Reading a large filtered listing page by page (an export reading back what it
        wrote) would count and skip every earlier match again for each page. The listing
        remembers where its pages started, so each page skips only from the nearest known
        position, as long as no member changed."""
        status_sql, status_params = statuses.clause()
        where = f"audience = ?{status_sql} AND {condition}"
        args = (audience_pk, *status_params, *params)
        with self.db.transaction():
            positions = self._positions_of(where, args)
            start_offset, start_id = positions.nearest(offset)
            rows = self.db.rows(
                f"{SELECT} WHERE {where} AND id >= ? ORDER BY id LIMIT ? OFFSET ?",
                (*args, start_id, count, offset - start_offset),
            )
            if rows:
                positions.ids[offset] = int(rows[0]["id"])
                positions.ids[offset + len(rows)] = int(rows[-1]["id"]) + 1
        return MemberPage([_member(r) for r in rows], positions.total)

    def _positions_of(self, where: str, args: tuple[Any, ...]) -> _Positions:
        key = (where, args)
        positions = self._positions.get(key)
        if positions is None or positions.version != self.version:
            total = int(self.db.scalar(f"SELECT COUNT(*) FROM members WHERE {where}", args))
            positions = _Positions(self.version, total)
            if len(self._positions) >= POSITION_KEYS:
                self._positions.pop(next(iter(self._positions)))
            self._positions[key] = positions
        return positions

    def _locate(self, audience_pk: int, statuses: _Statuses, offset: int) -> tuple[int, int, int]:
        """Find the block holding the offset-th member: (first id to read, rows to skip, total)."""
        status_sql, status_params = statuses.clause()
        blocks = self.db.rows(
            f"SELECT block, SUM(n) FROM member_blocks WHERE audience = ?{status_sql}"
            " GROUP BY block ORDER BY block",
            (audience_pk, *status_params),
        )
        total = 0
        start: tuple[int, int] | None = None
        for block, size in blocks:
            if start is None and total + size > offset:
                start = (block * BLOCK_SIZE, offset - total)
            total += size
        start_id, skip = start if start is not None else (0, offset)
        return start_id, skip, total

    def bulk_load(self, audience_pk: int, rows: Iterable[Mapping[str, Any]], now: str) -> int:
        """Insert many new members fast: indexes and triggers are rebuilt once at the end.

        Rows carry `email_address`, optional `status` (default subscribed), `merge_fields`
        (a dict or its JSON text), `tags` (names) and `last_changed`. All addresses must be
        new to the audience. Cleaned rows are in a compliance state; unsubscribed ones count
        as unsubscribed by an admin (a sync may re-subscribe them, as Mailchimp would let it).
        """
        self._changed()
        with self.db.transaction():
            first_id = self.next_id()
            self.db.script(_drop_member_indexes())
            tally = _BulkTally()
            self.db.run_many(
                BULK_INSERT_SQL, _bulk_records(audience_pk, rows, now, first_id, tally)
            )
            loaded = int(self.db.scalar("SELECT COUNT(*) FROM members WHERE id >= ?", (first_id,)))
            try:
                self.db.script(MEMBER_INDEXES)
            except sqlite3.IntegrityError as error:
                raise ValueError("bulk_load rows repeat an address already present") from error
            self.db.run_many(
                "INSERT INTO member_blocks (audience, status, block, n) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO UPDATE SET n = n + excluded.n",
                ((audience_pk, status, block, n) for (status, block), n in tally.blocks.items()),
            )
            self.db.script(MEMBER_BLOCK_TRIGGERS)
            self._tag_loaded(audience_pk, tally.tagged, now)
        return loaded

    def _tag_loaded(self, audience_pk: int, tagged: dict[int, list[str]], now: str) -> None:
        names = sorted({name for names in tagged.values() for name in names})
        segment_ids: dict[str, int] = {}
        for name in names:
            self.db.run(
                "INSERT INTO segments (audience, name, created_at, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (audience_pk, name, now, now),
            )
            segment_ids[name] = int(
                self.db.scalar(
                    "SELECT id FROM segments WHERE audience = ? AND name = ?", (audience_pk, name)
                )
            )
        self.db.run_many(
            "INSERT OR IGNORE INTO segment_members (segment_id, member_id, added_at)"
            " VALUES (?, ?, ?)",
            (
                (segment_ids[name], member_id, now)
                for member_id, member_names in tagged.items()
                for name in member_names
            ),
        )


def _drop_member_indexes() -> str:
    return """
DROP TRIGGER IF EXISTS member_blocks_insert;
DROP INDEX IF EXISTS members_hash;
DROP INDEX IF EXISTS members_audience;
DROP INDEX IF EXISTS members_status;
"""


BULK_COLUMNS = (
    "id",
    *COLUMNS[:6],
    "merge_fields",
    "timestamp_signup",
    "last_changed",
    "compliance",
)
BULK_INSERT_SQL = (
    f"INSERT INTO members ({', '.join(BULK_COLUMNS)}) VALUES ({', '.join('?' * len(BULK_COLUMNS))})"
)


@dataclass
class _BulkTally:
    """What a fill learns on the way: tags to attach, and the block counts for paging."""

    tagged: dict[int, list[str]] = field(default_factory=dict)
    blocks: Counter[tuple[str, int]] = field(default_factory=Counter)


def _bulk_records(
    audience_pk: int,
    rows: Iterable[Mapping[str, Any]],
    now: str,
    first_id: int,
    tally: _BulkTally,
) -> Iterator[tuple[Any, ...]]:
    """Only the columns without defaults, ids derived rather than drawn: this loop is most
    of a fill's cost. `merge_fields` may come as ready JSON text to save encoding it."""
    for member_id, row in enumerate(rows, start=first_id):
        email = row["email_address"]
        member_hash = subscriber_hash(email)
        if "tags" in row:
            tally.tagged[member_id] = list(row["tags"])
        status = row.get("status", "subscribed")
        tally.blocks[status, member_id // BLOCK_SIZE] += 1
        merges = row.get("merge_fields") or "{}"
        yield (
            member_id,
            audience_pk,
            member_hash,
            email,
            member_hash[:10],
            member_id,
            status,
            merges if isinstance(merges, str) else ENCODE_JSON(merges),
            now,
            row.get("last_changed", now),
            int(status == "cleaned"),
        )


@dataclass(frozen=True)
class _Statuses:
    """Which statuses a listing shows: one, or all (but archived, unless included)."""

    status: str | None
    include_archived: bool = True

    def clause(self) -> tuple[str, tuple[str, ...]]:
        """A condition that keeps the listing in id order on the audience index."""
        if self.status is not None:
            return " AND status = ?", (self.status,)
        if self.include_archived:
            return "", ()
        return " AND status <> ?", ("archived",)


def _values(member: Member) -> list[Any]:
    """The row's columns in order; runs once per member of every bulk write."""
    values = list(MEMBER_VALUES(member))
    values[MERGE_FIELDS_AT] = ENCODE_JSON(member.merge_fields)
    values[VIP_AT] = int(member.vip)
    values[COMPLIANCE_AT] = int(member.compliance)
    values[PERMISSIONS_AT] = ENCODE_JSON(member.marketing_permissions)
    return values


def _member(row: sqlite3.Row) -> Member:
    """Positional on purpose: pages of 1000 members are built on every listing call."""
    member = Member(*row)
    member.merge_fields = json.loads(row[ROW_MERGE_FIELDS])
    member.vip = bool(row[ROW_VIP])
    member.compliance = bool(row[ROW_COMPLIANCE])
    member.marketing_permissions = json.loads(row[ROW_PERMISSIONS])
    return member
