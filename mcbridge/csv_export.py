"""Recipients as CSV, streamed: the spreadsheet download and `flask mcbridge recipients`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_babel import gettext
from sqlalchemy.orm import Session

from mcbridge.recipients import Recipients


def csv_lines(recipients: Recipients, rules: dict[int, str], session: Session) -> Iterator[str]:
    """The CSV, streamed row by row so a large list never sits in memory.

    It starts with a byte-order mark because spreadsheet programs otherwise misread accents.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            gettext("Email"),
            gettext("First name"),
            gettext("Last name"),
            gettext("Nickname"),
            gettext("Company"),
            gettext("Address"),
            gettext("Reached by"),
        ]
    )
    yield "\ufeff" + pop(buffer)
    kinds = {True: gettext("primary"), False: gettext("delivery address")}
    for recipient in recipients.stream(session):
        writer.writerow(
            [
                recipient.email,
                recipient.first_name or "",
                recipient.last_name or "",
                recipient.nickname or "",
                recipient.company or "",
                kinds[recipient.primary],
                rules.get(recipient.via_subscription_id, ""),
            ]
        )
        yield pop(buffer)


def pop(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
