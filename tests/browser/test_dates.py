"""The date picker speaks the page's language: its month and day names, the first day of
its weeks, and the form of the date it writes, which the form then reads back."""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import get_day_names, get_month_names
from playwright.sync_api import expect

from mcbridge.extensions import db
from mcbridge.models import Person
from tests.browser.helpers import follow, labelled, sign_in, t, ta, visit

WRITTEN = {"en": "1990-03-15", "fr": "15.03.1990", "de": "15.03.1990"}


def test_the_date_picker_speaks_the_pages_language(page, club, language):
    anna = club.people[0]
    anna.birthday = date(1990, 3, 1)
    db.session.commit()
    sign_in(page, language, club.leader.email)
    visit(page, f"/admin/people/edit/?id={anna.id}")

    labelled(page, t(language, "Birthday")).click()

    picker = page.locator(".daterangepicker:visible")
    march = get_month_names("abbreviated", locale=language)[3]
    expect(picker.locator("th.month").first).to_contain_text(march)
    locale = Locale.parse(language)
    first_day = get_day_names("short", locale=locale)[locale.first_week_day]
    expect(picker.locator("thead tr").nth(1).locator("th").first).to_have_text(first_day)
    picker.locator("td.available:not(.off)", has_text="15").first.click()
    expect(labelled(page, t(language, "Birthday"))).to_have_value(WRITTEN[language])

    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))

    db.session.expire_all()
    assert db.session.get(Person, anna.id).birthday == date(1990, 3, 15)
