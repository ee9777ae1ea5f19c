"""Sandbox audiences pre-filled to a chosen state, written straight into the sandbox's data
file before it starts: through the API, filling a million members would take longer than
the export being measured.

- `empty`: a new audience, as for a list's first export.
- `exported`: what an earlier export (by another installation, or before the database was
  lost) left: every recipient subscribed with the list's tag and current names, except one
  in 50 who has since unsubscribed; plus one contact in 20 who signed up by themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcbridge_sandbox import SandboxData

from mcbridge.extensions import db
from mcbridge.models import MailingList
from mcbridge.recipients import recipients_of

STATES = ("empty", "exported")
UNSUBSCRIBED_EVERY = 50
SIGNED_UP_EVERY = 20


def prefill(data: str, key: str, name: str, state: str, mailing_list: MailingList) -> str:
    """A new audience of the account in the sandbox's data file; returns its id."""
    with SandboxData(data) as sandbox:
        audience_id = sandbox.add_audience(key, name)
        if state == "exported":
            sandbox.bulk_load_members(audience_id, exported_members(mailing_list))
    return audience_id


def exported_members(mailing_list: MailingList) -> Iterator[dict[str, Any]]:
    tag = mailing_list.managed_tag
    recipients = recipients_of(mailing_list).stream(db.session)
    for number, recipient in enumerate(recipients):
        names = {"FNAME": recipient.first_name or "", "LNAME": recipient.last_name or ""}
        unsubscribed = number % UNSUBSCRIBED_EVERY == 0
        yield {
            "email_address": recipient.email,
            "status": "unsubscribed" if unsubscribed else "subscribed",
            "merge_fields": names,
            "tags": [tag],
        }
        if number % SIGNED_UP_EVERY == 0:
            yield {"email_address": f"reader.{number}@newsletter-signup.ch", "merge_fields": names}
