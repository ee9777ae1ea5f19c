"""The Mailchimp sandbox's own page, as a newcomer tries it: each contact's buttons make
happen what people and Mailchimp do outside the API, and the contact's new status shows.
The page is the sandbox's (its own server and catalogs), in each language, through axe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from babel.dates import format_datetime
from babel.support import Translations
from mcbridge_sandbox import SandboxControl, SandboxServer
from mcbridge_sandbox.web import TRANSLATIONS
from playwright.sync_api import Locator, Page, expect

from tests.browser.helpers import follow, visit

DOMAIN = "rowing-members.ch"


@pytest.fixture
def live(sandbox_server: SandboxServer) -> SandboxServer:
    """The browser's pages are the sandbox's, not the app's."""
    return sandbox_server


def s(language: str, message: str, **variables: Any) -> str:
    """The sandbox's `message` as its page in `language` shows it (its own catalog)."""
    translated = Translations.load(str(TRANSLATIONS), [language]).gettext(message)
    return translated % variables if variables else translated


def audience_of(sandbox: SandboxControl, *people: str) -> str:
    """An audience whose people signed up themselves, first names given."""
    audience_id = sandbox.add_audience(sandbox.add_account(), "Rowing news")
    for first_name in people:
        sandbox.simulate_signup(audience_id, address(first_name), {"FNAME": first_name})
    return audience_id


def address(first_name: str) -> str:
    return f"{first_name.lower()}@{DOMAIN}"


def contact(page: Page, first_name: str) -> Locator:
    return page.get_by_role("row").filter(has_text=address(first_name))


def simulate(page: Page, language: str, first_name: str, button: str) -> None:
    """Open the contact's simulations and press one; the page comes back and is checked."""
    row = contact(page, first_name)
    row.locator("summary").click()
    follow(page, row.get_by_role("button", name=s(language, button)))


def test_each_contacts_buttons_change_its_status(page, language, sandbox):
    people = ("Anna", "Ben", "Carla", "Dario", "Eva")
    audience_id = audience_of(sandbox, *people)
    visit(page, f"/audiences/{audience_id}")
    expect(page.locator("html")).to_have_attribute("lang", language)

    pressed = {
        "Anna": ("Unsubscribe (as the contact, by the email's link)", "Unsubscribed"),
        "Ben": ("Bounce (Mailchimp cleans the address)", "Cleaned"),
        "Carla": ("Archive (as an admin in Mailchimp)", "Archived"),
        "Dario": ("Unsubscribe (as an admin in Mailchimp)", "Unsubscribed"),
        "Eva": ("Report as spam (as the contact)", "Unsubscribed"),
    }
    for first_name, (button, status) in pressed.items():
        simulate(page, language, first_name, button)
        notice = s(
            language,
            "Done for %(email)s: %(action)s.",
            email=address(first_name),
            action=s(language, button),
        )
        expect(page.get_by_role("status")).to_have_text(notice)
        expect(contact(page, first_name).locator(".status")).to_have_text(s(language, status))

    simulate(page, language, "Anna", "Sign up again (as the contact, by a form)")
    expect(contact(page, "Anna").locator(".status")).to_have_text(s(language, "Subscribed"))


def test_a_contact_changes_address_and_profile(page, language, sandbox):
    audience_id = audience_of(sandbox, "Anna")
    visit(page, f"/audiences/{audience_id}")

    row = contact(page, "Anna")
    row.locator("summary").click()
    row.get_by_label(s(language, "New address")).fill("anna.keller@rowing-members.ch")
    follow(page, row.get_by_role("button", name=s(language, "Change the address")))
    moved = page.get_by_role("row").filter(has_text="anna.keller@rowing-members.ch")
    expect(moved).to_have_count(1)
    expect(contact(page, "Anna")).to_have_count(0)

    moved.locator("summary").click()
    moved.get_by_label(s(language, "Merge field")).select_option("LNAME")
    moved.get_by_label(s(language, "New value")).fill("Keller")
    follow(page, moved.get_by_role("button", name=s(language, "Change the profile")))
    expect(page.get_by_role("row").filter(has_text="anna.keller@")).to_contain_text("Keller")


def test_the_index_shows_accounts_audiences_and_the_consent_ledger(page, language, sandbox, live):
    key = sandbox.add_account()
    audience_id = sandbox.add_audience(key, "Rowing news")
    sandbox.simulate_signup(audience_id, address("Anna"), {"FNAME": "Anna"})
    sandbox.simulate_admin_unsubscribe(audience_id, address("Anna"))
    resubscribed = requests.patch(
        live.api_base_url.format(dc="us1") + f"lists/{audience_id}/members/{address('Anna')}",
        json={"status": "subscribed"},
        auth=("mcbridge", key),
        timeout=10,
    )
    assert resubscribed.ok, resubscribed.text
    (entry,) = sandbox.consent_ledger(audience_id)

    visit(page, "/")

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(s(language, "Accounts and audiences"))
    ledger = page.get_by_role("row").filter(has_text=audience_id).filter(has_text=address("Anna"))
    at = datetime.fromisoformat(entry["at"])
    expect(ledger).to_contain_text(format_datetime(at, "long", tzinfo=UTC, locale=language))
    follow(page, page.locator(f'a[href="/audiences/{audience_id}"]', has_text="Rowing news"))
    expect(contact(page, "Anna")).to_have_count(1)
