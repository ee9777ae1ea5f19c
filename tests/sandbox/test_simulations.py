"""What people and Mailchimp do outside the API changes the audience as Mailchimp would."""

from __future__ import annotations

import pytest
from mcbridge_sandbox import SandboxControlError

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address, member_path


def test_unsubscribe(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    api.subscribe(audience_id, address(1))
    sandbox.control.advance_clock(10)
    member = sandbox.control.simulate_unsubscribe(audience_id, address(1), reason="Too many emails")
    assert member["status"] == "unsubscribed"
    assert member["unsubscribe_reason"] == "Too many emails"
    assert member["last_changed"] == sandbox.control.now()


def test_bounce_cleans(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    api.subscribe(audience_id, address(1))
    assert sandbox.control.simulate_bounce(audience_id, address(1))["status"] == "cleaned"
    with pytest.raises(SandboxControlError):
        sandbox.control.simulate_bounce(audience_id, address(1), reason="sad")


def test_email_change_keeps_the_person(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    before = api.subscribe(audience_id, address(1), merge_fields={"FNAME": "Ann"}, tags=["vip"])
    after = sandbox.control.simulate_email_change(audience_id, address(1), address(2))
    assert after["unique_email_id"] == before["unique_email_id"]
    assert after["merge_fields"]["FNAME"] == "Ann"
    assert [t["name"] for t in after["tags"]] == ["vip"]
    api.subscribe(audience_id, address(3))
    with pytest.raises(SandboxControlError, match="Member Exists"):
        sandbox.control.simulate_email_change(audience_id, address(2), address(3))


def test_profile_update(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    api.subscribe(audience_id, address(1))
    member = sandbox.control.simulate_profile_update(audience_id, address(1), {"LNAME": "Lee"})
    assert member["merge_fields"]["LNAME"] == "Lee"
    with pytest.raises(SandboxControlError, match="BIRTHDAY: Please enter a real month and day"):
        sandbox.control.simulate_profile_update(audience_id, address(1), {"BIRTHDAY": "13/45"})


def test_signup_adds_a_member_nobody_synced(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    member = sandbox.control.simulate_signup(audience_id, address(1), {"FNAME": "Ann"})
    assert member["status"] == "subscribed"
    assert member["source"] == "Hosted Signup Form"
    assert member["timestamp_signup"]
    assert member["ip_signup"]
    assert api.get(member_path(audience_id, address(1))).json()["merge_fields"]["FNAME"] == "Ann"


def test_signup_brings_back_an_unsubscribed_or_forgotten_person(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    sandbox.control.simulate_unsubscribe(audience_id, address(1))
    assert sandbox.control.simulate_signup(audience_id, address(1))["status"] == "subscribed"
    api.post(member_path(audience_id, address(1)) + "/actions/delete-permanent")
    assert sandbox.control.simulate_signup(audience_id, address(1))["status"] == "subscribed"


def test_simulating_on_unknown_member_is_refused(sandbox: Sandbox, audience_id: str) -> None:
    with pytest.raises(SandboxControlError, match="404"):
        sandbox.control.simulate_unsubscribe(audience_id, address(1))
