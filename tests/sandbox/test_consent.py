"""Consent as Mailchimp keeps it: who took a contact out decides whether a write may set it
back to subscribed, archived contacts come back with whatever status a write sends, and
the consent ledger records every re-subscription that was not the person's own."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcbridge_sandbox.keys import subscriber_hash

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address, member_path, wait_for

ANN = address("ann")
SUBSCRIBE = {"email_address": ANN, "status": "subscribed"}
UNSUBSCRIBE = {"email_address": ANN, "status": "unsubscribed"}

TakeOut = Callable[[Sandbox, Api, str], Any]
REFUSED = (400, "Member In Compliance State")
ACCEPTED = (200, "subscribed")

# How ANN left, and what a later write with "status": "subscribed" gets.
TAKE_OUTS: dict[str, tuple[TakeOut, tuple[int, str]]] = {
    "self-unsubscribe": (lambda sb, _api, aud: sb.control.simulate_unsubscribe(aud, ANN), REFUSED),
    "spam complaint": (
        lambda sb, _api, aud: sb.control.simulate_unsubscribe(aud, ANN, abuse=True),
        REFUSED,
    ),
    "hard bounce": (lambda sb, _api, aud: sb.control.simulate_bounce(aud, ANN, "hard"), REFUSED),
    "abuse bounce": (lambda sb, _api, aud: sb.control.simulate_bounce(aud, ANN, "abuse"), REFUSED),
    "API PATCH": (
        lambda _sb, api, aud: api.patch(member_path(aud, ANN), json=UNSUBSCRIBE),
        ACCEPTED,
    ),
    "API PUT": (lambda _sb, api, aud: api.put(member_path(aud, ANN), json=UNSUBSCRIBE), ACCEPTED),
    "admin in Mailchimp": (
        lambda sb, _api, aud: sb.control.simulate_admin_unsubscribe(aud, ANN),
        ACCEPTED,
    ),
}


def resubscribe(api: Api, audience_id: str, method: str) -> Any:
    """A write that carries "status": "subscribed" for ANN, by PUT or PATCH."""
    return api.request(method, member_path(audience_id, ANN), json=SUBSCRIBE)


@pytest.mark.parametrize(("take_out", "expected"), TAKE_OUTS.values(), ids=TAKE_OUTS.keys())
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_only_a_compliance_state_refuses_subscribed(
    sandbox: Sandbox,
    api: Api,
    audience_id: str,
    take_out: TakeOut,
    expected: tuple[int, str],
    method: str,
) -> None:
    """Unsubscribed by the person, bounced or complained: refused. Unsubscribed by an
    admin or through the API: any write with the status re-subscribes."""
    api.subscribe(audience_id, ANN)
    take_out(sandbox, api, audience_id)
    response = resubscribe(api, audience_id, method)
    body = response.json()
    refused = response.status_code == 400
    assert (response.status_code, body["title"] if refused else body["status"]) == expected
    assert len(sandbox.control.consent_ledger(audience_id)) == (0 if refused else 1)


def test_unsubscribe_reasons_tell_the_person_from_an_admin(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, ANN)
    api.subscribe(audience_id, address(2))
    admin = sandbox.control.simulate_admin_unsubscribe(audience_id, ANN)
    person = sandbox.control.simulate_unsubscribe(audience_id, address(2))
    assert admin["unsubscribe_reason"] == "N/A (Unsubscribed by an admin)"
    assert person["unsubscribe_reason"] == "N/A"


def test_signup_lifts_a_compliance_state(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    api.subscribe(audience_id, ANN)
    sandbox.control.simulate_unsubscribe(audience_id, ANN)
    sandbox.control.simulate_signup(audience_id, ANN)
    api.patch(member_path(audience_id, ANN), json={"status": "unsubscribed"})
    assert resubscribe(api, audience_id, "PATCH").status_code == 200


@pytest.mark.parametrize(
    "take_out",
    [
        lambda sb, _api, aud: sb.control.simulate_unsubscribe(aud, ANN),
        lambda sb, _api, aud: sb.control.simulate_admin_unsubscribe(aud, ANN),
        lambda sb, _api, aud: sb.control.simulate_bounce(aud, ANN),
        lambda _sb, _api, _aud: None,
    ],
    ids=["self-unsubscribed", "admin-unsubscribed", "cleaned", "subscribed"],
)
@pytest.mark.parametrize("status", ["subscribed", "unsubscribed", "pending"])
def test_archived_contact_comes_back_with_the_status_sent(
    sandbox: Sandbox, api: Api, audience_id: str, take_out: TakeOut, status: str
) -> None:
    api.subscribe(audience_id, ANN, merge_fields={"FNAME": "Ann"})
    take_out(sandbox, api, audience_id)
    archived = sandbox.control.simulate_admin_archive(audience_id, ANN)
    assert archived["status"] == "archived"
    body = {"email_address": ANN, "status": status}
    member = api.put(member_path(audience_id, ANN), json=body).json()
    assert (member["status"], member["merge_fields"]["FNAME"]) == (status, "Ann")


def test_archive_never_shows_the_status_before(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, ANN)
    sandbox.control.simulate_unsubscribe(audience_id, ANN)
    api.delete(member_path(audience_id, ANN))
    member = api.get(member_path(audience_id, ANN)).json()
    assert member["status"] == "archived"
    assert "unsubscribed" not in json.dumps(member)


# The consent ledger ----------------------------------------------------------------------


def admin_unsubscribed(sandbox: Sandbox, api: Api, audience_id: str, *emails: str) -> None:
    for email in emails:
        api.subscribe(audience_id, email)
        sandbox.control.simulate_admin_unsubscribe(audience_id, email)


def ledger(sandbox: Sandbox, audience_id: str) -> list[tuple[str, str, str, str]]:
    return [
        (e["email"], e["status_before"], e["archived_from"], e["method"])
        for e in sandbox.control.consent_ledger(audience_id)
    ]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_resubscribing_write_is_in_the_ledger(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str, method: str
) -> None:
    admin_unsubscribed(sandbox, api, audience_id, ANN)
    sandbox.control.advance_clock(30)
    resubscribe(api, audience_id, method)
    [entry] = sandbox.control.consent_ledger(audience_id)
    assert entry == {
        "id": entry["id"],
        "at": sandbox.control.now(),
        "audience_id": audience_id,
        "email": ANN,
        "status_before": "unsubscribed",
        "archived_from": "",
        "method": method,
        "path": f"/3.0/{member_path(audience_id, ANN)}",
        "key": f"…{account_key[28:32]}-us1",
        "batch_id": "",
    }


def test_pending_and_cleaned_contacts_set_subscribed_are_in_the_ledger(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    body = {"email_address": ANN, "status_if_new": "pending"}
    api.put(member_path(audience_id, ANN), json=body)
    resubscribe(api, audience_id, "PATCH")
    api.subscribe(audience_id, address(2))
    sandbox.control.simulate_bounce(audience_id, address(2))
    sandbox.control.simulate_admin_archive(audience_id, address(2))
    api.patch(member_path(audience_id, address(2)), json={"status": "subscribed"})
    assert ledger(sandbox, audience_id) == [
        (ANN, "pending", "", "PATCH"),
        (address(2), "archived", "cleaned", "PATCH"),
    ]


def test_batch_subscribe_with_update_existing_is_in_the_ledger(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    admin_unsubscribed(sandbox, api, audience_id, ANN)
    body = {"members": [SUBSCRIBE], "update_existing": True}
    assert api.post(f"lists/{audience_id}", json=body).json()["total_updated"] == 1
    assert ledger(sandbox, audience_id) == [(ANN, "unsubscribed", "", "POST")]
    assert sandbox.control.consent_ledger(audience_id)[0]["path"] == f"/3.0/lists/{audience_id}"


def test_batch_subscribe_of_an_archived_unsubscribed_contact_is_in_the_ledger(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    """update_existing:false does not protect an archived contact: it comes back created."""
    api.unsubscribed(audience_id, ANN, sandbox.control)
    api.delete(member_path(audience_id, ANN))
    result = api.post(f"lists/{audience_id}", json={"members": [SUBSCRIBE]}).json()
    assert [m["status"] for m in result["new_members"]] == ["subscribed"]
    assert ledger(sandbox, audience_id) == [(ANN, "archived", "unsubscribed", "POST")]


def test_a_resubscription_through_batches_names_the_batch(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    admin_unsubscribed(sandbox, api, audience_id, ANN)
    operation = {
        "method": "PATCH",
        "path": f"lists/{audience_id}/members/{subscriber_hash(ANN)}",
        "operation_id": ANN,
        "body": json.dumps({"status": "subscribed"}),
    }
    batch_id = api.post("batches", json={"operations": [operation]}).json()["id"]
    [entry] = wait_for(lambda: sandbox.control.consent_ledger(audience_id))
    assert (entry["batch_id"], entry["method"], entry["status_before"]) == (
        batch_id,
        "PATCH",
        "unsubscribed",
    )
    assert entry["path"] == f"/3.0/lists/{audience_id}/members/{subscriber_hash(ANN)}"


def test_subscribed_to_subscribed_and_signups_are_not_in_the_ledger(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, ANN)
    resubscribe(api, audience_id, "PATCH")
    api.post(f"lists/{audience_id}", json={"members": [SUBSCRIBE], "update_existing": True})
    api.subscribe(audience_id, address(2))
    sandbox.control.simulate_unsubscribe(audience_id, address(2))
    sandbox.control.simulate_signup(audience_id, address(2))
    api.subscribe(audience_id, address(3))
    api.delete(member_path(audience_id, address(3)))
    api.put(
        member_path(audience_id, address(3)),
        json={"email_address": address(3), "status": "subscribed"},
    )
    assert sandbox.control.consent_ledger(audience_id) == []


def test_a_refused_resubscription_is_not_in_the_ledger(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    admin_unsubscribed(sandbox, api, audience_id, ANN)
    body = {**SUBSCRIBE, "merge_fields": {"BIRTHDAY": "31/12"}}
    assert api.put(member_path(audience_id, ANN), json=body).status_code == 400
    assert sandbox.control.consent_ledger(audience_id) == []


def test_ledger_by_audience_and_cleared(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    other = sandbox.control.add_audience(account_key, "Other")
    for audience in (audience_id, other):
        admin_unsubscribed(sandbox, api, audience, ANN)
        resubscribe(api, audience, "PATCH")
    assert [e["audience_id"] for e in sandbox.control.consent_ledger(other)] == [other]
    everything = {e["audience_id"] for e in sandbox.control.consent_ledger()}
    assert {audience_id, other} <= everything
    sandbox.control.clear_consent_ledger()
    assert sandbox.control.consent_ledger() == []
