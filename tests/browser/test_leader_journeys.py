"""A leader's journeys through the list forms as they are drawn in the browser: a new list
with a group rule, a person included and a person excluded, each in a rule row added with
the form's own button and filled in through Select2, as a person does."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from mcbridge.extensions import db
from mcbridge.models import MailingList
from tests import factories as make
from tests.browser.helpers import follow, labelled, sign_in, t, ta


def new_rule_row(page: Page) -> Locator:
    """The form's button that adds a rule row, and the row it added."""
    page.locator("[data-inline-field='subscriptions']").click()
    return page.locator(".inline-field-list > .inline-field").last


def pick(page: Page, row: Locator, field: str, typed: str, option: str) -> None:
    """In the row's Select2 field `field` (its id ends so: Flask-Admin numbers a new row's
    fields, not its labels), type and click the suggestion, as a person does."""
    row.locator(f".select2-container[id$='-{field}']").click()
    page.keyboard.type(typed)
    page.locator(".select2-result-label").filter(has_text=option).first.click()


def test_a_leader_creates_a_list_with_a_group_rule_an_include_and_an_exclude(page, club, language):
    guest = make.person("Gina", "Gast", email="gina.gast@club-mail.ch")
    make.role(guest, club.club, make.role_type("Guest"))
    db.session.commit()
    anna, ben, carla = club.people
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name=t(language, "Mailing lists"), exact=True))
    follow(page, page.get_by_role("link", name=ta(language, "Create"), exact=True))

    labelled(page, t(language, "Name")).fill("Regatta team")
    page.locator("#s2id_group").click()
    page.keyboard.type("Basel")
    page.locator(".select2-result-label").filter(has_text="Rowing Club Basel").first.click()
    members = new_rule_row(page)
    pick(page, members, "group", "Basel", "Rowing Club Basel")
    pick(page, members, "role_types", "Memb", "Member")
    pick(page, new_rule_row(page), "person", "Gina", "Gina Gast")
    excluded = new_rule_row(page)
    pick(page, excluded, "person", "Anna", "Anna Meier")
    excluded.locator("input[type=checkbox][id$='-excluded']").check()
    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))

    expect(page.get_by_text(ta(language, "Record was successfully created."))).to_be_visible()
    follow(page, page.get_by_role("link", name="Regatta team"))
    recipients = page.locator("#recipients")
    for person in (ben, carla, guest):
        expect(recipients).to_contain_text(person.email)
    expect(recipients).not_to_contain_text(anna.email)
    expect(recipients).not_to_contain_text(club.leader_person.email)  # a leader, not a member
    created = db.session.query(MailingList).filter_by(name="Regatta team").one()
    assert created.group_id == club.club.id
    rules = {(rule.group_id, rule.person_id, rule.excluded) for rule in created.subscriptions}
    assert rules == {(club.club.id, None, False), (None, guest.id, False), (None, anna.id, True)}


def test_a_mistyped_address_is_explained_in_the_pages_language(page, club, language):
    """email-validator's own sentence is English, and so was Flask-Admin's "Failed to create
    record." (its shipped catalogs are older than its messages); the leader reads both in
    their language, and what they typed is still there to correct."""
    typed = "dora.frei.club-mail.ch"
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name=t(language, "People"), exact=True))
    follow(page, page.get_by_role("link", name=ta(language, "Create"), exact=True))
    labelled(page, t(language, "First name")).fill("Dora")
    labelled(page, t(language, "Primary email")).fill(typed)
    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))

    reason = t(language, "It has no @ sign.")
    explained = t(
        language, "“%(address)s” is not a valid address: %(problem)s", address=typed, problem=reason
    )
    expect(page.get_by_text(explained)).to_be_visible()
    expect(page.get_by_text(ta(language, "Failed to create record."))).to_be_visible()
    expect(labelled(page, t(language, "First name"))).to_have_value("Dora")
    expect(labelled(page, t(language, "Primary email"))).to_have_value(typed)
