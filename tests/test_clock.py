"""The one clock: "today" is the organisation's calendar day, in the installation's zone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from mcbridge.extensions import db
from tests import factories as make


def zone_on_another_day() -> tuple[str, date]:
    """A zone whose date is not UTC's at this moment, and its date there. There always is
    one: the zones from UTC-12 to UTC+14 span 26 hours, so whatever the hour in UTC, one
    end of them has already passed midnight or not yet reached it."""
    now = datetime.now(UTC)
    for name in ("Etc/GMT-14", "Etc/GMT+12"):  # UTC+14 and UTC-12: POSIX signs are inverted
        local_day = now.astimezone(ZoneInfo(name)).date()
        if local_day != now.date():
            return name, local_day
    raise AssertionError("every hour of the day has a zone on another day")


def recipient_addresses(runner, list_id: int) -> list[str]:
    listing = runner.invoke(args=["mcbridge", "recipients", str(list_id)]).output.lstrip("\ufeff")
    return [row["Email"] for row in csv.DictReader(io.StringIO(listing))]


def test_a_role_of_today_counts_on_the_organisations_calendar_not_utcs(app, runner):
    """Near midnight the organisation's day and UTC's differ: a role that ends (or starts)
    on the organisation's today still reaches its lists until midnight there."""
    zone, local_today = zone_on_another_day()
    app.config["MCBRIDGE_TIMEZONE"] = zone
    club = make.group("Club")
    helper = make.role_type("Helper")
    anna = make.person("Anna", email="anna@club-mail.ch")
    make.role(anna, club, helper, start_on=local_today, end_on=local_today)
    newsletter = make.mailing_list(club, "Club news")
    make.role_rule(newsletter, club, helper)
    db.session.commit()

    assert recipient_addresses(runner, newsletter.id) == ["anna@club-mail.ch"]
