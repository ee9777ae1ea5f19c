"""/batches jobs an earlier export stopped waiting for: read before anything else.

Their archives are recorded as mcbridge's own (with the time Mailchimp finished them), so
that a contact they archived can be brought back like any other; a job Mailchimp is still
running stays pending and is looked at again next time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from mcbridge.extensions import db
from mcbridge.mailchimp.audience import batch_outcome, batch_status
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import MailchimpError, NotFoundError
from mcbridge.messages import N_, Message
from mcbridge.models import AudienceMember, MailingList, PendingBatch
from mcbridge.sync.apply import ARCHIVE_OPERATION, moment, operation_of
from mcbridge.sync.result import SyncResult

STILL_PENDING = N_("Mailchimp is still running the batch %(batch)s of an earlier export.")


def settle_pending_batches(mailing_list: MailingList, client: Client, result: SyncResult) -> None:
    """Record what finished batches did and forget them; the export commits."""
    pending = db.session.scalars(
        select(PendingBatch).where(PendingBatch.mailing_list_id == mailing_list.id)
    ).all()
    for batch in pending:
        try:
            status = batch_status(client, batch.batch_id)
        except NotFoundError:
            db.session.delete(batch)
            continue
        if status.get("status") != "finished":
            result.notes.append(Message(STILL_PENDING, {"batch": batch.batch_id}))
            continue
        try:
            record_archives(mailing_list.id, client, status)
        except MailchimpError:
            result.notes.append(Message(STILL_PENDING, {"batch": batch.batch_id}))
            continue
        db.session.delete(batch)


def record_archives(mailing_list_id: int, client: Client, status: dict[str, Any]) -> None:
    outcome = batch_outcome(client, status)
    operations = [(operation_of(result), result.status_code) for result in outcome.results]
    deletes = [
        email for (kind, email), status in operations if kind == ARCHIVE_OPERATION and status < 400
    ]
    if deletes:
        db.session.execute(
            update(AudienceMember)
            .where(
                AudienceMember.mailing_list_id == mailing_list_id,
                AudienceMember.email.in_(deletes),
            )
            .values(status="archived", archived_by_mcbridge_at=moment(outcome.completed_at))
        )
