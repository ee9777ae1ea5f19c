"""What mcbridge knows of each linked audience, and the record of every export run."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DDL,
    JSON,
    ForeignKey,
    Index,
    Select,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mcbridge.models.base import Base, named, ref, table_name

if TYPE_CHECKING:
    from mcbridge.models.mailing_lists import MailingList
    from mcbridge.models.users import User

RUN_STATES = ("queued", "running", "unchanged", "success", "partial", "failed", "held")
UNFINISHED_STATES = ("queued", "running")
# "held": stopped by the brake before writing anything, waiting for a leader's confirmation.
FINISHED_STATES = ("unchanged", "success", "partial", "failed", "held")
UNLINK_KEEP, UNLINK_ARCHIVE = "keep", "archive"
COUNTERS = (
    "added",
    "resubscribed",
    "updated",
    "adopted",
    "archived",
    "untagged",
    "kept_unsubscribed",
    "archived_elsewhere",
    "already_in_audience",
    "bounced",
    "pending",
    "skipped_no_email",
    "refused",
    "errors",
    "unchanged_members",
)


class SyncRun(Base):
    """One export (or preview) of a mailing list to its audience: who started it, what it did."""

    __tablename__ = table_name("sync_runs")
    __table_args__ = (
        Index(named("ix", "sync_runs_list_started"), "mailing_list_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE")
    )
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(10))
    triggered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(ref("users"), ondelete="SET NULL")
    )
    # Who started it, as the identity named them (a host's user has no account row).
    triggered_by_label: Mapped[str | None] = mapped_column(String(255))
    dry_run: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    failure: Mapped[str | None] = mapped_column(String(10))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    added: Mapped[int] = mapped_column(default=0)
    resubscribed: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    # Contacts already in the audience that the run tagged as the list's (see `adoption`).
    adopted: Mapped[int] = mapped_column(default=0, server_default="0")
    archived: Mapped[int] = mapped_column(default=0)
    untagged: Mapped[int] = mapped_column(default=0)
    kept_unsubscribed: Mapped[int] = mapped_column(default=0)
    archived_elsewhere: Mapped[int] = mapped_column(default=0, server_default="0")
    already_in_audience: Mapped[int] = mapped_column(default=0, server_default="0")
    bounced: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    skipped_no_email: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    unchanged_members: Mapped[int] = mapped_column(default=0)
    write_calls: Mapped[int] = mapped_column(default=0)
    read_calls: Mapped[int] = mapped_column(default=0)
    preview: Mapped[dict | None] = mapped_column(JSON)
    # Set on the run that records a leader unlinking the list: what they chose for its
    # contacts in Mailchimp (UNLINK_KEEP or UNLINK_ARCHIVE), kept in its export history.
    unlink_choice: Mapped[str | None] = mapped_column(String(10))
    # Set on a run a leader confirmed past the brake: the archives and changes of the held
    # run they saw, which this run may make (and not materially more).
    allowed_archives: Mapped[int | None]
    allowed_changes: Mapped[int | None]

    mailing_list: Mapped[MailingList] = relationship()
    triggered_by: Mapped[User | None] = relationship()
    issues: Mapped[list[SyncIssue]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="SyncIssue.id"
    )

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def archives_on_unlink(self) -> bool:
        """The run archives the contacts the list manages, then unlinks it."""
        return self.unlink_choice == UNLINK_ARCHIVE

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SyncIssue(Base):
    """An address Mailchimp refused, or that could not be written, during one run."""

    __tablename__ = table_name("sync_issues")

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey(ref("sync_runs"), ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)

    run: Mapped[SyncRun] = relationship(back_populates="issues")


class AudienceMember(Base):
    """mcbridge's copy of one member of a list's audience, as of the last read or write.

    Keeping it lets a daily run read only what changed in Mailchimp since the last one, and
    lets the diff stream both sides sorted by address instead of holding them in memory.
    """

    __tablename__ = table_name("audience_members")
    __table_args__ = (
        UniqueConstraint("mailing_list_id", "email"),
        # Every export flags the addresses its audience reports as cleaned (a handful):
        # without it, a scan of the list's whole copy, twice (0.6 s at a million members).
        Index(
            named("ix", "audience_members_cleaned"),
            "mailing_list_id",
            postgresql_where=text("status = 'cleaned'"),
            sqlite_where=text("status = 'cleaned'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20))
    fields: Mapped[str] = mapped_column(Text, default="")
    managed: Mapped[bool] = mapped_column(default=False)
    shared: Mapped[bool] = mapped_column(default=False)
    tags: Mapped[str] = mapped_column(Text, default="", server_default="")
    owned_tags: Mapped[str] = mapped_column(Text, default="", server_default="")
    read_token: Mapped[str | None] = mapped_column(String(16))
    last_changed: Mapped[str | None] = mapped_column(String(40))
    archived_by_mcbridge_at: Mapped[str | None] = mapped_column(String(40))


# The export reads the copy by address in code-point order (`in_binary_order`). PostgreSQL
# sorts by the database's collation otherwise: without this index it sorted a list's whole
# copy for each export, on disk at a million members (2.0 s; 0.6 s read off the index).
# SQLite's own order is already by code point. No model describes it (an index column's
# collation is not reflected, so comparisons would see a change each time): revision
# f0a1b2c3d4e5 and `create_all` (below) build it, and comparisons leave it out.
CODE_POINT_ORDER_INDEX = named("ix", "audience_members_in_code_point_order")
event.listen(
    AudienceMember.__table__,
    "after_create",
    DDL(
        f'CREATE INDEX {CODE_POINT_ORDER_INDEX} ON %(table)s (mailing_list_id, email COLLATE "C")'
    ).execute_if(dialect="postgresql"),
)


class MailchimpEvent(Base):
    """Something that happened to an address in Mailchimp, told by a webhook or seen by a
    sync: an unsubscribe, a bounce, a changed address (kept for review), a profile edit."""

    __tablename__ = table_name("mailchimp_events")
    __table_args__ = (
        UniqueConstraint(
            "mailing_list_id", "kind", "email", "fired_at", name=named("uq", "event_once")
        ),
        Index(named("ix", "mailchimp_events_list_email"), "mailing_list_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    new_email: Mapped[str | None] = mapped_column(String(254))
    fired_at: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(10))
    details: Mapped[dict | None] = mapped_column(JSON)
    received_at: Mapped[datetime]
    review: Mapped[str | None] = mapped_column(String(10))

    mailing_list: Mapped[MailingList] = relationship()

    @classmethod
    def open_changes(cls, mailing_list_id: int) -> Select[tuple[MailchimpEvent]]:
        """The list's changes still waiting for a leader's review, oldest first: shown on
        its subscriber view, decided there, and held back from its exports meanwhile."""
        return (
            select(cls)
            .where(cls.mailing_list_id == mailing_list_id, cls.review == "open")
            .order_by(cls.id)
        )


class BringBackRequest(Base):
    """A leader asking that a contact archived in Mailchimp by someone else be subscribed
    again by the next export: on record, because Mailchimp does not say whether that
    person had unsubscribed before being archived."""

    __tablename__ = table_name("bring_back_requests")
    __table_args__ = (Index(named("ix", "bring_back_list_email"), "mailing_list_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(254))
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(ref("users"), ondelete="SET NULL")
    )
    requested_by_label: Mapped[str | None] = mapped_column(String(255))
    requested_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    requested_by: Mapped[User | None] = relationship()


class PendingBatch(Base):
    """A /batches job Mailchimp had not finished when its export stopped waiting: the next
    export reads its results before anything else, instead of counting it as failed."""

    __tablename__ = table_name("pending_batches")

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[str] = mapped_column(String(40))
    submitted_at: Mapped[datetime]


class RefusedAddress(Base):
    """An address Mailchimp refuses for good for this list's audience; later runs skip it."""

    __tablename__ = table_name("refused_addresses")
    __table_args__ = (UniqueConstraint("mailing_list_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    refused_at: Mapped[datetime]

    @classmethod
    def of_list(cls, mailing_list_id: int) -> Select[tuple[RefusedAddress]]:
        """The list's refused addresses, by address, as the export history lists them."""
        return select(cls).where(cls.mailing_list_id == mailing_list_id).order_by(cls.email)

    @classmethod
    def emails_of(cls, mailing_list_id: int) -> Select[tuple[str]]:
        """The addresses exports of the list skip (and the subscriber view counts)."""
        return select(cls.email).where(cls.mailing_list_id == mailing_list_id)
