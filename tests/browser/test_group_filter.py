"""A leader filters a list by a group found by typing part of its path, chosen with the
keyboard, and finds the filter named by that path once the page has reloaded: the page
carries no list of every group. In English, French and German, every page through axe."""

from __future__ import annotations

from playwright.sync_api import expect

from mcbridge.extensions import db
from mcbridge.models import RoleType
from tests import factories as make
from tests.browser.helpers import check, follow, sign_in, t, ta, visit

JUNIORS = "Swiss Rowing / Rowing Club Basel / Juniors"


def test_a_leader_filters_roles_by_a_group_typed_and_chosen_with_the_keyboard(page, club, language):
    member = db.session.query(RoleType).filter_by(name="Member").one()
    juniors = make.group("Juniors", club.club)
    make.role(make.person("Jan", "Jung", email="jan.jung@club-mail.ch"), juniors, member)
    db.session.commit()
    sign_in(page, language, club.leader.email)
    visit(page, "/admin/roles/")

    page.get_by_role("link", name=ta(language, "Add Filter")).click()
    page.locator(".field-filters a.filter", has_text=t(language, "Group")).click()
    page.locator("#s2id_filter-search-1").click()
    page.keyboard.type("juni")
    expect(page.locator(".select2-result-label")).to_have_text([JUNIORS])
    page.keyboard.press("Enter")
    assert check(page) == []
    follow(page, page.get_by_role("button", name=ta(language, "Apply")))

    expect(page.locator("#s2id_filter-search-1 .select2-chosen")).to_have_text(JUNIORS)
    rows = page.locator("table.model-list tbody")
    expect(rows).to_contain_text("Jung")
    expect(rows).not_to_contain_text("Meier")
    assert check(page) == []
