"""A leader changes who receives a list, and reads who does and why on its subscriber view."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from mcbridge.extensions import db
from tests import factories as make
from tests.browser.helpers import follow, labelled, sign_in, t, ta


def add_person_rule(page: Page, language: str, name: str, excluded: bool = False) -> None:
    """The edit form's "Add a rule" button, then the new row's person searched by name and
    picked from the suggestions, as a leader does (the row's labels name no field: Flask-Admin
    numbers a new row's fields, not its labels)."""
    page.get_by_role("button", name=t(language, "Add a rule")).click()
    row = page.locator(".inline-field-list > .inline-field").last
    row.locator(".select2-container[id$='-person'] .select2-choice").click()
    page.keyboard.type(name[:4])
    page.locator(".select2-result-label").filter(has_text=name).first.click()
    if excluded:
        row.locator("input[type=checkbox][id$='-excluded']").check()


def test_a_leader_adds_person_rules_to_an_existing_list(page, club, language):
    guest = make.person("Gina", "Gast", email="gina.gast@club-mail.ch")
    make.role(guest, club.club, make.role_type("Guest"))
    db.session.commit()
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))
    follow(page, page.get_by_role("link", name=t(language, "Edit list")))

    add_person_rule(page, language, "Gina Gast")
    add_person_rule(page, language, "Anna Meier", excluded=True)
    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))

    expect(page.get_by_text(ta(language, "Record was successfully saved."))).to_be_visible()
    expect(page.locator("#recipients")).to_contain_text(guest.email)
    expect(page.locator("#recipients")).not_to_contain_text(club.people[0].email)


def test_a_leader_reads_who_receives_the_list_and_why(page, club, language):
    anna, _ben, carla = club.people
    make.person_rule(club.newsletter, carla, excluded=True)
    db.session.commit()
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))

    recipients = page.locator("#recipients tbody tr")
    expect(recipients.filter(has_text=anna.email)).to_contain_text(t(language, "Member"))
    expect(recipients.filter(has_text=anna.email)).to_contain_text("Rowing Club Basel")
    expect(page.locator("#recipients")).not_to_contain_text(carla.email)
    expect(page.get_by_role("heading", name=t(language, "Excluded from this list"))).to_be_visible()

    follow(page, page.get_by_role("link", name=t(language, "Name"), exact=True))
    expect(recipients.first).to_contain_text("Favre")
    follow(page, page.get_by_role("link", name=t(language, "Name")))
    expect(recipients.first).to_contain_text("Meier")

    follow(page, page.get_by_role("link", name="Anna Meier"))
    expect(page.get_by_role("heading", name="Anna Meier")).to_be_visible()
    expect(page.get_by_role("region", name=t(language, "Addresses"))).to_contain_text(anna.email)


def test_an_unlinked_lists_subscriber_view_leads_to_linking_it(page, club, language):
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))

    follow(page, page.get_by_role("link", name=t(language, "Link it to a Mailchimp audience")))

    expect(page.get_by_role("heading", level=1)).to_have_text("Club news")
    expect(
        page.get_by_text(t(language, "This list is not linked to Mailchimp yet."))
    ).to_be_visible()


def test_the_mailchimp_tab_keeps_what_was_chosen_sums_up_errors_and_removes_a_field(
    page, club, audience, language
):
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))
    follow(page, page.get_by_role("link", name=t(language, "Link it to a Mailchimp audience")))
    labelled(page, t(language, "Mailchimp audience")).select_option(label=audience.choice)
    tag = labelled(page, t(language, "Tag of the contacts this list adds"))
    tag.fill("mcbridge: Rowing letter")
    follow(page, page.get_by_role("button", name=t(language, "Add attribute")))
    expect(tag).to_have_value("mcbridge: Rowing letter")
    labelled(page, t(language, "Person field")).select_option(label=t(language, "Birthday"))

    follow(page, page.get_by_role("button", name=t(language, "Check and save")))

    summary = page.locator("#error-summary")
    expect(summary).to_be_in_viewport()
    summary.get_by_role("link", name=t(language, "Exports need this consent."), exact=False).click()
    consent = page.locator("#consent")
    expect(consent).to_be_in_viewport()
    expect(tag).to_have_value("mcbridge: Rowing letter")
    expect(labelled(page, t(language, "Person field"))).to_have_value("birthday")
    consent.check()
    follow(page, page.get_by_role("button", name=t(language, "Check and save")))
    expect(page.locator("#link-status")).to_contain_text(audience.name)

    remove = t(language, "Remove %(field)s", field=t(language, "Birthday"))
    follow(page, page.get_by_role("button", name=remove))
    expect(labelled(page, t(language, "Person field"))).to_have_count(0)
    follow(page, page.get_by_role("button", name=t(language, "Check and save")))
    stopped = "No longer sent: %(tags)s. mcbridge stops writing these fields; the values it "
    stopped += "already sent stay in Mailchimp until someone deletes them there."
    expect(page.get_by_text(t(language, stopped, tags="BIRTHDAY"))).to_be_visible()
    db.session.expire_all()
    assert club.newsletter.merge_field_map == [
        {"source": "first_name", "tag": "FNAME"},
        {"source": "last_name", "tag": "LNAME"},
    ]
