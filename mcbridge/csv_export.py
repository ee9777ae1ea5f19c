"""Recipients as CSV, streamed: the spreadsheet download and `flask mcbridge recipients`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_babel import gettext
from sqlalchemy.orm import Session

from mcbridge.recipients import Recipients

# What makes a spreadsheet read a cell as a formula (a tab or carriage return first hides it).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """The cell a spreadsheet shows as typed: names, companies and groups are typed by anyone,
    and one starting like a formula ("=HYPERLINK(…)") would run when the file is opened.
    A leading single quote makes it text (OWASP's advice against CSV injection)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


class SafeWriter:
    """A CSV writer of text cells only. Every cell is quoted as well, so that a spreadsheet
    splitting lines at semicolons (French and German settings) keeps each cell whole."""

    def __init__(self, buffer: io.StringIO) -> None:
        self.writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)

    def writerow(self, cells: list[str]) -> None:
        self.writer.writerow([spreadsheet_safe(cell) for cell in cells])


def csv_lines(recipients: Recipients, rules: dict[int, str], session: Session) -> Iterator[str]:
    """The CSV, streamed row by row so a large list never sits in memory.

    It starts with a byte-order mark because spreadsheet programs otherwise misread accents.
    """
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
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
