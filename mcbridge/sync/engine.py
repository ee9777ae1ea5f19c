"""One export of one mailing list to its audience, from the key check to the last write.

The order matters: nothing is written before the key, the audience and the whole audience
copy are known to be right, so a failure early on changes nothing in Mailchimp.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from mcbridge.extensions import db
from mcbridge.mailchimp import connect
from mcbridge.mailchimp.audience import (
    check_audience,
    create_merge_field,
    member_total,
    merge_fields,
)
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import (
    KeyRefusedError,
    MailchimpError,
    NotFoundError,
    UnavailableError,
)
from mcbridge.messages import N_, Message, raw
from mcbridge.models import MailchimpEvent, MailingList, RefusedAddress
from mcbridge.recipients import Recipient, recipients_of
from mcbridge.sync.apply import Target, Written, apply_steps
from mcbridge.sync.bounces import flag_bounces
from mcbridge.sync.fields import FieldSpec, canonical, fields_of, wanted_values
from mcbridge.sync.mirror import Mirror, joined, names
from mcbridge.sync.plan import NO_TAGS, WRITES, Action, Step, Wanted, plan
from mcbridge.sync.result import SyncResult

Progress = Callable[[str, int, int], None]


NO_CONSENT = Message(
    N_(
        "No data-privacy consent was given for this list: tick it on the list's Mailchimp "
        "page before exporting."
    )
)


def export(mailing_list: MailingList, *, dry_run: bool, progress: Progress) -> SyncResult:
    """Export (or, with `dry_run`, only compute) the list's recipients to its audience."""
    result = SyncResult(dry_run=dry_run)
    if not mailing_list.has_consent:
        result.fail(NO_CONSENT, "consent")
        return result
    client = connect(mailing_list.mailchimp_api_key or "")
    try:
        Export(mailing_list, client, result, progress).run()
    except MailchimpError as error:
        db.session.rollback()
        result.fail(error.user_message(), failure_kind(error))
    finally:
        result.reads, result.writes = client.calls.reads, client.calls.writes
        client.close()
    return result


def failure_kind(error: MailchimpError) -> str:
    if isinstance(error, KeyRefusedError):
        return "key"
    if isinstance(error, NotFoundError):
        return "audience"
    if isinstance(error, UnavailableError):
        return "transient"
    return "error"


class Export:
    """The steps of one export; each method is one phase the progress bar names."""

    def __init__(
        self, mailing_list: MailingList, client: Client, result: SyncResult, progress: Progress
    ) -> None:
        self.mailing_list = mailing_list
        self.client = client
        self.result = result
        self.progress = progress
        self.audience_id = mailing_list.mailchimp_list_id or ""
        self.specs: tuple[FieldSpec, ...] = ()
        self.mirror = Mirror(mailing_list, self.specs)
        self.config = current_app.config

    def run(self) -> None:
        self.progress("checking", 0, 0)
        check_audience(self.client, self.audience_id)
        self.specs = self.ensure_fields()
        self.mirror = Mirror(self.mailing_list, self.specs)
        self.read_audience()
        writes = self.compare()
        if writes and not self.result.dry_run:
            self.write(writes)

    def ensure_fields(self) -> tuple[FieldSpec, ...]:
        """The list's fields with the audience's own types; missing ones are created (a
        preview only says it would). A field whose type differs keeps Mailchimp's type:
        values that do not fit it are left out and reported, person by person."""
        existing = {
            field.tag: (field.type, tuple(field.options.get("choices") or ()))
            for field in merge_fields(self.client, self.audience_id)
        }
        specs = fields_of(self.mailing_list, existing)
        for spec in specs:
            if spec.tag not in existing:
                self.create_field(spec)
        return specs

    def create_field(self, spec: FieldSpec) -> None:
        if self.result.dry_run:
            self.result.notes.append(
                Message(N_("The merge field %(tag)s would be created."), {"tag": spec.tag})
            )
            return
        create_merge_field(self.client, self.audience_id, spec.creation())

    def read_audience(self) -> None:
        total = member_total(self.client, self.audience_id)
        full = self.mirror.needs_full_read(total, datetime.now(UTC).replace(tzinfo=None))
        self.progress("reading", 0, total)
        self.mirror.refresh(
            self.client,
            full=full,
            page_size=int(self.config["MAILCHIMP_PAGE_SIZE"]),
            workers=int(self.config["MAILCHIMP_MAX_CONNECTIONS"]),
            progress=lambda done, of: self.progress("reading", done, of),
        )
        flag_bounces(self.mailing_list.id)

    def compare(self) -> list[Step]:
        """Walk recipients and audience together; keep the steps that write."""
        needs_roles = self.mailing_list.role_tags or any(s.source == "groups" for s in self.specs)
        recipients = recipients_of(self.mailing_list, with_roles=needs_roles)
        self.result.counts["skipped_no_email"] = db.session.scalar(
            select(func.count()).select_from(recipients.skipped().subquery())
        )
        self.progress("comparing", 0, 0)
        refused, held = self.refused_addresses(), self.held_addresses()
        wanted = self.wanted(recipients.stream(db.session, by_address=True))
        writes: list[Step] = []
        for step in plan(wanted, self.mirror.stream(), refused, held):
            self.result.planned(step)
            if step.action in WRITES:
                writes.append(step)
        self.result.writes_planned = len(writes)
        return writes

    def wanted(self, recipients: Iterator[Recipient]) -> Iterator[Wanted]:
        with_names = self.result.dry_run
        role_tags = self.mailing_list.role_tags
        for recipient in recipients:
            values, problems = wanted_values(self.specs, recipient)
            for problem in problems:
                self.result.issue(recipient.email, "field", problem)
            name = ""
            if with_names:
                name = " ".join(filter(None, (recipient.first_name, recipient.last_name)))
            tags = frozenset(recipient.role_names) if role_tags else NO_TAGS
            yield Wanted(recipient.email, canonical(values), tags, name)

    def refused_addresses(self) -> set[str]:
        statement = select(RefusedAddress.email).where(
            RefusedAddress.mailing_list_id == self.mailing_list.id
        )
        return set(db.session.scalars(statement))

    def held_addresses(self) -> set[str]:
        """Old addresses of changes made in Mailchimp that a leader has yet to review."""
        statement = select(MailchimpEvent.email).where(
            MailchimpEvent.mailing_list_id == self.mailing_list.id,
            MailchimpEvent.kind == "upemail",
            MailchimpEvent.review == "open",
        )
        return set(db.session.scalars(statement))

    def write(self, writes: list[Step]) -> None:
        target = Target(
            client=self.client,
            list_id=self.audience_id,
            tag=self.mailing_list.managed_tag,
            workers=int(self.config["MAILCHIMP_MAX_CONNECTIONS"]),
            batch_threshold=int(self.config["MAILCHIMP_BATCH_ARCHIVE_THRESHOLD"]),
            batch_poll=float(self.config["MAILCHIMP_BATCH_POLL"]),
            batch_timeout=float(self.config["MAILCHIMP_BATCH_TIMEOUT"]),
        )
        self.progress("writing", 0, len(writes))
        written = apply_steps(target, writes, lambda done, of: self.progress("writing", done, of))
        self.account(written, {step.email: step for step in writes})

    def account(self, written: Written, steps: dict[str, Step]) -> None:
        """Fold what Mailchimp actually did into the counts and the audience copy."""
        for email, reason, message in written.refused:
            self.moved(steps, email, "refused")
            self.result.refuse(email, reason, raw(message))
        for email in written.unsubscribed:
            self.moved(steps, email, "kept_unsubscribed")
        for email, message in written.failed:
            self.moved(steps, email, "errors")
            self.result.issue(email, "error", message)
        self.mirror.save(self.mirror_rows(written, steps))
        db.session.commit()

    def moved(self, steps: dict[str, Step], email: str, counter: str) -> None:
        if email in steps:
            self.result.moved(steps[email].action, counter)

    def mirror_rows(self, written: Written, steps: dict[str, Step]) -> Iterator[dict[str, Any]]:
        """The copy's rows for every member this run changed, as Mailchimp now has them."""
        rows = {email: current_row(step) for email, step in steps.items()}
        for email, status, last_changed in written.members:
            step = steps.get(email)
            if step is not None and step.wanted is not None:
                rows[email] = {**rows[email], **subscribed_row(step, status, last_changed)}
        for email in written.archived:
            rows[email]["status"] = "archived"
        for email in written.unsubscribed:
            rows[email]["status"] = "unsubscribed"
        for email, tag in written.untagged:
            drop_tag(rows[email], tag, self.mailing_list.managed_tag)
        changed = {email for email, *_ in written.members} | set(written.archived)
        changed |= set(written.unsubscribed) | {email for email, _ in written.untagged}
        return (rows[email] for email in changed if email in rows)


def current_row(step: Step) -> dict[str, Any]:
    """The audience copy's row for a member before this run's write changed it."""
    known, wanted = step.known, step.wanted
    return {
        "email": step.email,
        "status": known.status if known else "",
        "fields": known.fields if known else (wanted.fields if wanted else "{}"),
        "managed": bool(known and known.managed),
        "shared": bool(known and known.shared),
        "tags": joined(known.tags) if known else "",
        "owned_tags": joined(known.owned) if known else "",
        "last_changed": None,
    }


def subscribed_row(step: Step, status: str, last_changed: str | None) -> dict[str, Any]:
    """After a batch subscribe: the fields sent, the tags added, the list's tag if given."""
    assert step.wanted is not None
    known = step.known
    tags = (known.tags if known else frozenset()) | step.add_tags
    owned = (known.owned if known else frozenset()) | step.add_tags
    return {
        "status": status or "subscribed",
        "fields": step.wanted.fields,
        "managed": step.action is not Action.UPDATE
        or bool(known and (known.managed or known.shared)),
        "tags": joined(tags),
        "owned_tags": joined(owned),
        "last_changed": last_changed,
    }


def drop_tag(row: dict[str, Any], tag: str, list_tag: str) -> None:
    if tag == list_tag:
        row["managed"] = False
        return
    row["tags"] = joined(names(row["tags"]) - {tag})
    row["owned_tags"] = joined(names(row["owned_tags"]) - {tag})
