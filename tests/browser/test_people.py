"""A leader's groups and people in the browser, in each language: the groups tree opened
and closed level by level, a person's page, and the person picker found by full name."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from mcbridge.extensions import db
from tests import factories as make
from tests.browser.helpers import check, follow, sign_in, t, visit


def toggle(page: Page, language: str, group: str):
    return page.get_by_role("button", name=t(language, "Groups below %(name)s", name=group))


def test_a_leader_opens_and_closes_the_groups_tree(page, club, language):
    juniors = make.group("Juniors", club.club)
    make.group("Under 15", juniors)
    db.session.commit()
    sign_in(page, language, club.leader.email)
    visit(page, "/admin/groups/")

    tree = page.get_by_role("list", name=t(language, "Groups"))
    expect(tree.get_by_role("link", name="Rowing Club Basel", exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="Juniors", exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="Under 15", exact=True)).to_be_hidden()
    expect(page.get_by_text("Swiss Rowing / ")).to_have_count(0)

    toggle(page, language, "Juniors").click()
    expect(toggle(page, language, "Juniors")).to_have_attribute("aria-expanded", "true")
    expect(tree.get_by_role("link", name="Under 15", exact=True)).to_be_visible()
    check(page)
    toggle(page, language, "Rowing Club Basel").click()
    expect(tree.get_by_role("link", name="Juniors", exact=True)).to_be_hidden()


def test_a_leader_reads_a_persons_roles_lists_and_addresses(page, club, language):
    anna = club.people[0]
    sign_in(page, language, club.leader.email)
    visit(page, "/admin/people/")
    follow(page, page.get_by_role("link", name="Meier", exact=True))

    expect(page.get_by_role("heading", name="Anna Meier")).to_be_visible()
    roles = page.get_by_role("region", name=t(language, "Roles"))
    expect(roles).to_contain_text("Swiss Rowing / Rowing Club Basel")
    expect(roles).to_contain_text("Member")
    addresses = page.get_by_role("region", name=t(language, "Addresses"))
    expect(addresses).to_contain_text(anna.email)
    lists = page.get_by_role("region", name=t(language, "Mailing lists"))
    expect(lists.get_by_role("link", name="Club news", exact=True)).to_be_visible()
    reason = t(
        language,
        "as %(role_types)s in %(group)s or below",
        role_types="Member",
        group="Swiss Rowing / Rowing Club Basel",
    )
    expect(lists).to_contain_text(reason)
    expect(lists).to_contain_text(t(language, "not linked to Mailchimp"))


def test_the_person_picker_finds_someone_by_the_full_name(page, club, language):
    sign_in(page, language, club.leader.email)
    visit(page, "/admin/roles/new/")
    page.locator(".select2-container[id$='person'] .select2-choice").click()
    page.keyboard.type("Meier Anna")
    expect(page.locator(".select2-result-label")).to_have_text([str(club.people[0])])
