"""A leader changes who receives a list, and reads who does and why on its subscriber view."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from mcbridge.extensions import db
from tests import factories as make
from tests.browser.helpers import follow, sign_in, t, ta


def add_person_rule(page: Page, language: str, name: str, excluded: bool = False) -> None:
    """The edit form's "Add Rules" button, then the new row's person searched by name and
    picked from the suggestions, as a leader does (the row's labels name no field: Flask-Admin
    numbers a new row's fields, not its labels)."""
    page.get_by_role("button", name=f"{ta(language, 'Add')} {t(language, 'Rules')}").click()
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
