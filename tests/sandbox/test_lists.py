"""Audiences: listing, paging and their stats."""

from __future__ import annotations

from mailchimp3 import MailChimp

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address


def test_lists_are_those_of_the_account(sandbox: Sandbox, account_key: str, mc: MailChimp) -> None:
    ids = [sandbox.control.add_audience(account_key, f"List {n}") for n in range(3)]
    sandbox.control.add_audience(sandbox.control.add_account(), "Someone else's")
    found = mc.lists.all(get_all=True)
    assert [a["id"] for a in found["lists"]] == ids
    assert found["total_items"] == 3


def test_lists_are_paged(sandbox: Sandbox, account_key: str, api: Api) -> None:
    ids = [sandbox.control.add_audience(account_key, f"List {n}") for n in range(3)]
    page = api.get("lists", params={"count": 2, "offset": 1}).json()
    assert [a["id"] for a in page["lists"]] == ids[1:]
    assert page["total_items"] == 3


def test_audience_stats_count_by_status(
    sandbox: Sandbox, mc: MailChimp, api: Api, audience_id: str
) -> None:
    for n in range(4):
        api.subscribe(audience_id, address(n))
    sandbox.control.simulate_unsubscribe(audience_id, address(0))
    sandbox.control.simulate_bounce(audience_id, address(1))
    audience = mc.lists.get(audience_id)
    assert audience["id"] == audience_id
    assert audience["name"] == "Members"
    assert audience["date_created"].endswith("+00:00")
    assert audience["stats"]["member_count"] == 2
    assert audience["stats"]["unsubscribe_count"] == 1
    assert audience["stats"]["cleaned_count"] == 1
