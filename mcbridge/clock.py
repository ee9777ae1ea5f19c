"""The one clock of mcbridge: every "now" and "today" is read here.

Moments are stored in UTC without a zone (the database columns have none), so `now` is
what gets stored and compared; `now_utc` carries the zone for comparisons with
Mailchimp's zoned times. "Today" is the date in the installation's zone (MCBRIDGE_TIMEZONE):
roles start and end on the organisation's calendar days, so a role ending today is active
until midnight there, not until midnight in UTC. Reading the time in one place keeps those
conventions from drifting apart between modules. The Mailchimp sandbox keeps a clock of its
own (it plays Mailchimp).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def now_utc() -> datetime:
    """This moment, in UTC, with its zone."""
    return datetime.now(UTC)


def now() -> datetime:
    """This moment, in UTC without a zone: how moments are stored."""
    return now_utc().replace(tzinfo=None)


def today() -> date:
    """Today in the installation's zone (MCBRIDGE_TIMEZONE): what decides whether a role is
    active. Outside an app (no settings to read) the UTC date."""
    if not has_app_context():
        return now_utc().date()
    return now_utc().astimezone(ZoneInfo(current_app.config["MCBRIDGE_TIMEZONE"])).date()
