"""The one clock of mcbridge: every "now" and "today" is read here.

Moments are stored in UTC without a zone (the database columns have none), so `now` is
what gets stored and compared; `now_utc` carries the zone for comparisons with
Mailchimp's zoned times. "Today" is the UTC date, the same day boundary as the stored
moments. Reading the time in one place keeps those conventions from drifting apart
between modules. The Mailchimp sandbox keeps a clock of its own (it plays Mailchimp).
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def now_utc() -> datetime:
    """This moment, in UTC, with its zone."""
    return datetime.now(UTC)


def now() -> datetime:
    """This moment, in UTC without a zone: how moments are stored."""
    return now_utc().replace(tzinfo=None)


def today() -> date:
    """Today's date in UTC: what decides whether a role is active."""
    return now().date()
