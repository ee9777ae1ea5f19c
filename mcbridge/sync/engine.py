"""One export of one mailing list to its audience, from the key check to the last write.

The order matters: nothing is written before the key, the audience and the whole audience
copy are known to be right, so a failure early on changes nothing in Mailchimp.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext
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
from mcbridge.mailchimp.errors import MailchimpError
from mcbridge.models import MailingList, RefusedAddress
from mcbridge.recipients import Recipient, recipients_of
from mcbridge.sync.apply import Target, Written, apply_steps
from mcbridge.sync.fields import FieldSpec, canonical, fields_of, wanted_values
from mcbridge.sync.mirror import Mirror
from mcbridge.sync.plan import WRITES, Action, Step, Wanted, plan
from mcbridge.sync.result import SyncResult

Progress = Callable[[str, int, int], None]


class FieldConflictError(MailchimpError):
    def user_message(self) -> str:
        return self.detail


def export(mailing_list: MailingList, *, dry_run: bool, progress: Progress) -> SyncResult:
    """Export (or, with `dry_run`, only compute) the list's recipients to its audience."""
    result = SyncResult(dry_run=dry_run)
    client = connect(mailing_list.mailchimp_api_key or "")
    try:
        Export(mailing_list, client, result, progress).run()
    except MailchimpError as error:
        db.session.rollback()
        result.fail(error.user_message())
    finally:
        result.reads, result.writes = client.calls.reads, client.calls.writes
        client.close()
    return result


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
        self.specs = fields_of(mailing_list)
        self.mirror = Mirror(mailing_list, self.specs)
        self.config = current_app.config

    def run(self) -> None:
        self.progress("checking", 0, 0)
        check_audience(self.client, self.audience_id)
        self.ensure_fields()
        self.read_audience()
        writes = self.compare()
        if writes and not self.result.dry_run:
            self.write(writes)

    def ensure_fields(self) -> None:
        """Create the merge fields mcbridge fills when the audience lacks them (a preview only
        says it would); a field of the same tag but another type is a conflict to fix."""
        existing = {field.tag: field for field in merge_fields(self.client, self.audience_id)}
        for spec in self.specs:
            found = existing.get(spec.tag)
            if found is not None and found.type != spec.type:
                raise FieldConflictError(
                    None,
                    detail=gettext(
                        "The audience's merge field %(tag)s has the type “%(found)s” but "
                        "mcbridge fills it with “%(wanted)s”. Change or rename it in Mailchimp.",
                        tag=spec.tag,
                        found=found.type,
                        wanted=spec.type,
                    ),
                )
            if found is None:
                self.create_field(spec)

    def create_field(self, spec: FieldSpec) -> None:
        if self.result.dry_run:
            self.result.notes.append(
                gettext("The merge field %(tag)s would be created.", tag=spec.tag)
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

    def compare(self) -> list[Step]:
        """Walk recipients and audience together; keep the steps that write."""
        recipients = recipients_of(self.mailing_list)
        self.result.counts["skipped_no_email"] = db.session.scalar(
            select(func.count()).select_from(recipients.skipped().subquery())
        )
        self.progress("comparing", 0, 0)
        refused = self.refused_addresses()
        wanted = self.wanted(recipients.stream(db.session, by_address=True))
        writes: list[Step] = []
        for step in plan(wanted, self.mirror.stream(), refused):
            self.result.planned(step)
            if step.action in WRITES:
                writes.append(step)
        self.result.writes_planned = len(writes)
        return writes

    def wanted(self, recipients: Iterator[Recipient]) -> Iterator[Wanted]:
        with_names = self.result.dry_run
        for recipient in recipients:
            name = ""
            if with_names:
                name = " ".join(filter(None, (recipient.first_name, recipient.last_name)))
            yield Wanted(recipient.email, canonical(wanted_values(self.specs, recipient)), name)

    def refused_addresses(self) -> set[str]:
        statement = select(RefusedAddress.email).where(
            RefusedAddress.mailing_list_id == self.mailing_list.id
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
            self.result.refuse(email, reason, message)
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
        answers = {str(m.get("email_address", "")).lower(): m for m in written.members}
        for email, answer in answers.items():
            step = steps.get(email)
            if step is None or step.wanted is None:
                continue
            known = step.known
            yield {
                "email": email,
                "status": answer.get("status", "subscribed"),
                "fields": step.wanted.fields,
                "managed": step.action is not Action.UPDATE
                or bool(known and (known.managed or known.shared)),
                "shared": bool(known and known.shared),
                "last_changed": answer.get("last_changed"),
            }
        for emails, change in (
            (written.archived, {"status": "archived"}),
            (written.untagged, {"managed": False}),
            (written.unsubscribed, {"status": "unsubscribed"}),
        ):
            for email in emails:
                if email in steps:
                    yield {**current_row(steps[email]), **change}


def current_row(step: Step) -> dict[str, Any]:
    """The audience copy's row for a member before this run's write changed it."""
    known, wanted = step.known, step.wanted
    return {
        "email": step.email,
        "status": known.status if known else "",
        "fields": known.fields if known else (wanted.fields if wanted else "{}"),
        "managed": bool(known and known.managed),
        "shared": bool(known and known.shared),
        "last_changed": None,
    }
