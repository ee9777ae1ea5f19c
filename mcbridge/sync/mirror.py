"""mcbridge's copy of a list's audience: refreshed from Mailchimp, read sorted, kept current.

A full read happens on the first run, when the set of merge fields changes, when the copy
and Mailchimp disagree on the number of members (something was deleted behind our back),
or after a week; otherwise only members changed since the last run are read. A full read
replaces what Mailchimp says (status, fields, tags) but keeps what only mcbridge knows:
which role tags it put there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select

from mcbridge.extensions import db
from mcbridge.mailchimp.audience import member_pages
from mcbridge.mailchimp.client import Client
from mcbridge.models import AudienceMember, MailingList
from mcbridge.sql import in_binary_order, upsert
from mcbridge.sync.fields import FieldSpec, audience_values, canonical, signature
from mcbridge.sync.plan import Known

LIST_TAG_PREFIX = "mcbridge: "
SEPARATOR = "\x1f"
FULL_READ_EVERY = timedelta(days=7)
CLOCK_MARGIN = timedelta(seconds=5)
WRITE_CHUNK = 2000
READ_COLUMNS = (
    "email",
    "status",
    "fields",
    "managed",
    "shared",
    "tags",
    "last_changed",
    "read_token",
)
WRITE_COLUMNS = (*READ_COLUMNS[:-1], "owned_tags")
UPSERT_KEYS = ["mailing_list_id", "email"]


def joined(names: Iterable[str]) -> str:
    return SEPARATOR.join(sorted(names))


def names(joined_names: str | None) -> frozenset[str]:
    return frozenset(joined_names.split(SEPARATOR)) if joined_names else frozenset()


def mirror_row(member: dict[str, Any], specs: tuple[FieldSpec, ...], tag: str) -> dict[str, Any]:
    """One member of a Mailchimp answer, reduced to what the diff compares."""
    tags = {item.get("name", "") for item in member.get("tags") or []}
    return {
        "email": str(member.get("email_address", "")).strip().lower(),
        "status": str(member.get("status", "")),
        "fields": canonical(audience_values(specs, member.get("merge_fields") or {})),
        "managed": tag in tags,
        "shared": any(name != tag and name.startswith(LIST_TAG_PREFIX) for name in tags),
        "tags": joined(tags - {tag}),
        "last_changed": member.get("last_changed"),
    }


class Mirror:
    """The stored copy of one mailing list's audience."""

    def __init__(self, mailing_list: MailingList, specs: tuple[FieldSpec, ...]) -> None:
        self.mailing_list = mailing_list
        self.list_id = mailing_list.id
        self.specs = specs
        self.tag = mailing_list.managed_tag

    def count(self) -> int:
        statement = select(func.count()).where(AudienceMember.mailing_list_id == self.list_id)
        return db.session.scalar(statement) or 0

    def needs_full_read(self, audience_total: int, now: datetime) -> bool:
        mailing_list = self.mailing_list
        return (
            mailing_list.audience_changed_since is None
            or mailing_list.audience_read_at is None
            or mailing_list.audience_fields != signature(self.specs)
            or now - mailing_list.audience_read_at > FULL_READ_EVERY
            or audience_total != self.count()
        )

    def refresh(
        self,
        client: Client,
        *,
        full: bool,
        page_size: int,
        workers: int,
        progress: Callable[[int, int], None],
    ) -> int:
        """Read members from Mailchimp into the copy; returns how many were read."""
        since = None if full else self.mailing_list.audience_changed_since
        total, started, pages = member_pages(
            client,
            self.mailing_list.mailchimp_list_id or "",
            since=since,
            page_size=page_size,
            workers=workers,
        )
        token = uuid.uuid4().hex[:16]
        read = 0
        for page in pages:
            rows = ({**mirror_row(m, self.specs, self.tag), "read_token": token} for m in page)
            self.save(rows, READ_COLUMNS)
            read += len(page)
            progress(read, total)
        if full:
            self._forget_unseen(token)
        self._remember_read(started or datetime.now(UTC), full)
        db.session.commit()
        return read

    def _forget_unseen(self, token: str) -> None:
        """After a full read, members Mailchimp no longer lists (deleted for good) go."""
        db.session.execute(
            delete(AudienceMember).where(
                AudienceMember.mailing_list_id == self.list_id,
                or_(AudienceMember.read_token.is_(None), AudienceMember.read_token != token),
            )
        )

    def _remember_read(self, started: datetime, full: bool) -> None:
        """Next time, read what changed since this read began, by Mailchimp's clock (its
        Date header has one-second steps), with a margin: reading a member twice costs
        little, missing one would cost a wrong export."""
        self.mailing_list.audience_changed_since = (started - CLOCK_MARGIN).isoformat()
        if full:
            self.mailing_list.audience_read_at = datetime.now(UTC).replace(tzinfo=None)
            self.mailing_list.audience_fields = signature(self.specs)

    def save(
        self, rows: Iterable[dict[str, Any]], columns: tuple[str, ...] = WRITE_COLUMNS
    ) -> None:
        """Insert or update rows by address, in chunks (one statement per chunk); only
        `columns` are overwritten on existing rows."""
        statement = upsert(AudienceMember, UPSERT_KEYS, columns)
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append({**row, "mailing_list_id": self.list_id})
            if len(chunk) >= WRITE_CHUNK:
                db.session.execute(statement, chunk)
                chunk = []
        if chunk:
            db.session.execute(statement, chunk)

    def stream(self, batch_size: int = 5000) -> Iterator[Known]:
        """Every member, sorted by address in code-point order."""
        statement = (
            select(
                AudienceMember.email,
                AudienceMember.status,
                AudienceMember.fields,
                AudienceMember.managed,
                AudienceMember.shared,
                AudienceMember.tags,
                AudienceMember.owned_tags,
            )
            .where(AudienceMember.mailing_list_id == self.list_id)
            .order_by(in_binary_order(AudienceMember.email))
            .execution_options(yield_per=batch_size)
        )
        for row in db.session.execute(statement):
            yield Known(
                row.email,
                row.status,
                row.fields,
                bool(row.managed),
                bool(row.shared),
                names(row.tags),
                names(row.owned_tags),
            )
