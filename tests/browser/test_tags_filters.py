"""A leader tags people in bulk, makes the list's rule require the tag, filters the list,
and reads on the subscriber view who receives it, in plain words."""

from __future__ import annotations

from playwright.sync_api import expect

from mcbridge.extensions import db
from tests.browser.helpers import check, follow, sign_in, t, ta, tn, visit


def test_a_leader_tags_people_in_bulk_requires_the_tag_and_filters_the_list(page, club, language):
    anna, ben, carla = club.people
    anna.gender, ben.gender = "female", "male"
    db.session.commit()
    sign_in(page, language, club.leader.email)

    visit(page, "/admin/people/")
    for person in (anna, ben):
        page.locator(f"input.action-checkbox[value='{person.id}']").check()
    page.get_by_role("button", name=ta(language, "With selected")).click()
    # The menu's items are links to "#" that post the list's action form: wait for its answer.
    page.get_by_role("link", name=t(language, "Add or remove a tag")).click()
    page.wait_for_url("**/admin/people/action/")
    check(page)
    page.get_by_label(t(language, "Tag"), exact=True).fill("Vorstand")
    follow(page, page.get_by_role("button", name=t(language, "Add this tag")))
    expect(page.locator(".alert-success")).to_contain_text(
        tn(
            language,
            "“%(tag)s” added to %(num)d person.",
            "“%(tag)s” added to %(num)d people.",
            2,
            tag="Vorstand",
        )
    )

    visit(page, "/admin/")
    follow(page, page.get_by_role("link", name="Club news"))
    follow(page, page.get_by_role("link", name=t(language, "Edit list")))
    page.locator("#subscriptions-0-required_tags").fill("Vorstand")
    page.get_by_label(t(language, "Only recipients of gender")).select_option("female")
    check(page)
    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))

    gender = t(language, "of gender %(gender)s", gender=t(language, "female"))
    expect(page.locator("#list-filters")).to_have_text(
        t(language, "Only recipients %(filters)s.", filters=gender)
    )
    recipients = page.locator("#recipients")
    expect(recipients).to_contain_text(anna.email)
    expect(recipients).not_to_contain_text(ben.email)
    expect(recipients).not_to_contain_text(carla.email)
