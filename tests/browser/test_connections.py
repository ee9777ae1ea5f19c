"""An administrator adds a Mailchimp connection with the key Mailchimp gave, and gives its
audience to the club, whose leader may then link a list to it."""

from __future__ import annotations

from playwright.sync_api import expect

from mcbridge.extensions import db
from mcbridge.models import ConnectionAudience, MailchimpConnection
from tests.browser.helpers import choose, follow, labelled, sign_in, t, ta


def test_an_administrator_adds_a_connection_and_gives_its_audience_to_a_club(
    page, club, language, sandbox
):
    key = sandbox.add_account()
    audience_id = sandbox.add_audience(key, "Rowing news")
    sign_in(page, language, club.admin.email)

    follow(page, page.get_by_role("link", name=t(language, "Mailchimp connections")))
    follow(page, page.get_by_role("link", name=ta(language, "Create"), exact=True))
    labelled(page, t(language, "Name")).fill("Federation account")
    labelled(page, t(language, "Mailchimp API key")).fill(key)
    choose(page, t(language, "Groups that may use it"), "Swiss Rowing")
    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))

    expect(page.get_by_text(ta(language, "Record was successfully created."))).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Federation account")
    expect(row).to_contain_text(key[28:32])
    expect(row).not_to_contain_text(key[:28])
    connection = db.session.query(MailchimpConnection).one()
    assert connection.api_key == key
    assert [a.audience_id for a in connection.audiences] == [audience_id]

    follow(page, page.get_by_role("link", name=t(language, "Mailchimp audiences")))
    row = page.get_by_role("row").filter(has_text="Rowing news")
    follow(page, row.get_by_role("link", name=ta(language, "Edit Record")))
    choose(page, t(language, "Groups that may use it"), "Rowing Club Basel")
    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))

    expect(page.get_by_text(ta(language, "Record was successfully saved."))).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Rowing news")).to_contain_text(
        "Rowing Club Basel"
    )
    db.session.expire_all()
    granted = db.session.query(ConnectionAudience).one()
    assert [g.name for g in granted.groups] == ["Rowing Club Basel"]
