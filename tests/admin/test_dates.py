"""Dates typed and shown the way the user's language writes them; times with their zone;
numbers grouped as the user's language groups them."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape

from mcbridge.admin import exports
from mcbridge.extensions import db
from mcbridge.models import Person, SyncRun
from tests.helpers import post_form


def speaking(client, user, language: str):
    user.locale = language
    db.session.commit()
    return client


def edit_birthday(client, person: Person, typed: str):
    url = f"/admin/people/edit/?id={person.id}"
    fields = {"first_name": person.first_name, "last_name": person.last_name, "birthday": typed}
    return post_form(client, url, fields)


def birthday_of(person: Person) -> date | None:
    db.session.expire_all()
    return db.session.get(Person, person.id).birthday


@pytest.mark.parametrize("language", ["fr", "de", "en"])
@pytest.mark.parametrize("typed", ["15.03.1990", "1990-03-15", " 15.3.1990 "])
def test_a_date_is_read_as_typed_in_the_users_language_or_as_iso(as_admin, org, language, typed):
    response = edit_birthday(speaking(as_admin, org.admin, language), org.alice, typed)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert birthday_of(org.alice) == date(1990, 3, 15)


def test_french_slashes_are_read_day_first(as_admin, org):
    edit_birthday(speaking(as_admin, org.admin, "fr"), org.alice, "01/03/1990")

    assert birthday_of(org.alice) == date(1990, 3, 1)


@pytest.mark.parametrize(
    ("typed", "problem", "variables"),
    [
        ("31.02.1990", "“%(value)s” is not a day of the calendar.", {}),
        (
            "15.03.90",
            "“%(value)s”: write the year with its four digits, for example %(example)s.",
            {"example": "15.03.1990"},
        ),
        (
            "March 15",
            "“%(value)s” is not a date: write it as %(format)s, for example %(example)s.",
            {"format": "TT.MM.JJJJ", "example": "15.03.1990"},
        ),
    ],
)
def test_a_date_that_cannot_be_read_is_explained_and_nothing_is_lost(
    as_admin, org, typed, problem, variables
):
    org.alice.birthday = date(1980, 1, 2)
    db.session.commit()

    response = edit_birthday(speaking(as_admin, org.admin, "de"), org.alice, typed)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    with force_locale("de"):
        explained = gettext(problem, value=typed, **variables)
    assert explained != problem % {"value": typed, **variables}  # said in German
    assert escape(explained) in page
    assert f'value="{typed}"' in page
    assert birthday_of(org.alice) == date(1980, 1, 2)


def test_the_date_field_shows_the_expected_form_and_the_picker_writes_it(as_admin, org):
    org.alice.birthday = date(1990, 3, 15)
    db.session.commit()

    page = speaking(as_admin, org.admin, "fr").get(f"/admin/people/edit/?id={org.alice.id}")

    html = page.get_data(as_text=True)
    shown = ('value="15.03.1990"', 'data-date-format="DD.MM.YYYY"', 'placeholder="JJ.MM.AAAA"')
    assert all(text in html for text in shown)
    assert "janvier" in html  # the picker's month names, from the server (date-locale.js)


def test_dates_and_times_on_lists_follow_the_language_and_name_the_time_zone(as_admin, org):
    org.admin.last_login_at = datetime(2026, 1, 15, 13, 5, 7, 123456)  # UTC
    org.alice_role.start_on = date(2026, 3, 1)
    db.session.commit()

    users = speaking(as_admin, org.admin, "de").get("/admin/users/").get_data(as_text=True)
    roles = as_admin.get("/admin/roles/").get_data(as_text=True)

    assert "15.01.2026, 14:05:07 (MEZ)" in users  # Zurich's winter time
    assert "123456" not in users
    assert "01.03.2026" in roles


def test_run_counts_are_grouped_the_way_the_language_groups_numbers(as_admin, org):
    db.session.add(
        SyncRun(
            mailing_list=org.north_list,
            trigger="cli",
            state="success",
            created_at=datetime(2026, 7, 1, 8, 0),
            started_at=datetime(2026, 7, 1, 8, 0),
            finished_at=datetime(2026, 7, 1, 8, 0, 2, 500000),
            added=12345,
        )
    )
    db.session.commit()

    history = speaking(as_admin, org.admin, "de").get(f"/admin/exports/{org.north_list.id}/history")

    html = history.get_data(as_text=True)
    assert "12.345" in html
    assert "2,5 s" in html
    assert "01.07.2026, 10:00:00 (MEZ)" in html


def test_the_export_history_is_paged_newest_first_in_the_users_language(as_admin, org, monkeypatch):
    monkeypatch.setattr(exports, "HISTORY_PAGE", 2)
    for day in (1, 2, 3):
        started = datetime(2026, 7, day, 8, 0)
        db.session.add(
            SyncRun(mailing_list=org.north_list, trigger="cli", state="success",
                    created_at=started, started_at=started, finished_at=started, added=day)
        )  # fmt: skip
    db.session.commit()
    history = f"/admin/exports/{org.north_list.id}/history"

    first = speaking(as_admin, org.admin, "de").get(history).get_data(as_text=True)
    second = as_admin.get(history, query_string={"page": 2}).get_data(as_text=True)

    assert days_of_july(first) == ["03", "02"]
    assert "Seite 1 von 2" in first
    assert f'href="{history}?page=2"' in first
    assert days_of_july(second) == ["01"]
    assert "Seite 2 von 2" in second


def days_of_july(page: str) -> list[str]:
    """The days of July 2026 a page shows, latest first."""
    return sorted(set(re.findall(r"\b(\d\d)\.07\.2026", page)), reverse=True)
