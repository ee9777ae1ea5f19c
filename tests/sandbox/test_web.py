"""The read-only page: accounts with masked keys, audiences, and a member browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests
from babel.dates import format_datetime, format_time

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address


def page(sandbox: Sandbox, path: str, **params: str) -> str:
    response = requests.get(f"{sandbox.url}{path}", params=params, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def test_index_lists_accounts_masked_with_audience_counts(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    html = page(sandbox, "/")
    assert f"…{account_key[28:32]}-us1" in html
    assert account_key[:32] not in html
    assert audience_id in html
    assert "Members" in html


def test_audience_page_lists_members_with_details(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1), merge_fields={"FNAME": "Ann"}, tags=["board"])
    html = page(sandbox, f"/audiences/{audience_id}")
    assert address(1) in html
    assert "Ann" in html
    assert "board" in html
    assert "Subscribed" in html


def test_status_filter_and_search(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    for n in range(3):
        api.subscribe(audience_id, address(n), merge_fields={"LNAME": f"Family{n}"})
    sandbox.control.simulate_unsubscribe(audience_id, address(0))
    unsubscribed = page(sandbox, f"/audiences/{audience_id}", status="unsubscribed")
    assert address(0) in unsubscribed
    assert address(1) not in unsubscribed
    found = page(sandbox, f"/audiences/{audience_id}", q="family2")
    assert address(2) in found
    assert address(1) not in found


def test_members_are_paginated(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    members = [{"email_address": address(n), "status": "subscribed"} for n in range(60)]
    api.post(f"lists/{audience_id}", json={"members": members})
    first = page(sandbox, f"/audiences/{audience_id}")
    second = page(sandbox, f"/audiences/{audience_id}", page="2")
    assert address(0) in first
    assert address(55) not in first
    assert address(55) in second
    assert "Page 2 of 2" in second


def test_language_follows_the_browser_among_en_fr_de(sandbox: Sandbox, audience_id: str) -> None:
    for asked, chosen in (("fr-CH,fr;q=0.9", "fr"), ("de", "de"), ("ja", "en"), ("", "en")):
        response = requests.get(
            f"{sandbox.url}/audiences/{audience_id}",
            headers={"Accept-Language": asked},
            timeout=10,
        )
        assert response.status_code == 200
        assert f'<html lang="{chosen}">' in response.text


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_times_name_their_zone_in_the_pages_language(
    sandbox: Sandbox, api: Api, audience_id: str, language: str
) -> None:
    api.subscribe(audience_id, address(1))
    changed = api.get(f"lists/{audience_id}/members/{address(1)}").json()["last_changed"]
    moment = datetime.fromisoformat(changed)

    html = requests.get(
        f"{sandbox.url}/audiences/{audience_id}",
        headers={"Accept-Language": language},
        timeout=10,
    ).text

    shown = format_datetime(moment, "long", tzinfo=UTC, locale=language)
    assert f'<td class="muted">{shown}</td>' in html
    assert shown.endswith(" " + format_time(moment, "z", tzinfo=UTC, locale=language))


def test_unknown_audience_page_is_404(sandbox: Sandbox) -> None:
    assert requests.get(f"{sandbox.url}/audiences/nope", timeout=10).status_code == 404


def test_index_shows_the_consent_ledger(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    sandbox.control.clear_consent_ledger()
    empty = page(sandbox, "/")
    assert "Re-subscriptions (consent ledger)" in empty
    assert "No contact has been set back to subscribed." in empty
    api.subscribe(audience_id, address(1))
    api.patch(f"lists/{audience_id}/members/{address(1)}", json={"status": "unsubscribed"})
    api.patch(f"lists/{audience_id}/members/{address(1)}", json={"status": "subscribed"})
    html = page(sandbox, "/")
    section = html[html.index("Re-subscriptions (consent ledger)") :]
    assert "No contact has been set back to subscribed." not in section
    assert address(1) in section
    assert f"PATCH /3.0/lists/{audience_id}/members/" in section
    assert f"…{account_key[28:32]}-us1" in section
    assert account_key[:32] not in html


def simulate_form(
    sandbox: Sandbox, audience_id: str, action: str, fields: dict[str, str], **query: str
) -> requests.Response:
    """A simulate button's form as the audience page has it, token included, sent as is."""
    html = page(sandbox, f"/audiences/{audience_id}")
    token = re.search(r'name="form_token" value="([^"]+)"', html)
    assert token, "the audience page offers no simulation form"
    return requests.post(
        f"{sandbox.url}/audiences/{audience_id}/simulate/{action}",
        params=query,
        data={"form_token": token.group(1), **fields},
        allow_redirects=False,
        timeout=10,
    )


def test_a_simulation_button_changes_the_contact_and_returns_to_the_same_view(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    answer = simulate_form(
        sandbox, audience_id, "bounce", {"email": address(1)}, status="subscribed"
    )
    assert answer.status_code == 303
    assert sandbox.control.member(audience_id, address(1))["status"] == "cleaned"
    back = page(sandbox, answer.headers["Location"])
    assert f"Done for {address(1)}: Bounce (Mailchimp cleans the address)." in back
    assert '<option value="subscribed" selected>' in back


def test_a_form_without_the_pages_token_changes_nothing(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    """Another site could post the form in a visitor's browser, but not read the token."""
    api.subscribe(audience_id, address(1))
    answer = requests.post(
        f"{sandbox.url}/audiences/{audience_id}/simulate/admin-archive",
        data={"email": address(1), "form_token": "guessed"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "This page is out of date (the sandbox restarted): reload it." in answer.text
    assert sandbox.control.member(audience_id, address(1))["status"] == "subscribed"


def test_a_refused_address_change_says_why_and_keeps_what_was_typed(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    api.subscribe(audience_id, address(2))
    fields = {"email": address(1), "new_email": address(2)}
    answer = simulate_form(sandbox, audience_id, "email-change", fields)
    assert answer.status_code == 400
    assert f"Refused for {address(1)}: {address(2)} is already a list member." in answer.text
    assert f'value="{address(2)}"' in answer.text
    assert "<details open>" in answer.text
    assert sandbox.control.member(audience_id, address(1))["status"] == "subscribed"


def test_a_profile_change_offers_the_audiences_merge_fields(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1), merge_fields={"FNAME": "Ann"})
    fields = {"email": address(1), "tag": "FNAME", "value": "Annie"}
    assert simulate_form(sandbox, audience_id, "profile-update", fields).status_code == 303
    assert sandbox.control.member(audience_id, address(1))["merge_fields"]["FNAME"] == "Annie"
