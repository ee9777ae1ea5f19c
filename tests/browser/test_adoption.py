"""Adopting the contacts an audience already held, as a leader meets it on the list's
Mailchimp page: a preview shows whom it concerns, the choice is made on record, and the
next export tags them."""

from __future__ import annotations

from playwright.sync_api import expect

from mcbridge.extensions import db
from tests import factories as make
from tests.browser.conftest import export_now
from tests.browser.helpers import follow, sign_in, t, tn, visit
from tests.browser.test_export import watch_the_run_to_its_end

DORA = "dora.weber@club-mail.ch"


def test_a_leader_previews_and_adopts_a_contact_someone_else_signed_up(
    page, app, exported, audience, language, sandbox
):
    sandbox.simulate_signup(audience.audience_id, DORA, {"FNAME": "D."})
    dora = make.person("Dora", "Weber", email=DORA)
    make.role(dora, exported.club, exported.people[0].roles[0].role_type)
    db.session.commit()
    sign_in(page, language, exported.leader.email)
    tab = f"/admin/mailchimp/{exported.newsletter.id}/"
    visit(page, tab)
    section = page.locator("#adoption")
    expect(section.get_by_role("heading")).to_have_text(
        t(language, "Contacts already in the audience")
    )
    expect(section).to_contain_text(
        t(language, "Not decided yet: until then, exports leave them alone.")
    )

    follow(page, section.get_by_role("button", name=t(language, "Preview"), exact=True))
    watch_the_run_to_its_end(page, app, language, "preview")
    adopted = page.locator("#people-adopted")
    expect(adopted).to_contain_text(t(language, "would be adopted"))
    expect(adopted).to_contain_text(DORA)
    visit(page, tab)
    found = "The latest preview found %(num)d contact to adopt."
    expect(section).to_contain_text(
        tn(language, found, "The latest preview found %(num)d contacts to adopt.", 1)
    )

    follow(page, section.get_by_role("button", name=t(language, "Adopt them"), exact=True))
    adopting = t(language, "The next export adopts the contacts already in the audience.")
    expect(page.get_by_text(adopting)).to_be_visible()
    expect(section).to_contain_text(exported.leader.email)
    db.session.expire_all()
    run = export_now(exported.newsletter)

    visit(page, tab)
    link = t(language, "See export #%(run)s", run=run.id)
    expect(section.get_by_role("link", name=link)).to_be_visible()
    expect(section.get_by_role("button", name=t(language, "Adopt them"), exact=True)).to_have_count(
        0
    )
    tags = {tag["name"] for tag in sandbox.member(audience.audience_id, DORA)["tags"]}
    assert tags == {"mcbridge: Club news"}
