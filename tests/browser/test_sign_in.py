"""Signing in, as a club leader and as an administrator, in each language; and choosing
another language in the menu, which the account then keeps."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mcbridge.extensions import db
from mcbridge.models import User
from tests.browser.helpers import LANGUAGES, follow, sign_in, t, visit


@pytest.mark.parametrize("who", ["leader", "admin"])
def test_signing_in_opens_the_dashboard_in_the_browsers_language(page, club, language, who):
    account = club.leader if who == "leader" else club.admin

    sign_in(page, language, account.email)

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", name=t(language, "Dashboard"))).to_be_visible()
    lists = page.get_by_role("link", name="Club news")
    expect(lists).to_be_visible()
    operations = page.get_by_role("link", name=t(language, "Operations"), exact=True)
    expect(operations).to_have_count(1 if who == "admin" else 0)
    if who == "leader":
        follow(page, lists)
        expect(page.get_by_role("heading", name="Club news")).to_be_visible()
    else:
        follow(page, operations)
        expect(page.get_by_role("heading", name=t(language, "Operations"))).to_be_visible()


def test_a_wrong_password_is_refused_on_the_sign_in_page(page, club, language):
    visit(page, "/admin/account/sign-in")
    page.get_by_label(t(language, "Email")).fill(club.leader.email)
    page.get_by_label(t(language, "Password")).fill("not the password")
    follow(page, page.get_by_role("button", name=t(language, "Sign in"), exact=True))

    expect(page.get_by_text(t(language, "Wrong email or password."))).to_be_visible()


def test_the_language_chosen_in_the_menu_stays_with_the_account(page, club, language):
    chosen = LANGUAGES[(LANGUAGES.index(language) + 1) % len(LANGUAGES)]
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))

    page.get_by_role("button", name=t(language, "Language")).click()
    names = {"en": "English", "fr": "Français", "de": "Deutsch"}
    follow(page, page.get_by_role("button", name=names[chosen]))

    expect(page.locator("html")).to_have_attribute("lang", chosen)
    expect(page.get_by_role("heading", name="Club news")).to_be_visible()  # the same page
    expect(page.get_by_text(t(chosen, "people on the list"))).to_be_visible()
    db.session.expire_all()
    assert db.session.get(User, club.leader.id).locale == chosen

    page.get_by_role("button", name=club.leader.email).click()
    follow(page, page.get_by_role("button", name=t(chosen, "Sign out")))
    expect(page.get_by_text(t(chosen, "You are signed out."))).to_be_visible()
    sign_in(page, chosen, club.leader.email)  # the browser still asks for `language`
    expect(page.locator("html")).to_have_attribute("lang", chosen)
