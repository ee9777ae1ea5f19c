"""mcbridge's copy of a list's audience: refreshed from Mailchimp, read sorted, kept current.

A full read happens on the first run, when the set of merge fields changes, when the copy
and Mailchimp disagree on the number of members (something was deleted behind our back),
or after a week; otherwise only members changed since the last run are read. A full read
replaces what Mailchimp says (status, fields, tags) but keeps what only mcbridge knows:
which role tags it put there.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, delete, func, or_, select

from mcbridge.clock import now, now_utc
from mcbridge.extensions import db
from mcbridge.mailchimp.audience import MemberListing
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import IncompleteReadError
from mcbridge.models import AudienceMember, MailingList
from mcbridge.sql import in_binary_order, upsert_rows
from mcbridge.sync.apply import Written, call_count
from mcbridge.sync.fields import FieldSpec, audience_values, encode, signature
from mcbridge.sync.plan import NO_TAGS, Action, Known, Step

LIST_TAG_PREFIX = "mcbridge: "
SEPARATOR = "\x1f"
FULL_READ_EVERY = timedelta(days=7)
CLOCK_MARGIN = timedelta(seconds=5)
COMMIT_EVERY = 5000
READ_ATTEMPTS = 3
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
WRITE_COLUMNS = (*READ_COLUMNS[:-1], "owned_tags", "archived_by_mcbridge_at")
UPSERT_KEYS = ("mailing_list_id", "email")


def save_rows(connection: Connection, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Insert or update rows of the copy by address, overwriting only `columns`."""
    upsert_rows(connection, AudienceMember.__tablename__, UPSERT_KEYS, columns, rows)


def joined(names: Iterable[str]) -> str:
    return SEPARATOR.join(sorted(names))


@lru_cache(maxsize=4096)
def names(joined_names: str | None) -> frozenset[str]:
    """A stored list of tags as a set; remembered, because the members of a list mostly
    carry the same few tags, and a large export reads a million of them twice."""
    return frozenset(joined_names.split(SEPARATOR)) if joined_names else NO_TAGS


def mirror_row(member: dict[str, Any], specs: tuple[FieldSpec, ...], tag: str) -> dict[str, Any]:
    """One member of a Mailchimp answer, reduced to what the diff compares."""
    tags = [item.get("name", "") for item in member.get("tags") or ()]
    others = {name for name in tags if name != tag}
    return {
        "email": str(member.get("email_address", "")).strip().lower(),
        "status": str(member.get("status", "")),
        "fields": encode(audience_values(specs, member)),
        "managed": tag in tags,
        "shared": any(name.startswith(LIST_TAG_PREFIX) for name in others),
        "tags": joined(others),
        "last_changed": member.get("last_changed"),
    }


def row_before(step: Step) -> dict[str, Any]:
    """The copy's row for a member as it was before this run wrote to it."""
    known, wanted = step.known, step.wanted
    return {
        "email": step.email,
        "status": known.status if known else "",
        "fields": known.fields if known else (wanted.fields if wanted else ""),
        "managed": bool(known and known.managed),
        "shared": bool(known and known.shared),
        "tags": joined(known.tags) if known else "",
        "owned_tags": joined(known.owned) if known else "",
        "last_changed": None,
        "archived_by_mcbridge_at": None,
    }


class MirrorUpdates:
    """Changes to the copy while the comparison still streams it: through a connection of
    their own, so the streaming read keeps its snapshot (SQLite WAL, PostgreSQL MVCC) and
    each written chunk is committed as soon as Mailchimp confirmed it."""

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror
        self.connection = db.engine.connect()
        self.uncommitted = 0

    def record(self, steps: list[Step], written: Written) -> None:
        """Write back the rows of the members one call changed, as Mailchimp now has them."""
        subscribed = {email: (status, changed) for email, status, changed in written.members}
        archived = dict(written.archived)
        patched, unsubscribed = set(written.patched), set(written.unsubscribed)
        tagged, untagged = by_email(written.tagged), by_email(written.untagged)
        touched = subscribed.keys() | archived.keys() | patched | unsubscribed
        touched |= tagged.keys() | untagged.keys()
        changed = [step for step in steps if step.email in touched]
        several = [step.email for step in changed if call_count(step, self.mirror.tag) > 1]
        current = self._rows(several)
        rows = []
        for step in changed:
            row = current.get(step.email) or row_before(step)
            if step.email in subscribed:
                after_subscribe(row, step, *subscribed[step.email])
            if step.email in patched and step.wanted is not None:
                row["fields"] = step.wanted.fields
            if step.email in archived:
                row["status"] = "archived"
                row["archived_by_mcbridge_at"] = archived[step.email]
            if step.email in unsubscribed:
                row["status"] = "unsubscribed"
            for tag in tagged.get(step.email, ()):
                with_tag(row, tag, self.mirror.tag)
            for tag in untagged.get(step.email, ()):
                without_tag(row, tag, self.mirror.tag)
            rows.append({**row, "mailing_list_id": self.mirror.list_id})
        save_rows(self.connection, WRITE_COLUMNS[1:], rows)
        self.uncommitted += len(rows)
        if self.uncommitted >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        """Committed in groups: a copy that misses the last few writes after a crash only
        makes the next export send them again, which changes nothing in Mailchimp."""
        self.connection.commit()
        self.uncommitted = 0

    def _rows(self, emails: list[str]) -> dict[str, dict[str, Any]]:
        """Current rows, for members a second call may already have changed in this run."""
        if not emails:
            return {}
        columns = [getattr(AudienceMember, name) for name in WRITE_COLUMNS]
        statement = select(*columns).where(
            AudienceMember.mailing_list_id == self.mirror.list_id,
            AudienceMember.email.in_(emails),
        )
        return {row.email: dict(row._mapping) for row in self.connection.execute(statement)}

    def close(self) -> None:
        self.commit()
        self.connection.close()


def by_email(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = defaultdict(set)
    for email, tag in pairs:
        grouped[email].add(tag)
    return grouped


def after_subscribe(row: dict[str, Any], step: Step, status: str, last_changed: str | None) -> None:
    """A batch subscribe wrote the status and the fields; a new contact also got the list's
    tag and its role tags in the same call."""
    if step.wanted is None:
        return
    row["status"] = status or "subscribed"
    row["fields"] = step.wanted.fields
    row["archived_by_mcbridge_at"] = None
    row["last_changed"] = last_changed
    if step.action is Action.ADD:
        row["managed"] = True
        row["tags"] = joined(names(row["tags"]) | step.add_tags)
        row["owned_tags"] = joined(names(row["owned_tags"]) | step.add_tags)


def with_tag(row: dict[str, Any], tag: str, list_tag: str) -> None:
    if tag == list_tag:
        row["managed"] = True
        return
    row["tags"] = joined(names(row["tags"]) | {tag})
    row["owned_tags"] = joined(names(row["owned_tags"]) | {tag})


def without_tag(row: dict[str, Any], tag: str, list_tag: str) -> None:
    if tag == list_tag:
        row["managed"] = False
        return
    row["tags"] = joined(names(row["tags"]) - {tag})
    row["owned_tags"] = joined(names(row["owned_tags"]) - {tag})


class Mirror:
    """The stored copy of one mailing list's audience."""

    def __init__(self, mailing_list: MailingList, specs: tuple[FieldSpec, ...]) -> None:
        self.mailing_list = mailing_list
        self.list_id = mailing_list.id
        self.specs = specs
        self.tag = mailing_list.managed_tag
        self.managed = 0

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
        """Read members from Mailchimp into the copy; returns how many were read.

        Nothing is concluded from a read that is not proven complete: paging by offset
        while contacts come and go can skip some. Each read counts the distinct members it
        saved and compares them with Mailchimp's total at its start and at its end; when
        they disagree it reads again, and after READ_ATTEMPTS the export stops before
        writing anything.
        """
        since = None if full else self.mailing_list.audience_changed_since
        list_id = self.mailing_list.mailchimp_list_id or ""
        for _attempt in range(READ_ATTEMPTS):
            listing = MemberListing(
                client, list_id, since=since, page_size=page_size, workers=workers
            )
            total, started = listing.start()
            token = uuid.uuid4().hex[:16]
            read = 0
            for page in listing.pages():
                self.save([mirror_row(m, self.specs, self.tag) for m in page], token)
                read += len(page)
                progress(read, total)
            seen, total_now = self._seen(token), listing.total_now()
            if seen == total == total_now:
                break
            db.session.commit()
        else:
            raise IncompleteReadError(total, seen, total_now)
        if full:
            self._forget_unseen(token)
        self._remember_read(started or now_utc(), full)
        db.session.commit()
        return read

    def _seen(self, token: str) -> int:
        """Distinct members one read saved (a member listed twice is saved once)."""
        statement = select(func.count()).where(
            AudienceMember.mailing_list_id == self.list_id, AudienceMember.read_token == token
        )
        return db.session.scalar(statement) or 0

    def _forget_unseen(self, token: str) -> None:
        """After a full read, members Mailchimp no longer lists (deleted for good) go; in
        one statement, without loading them into the session first."""
        db.session.execute(
            delete(AudienceMember)
            .where(
                AudienceMember.mailing_list_id == self.list_id,
                or_(AudienceMember.read_token.is_(None), AudienceMember.read_token != token),
            )
            .execution_options(synchronize_session=False)
        )

    def _remember_read(self, started: datetime, full: bool) -> None:
        """Next time, read what changed since this read began, by Mailchimp's clock (its
        Date header has one-second steps), with a margin: reading a member twice costs
        little, missing one would cost a wrong export."""
        self.mailing_list.audience_changed_since = (started - CLOCK_MARGIN).isoformat()
        if full:
            self.mailing_list.audience_read_at = now()
            self.mailing_list.audience_fields = signature(self.specs)

    def save(self, rows: list[dict[str, Any]], token: str) -> None:
        """Insert or update the rows of one page read from Mailchimp (at most 1,000), by
        address, through the driver (a full read of a large audience is mostly this); what
        only mcbridge knows (the role tags it owns) is kept. `token` marks the read that
        saw them."""
        for row in rows:
            row["mailing_list_id"], row["read_token"] = self.list_id, token
        save_rows(db.session.connection(), READ_COLUMNS[1:], rows)

    def read_in_order(self, batch_size: int = 5000) -> Select[Any]:
        """Every member, sorted by address in code-point order, in batches."""
        return (
            select(
                AudienceMember.email,
                AudienceMember.status,
                AudienceMember.fields,
                AudienceMember.managed,
                AudienceMember.shared,
                AudienceMember.tags,
                AudienceMember.owned_tags,
                AudienceMember.last_changed,
                AudienceMember.archived_by_mcbridge_at,
            )
            .where(AudienceMember.mailing_list_id == self.list_id)
            .order_by(in_binary_order(AudienceMember.email))
            .execution_options(yield_per=batch_size)
        )

    def stream(self) -> Iterator[Known]:
        """Every member, in the order the comparison walks them; Core rows unpacked by
        position, as the recipients' stream is (a million per large export). Once read to
        the end, `managed` holds how many contacts the list manages (added by it, still
        subscribed): the brake's measure, counted on the way rather than by a second read
        of the copy (0.4 s at a million members)."""
        statement = self.read_in_order()
        rows = db.session.connection().execute(statement)
        counted = 0
        for email, status, fields, managed, shared, tags, owned, changed, archived_at in rows:
            if managed and status == "subscribed":
                counted += 1
            yield Known(
                email,
                status,
                fields,
                bool(managed),
                bool(shared),
                names(tags),
                names(owned),
                status == "archived" and archived_by_us(changed, archived_at),
            )
        self.managed = counted


def archived_by_us(last_changed: str | None, archived_at: str | None) -> bool:
    """mcbridge archived the contact, and nobody changed it since (an admin who brought it
    back as unsubscribed and archived it again would have moved `last_changed` on). Both
    are Mailchimp's clock, compared to the second."""
    if archived_at is None:
        return False
    return last_changed is None or last_changed[:19] <= archived_at[:19]
