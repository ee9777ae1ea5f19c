"""POST /lists/{id}: many members per call, per-member errors, counts and tags."""

from __future__ import annotations

from typing import Any

import pytest
from mailchimp3 import MailChimp

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address


def entry(n: int, **fields: Any) -> dict[str, Any]:
    return {"email_address": address(n), "status": "subscribed", **fields}


def tag_names(api: Api, audience_id: str, n: int) -> list[str]:
    member = api.get(f"lists/{audience_id}/members/{address(n)}").json()
    return sorted(t["name"] for t in member["tags"])


def test_new_members_are_created_and_counted(mc: MailChimp, audience_id: str) -> None:
    result = mc.lists.update_members(
        audience_id,
        {"members": [entry(n, merge_fields={"FNAME": f"P{n}"}) for n in range(3)]},
    )
    assert result["total_created"] == 3
    assert result["total_updated"] == 0
    assert result["error_count"] == 0
    assert result["errors"] == []
    assert [m["email_address"] for m in result["new_members"]] == [address(n) for n in range(3)]
    assert result["new_members"][1]["merge_fields"]["FNAME"] == "P1"
    assert mc.lists.get(audience_id)["stats"]["member_count"] == 3


def test_existing_member_without_update_existing_is_contact_exists(
    api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    result = api.post(f"lists/{audience_id}", json={"members": [entry(1), entry(2)]})
    assert result.status_code == 200
    body = result.json()
    assert (body["total_created"], body["total_updated"], body["error_count"]) == (1, 0, 1)
    assert body["errors"][0]["email_address"] == address(1)
    assert body["errors"][0]["error_code"] == "ERROR_CONTACT_EXISTS"
    assert "already a list member" in body["errors"][0]["error"]


def test_update_existing_updates(api: Api, audience_id: str) -> None:
    api.subscribe(audience_id, address(1), merge_fields={"FNAME": "Old"})
    body = {"members": [entry(1, merge_fields={"FNAME": "New"})], "update_existing": True}
    result = api.post(f"lists/{audience_id}", json=body).json()
    assert (result["total_created"], result["total_updated"]) == (0, 1)
    assert result["updated_members"][0]["merge_fields"]["FNAME"] == "New"


def test_update_existing_applies_the_status_sent_to_existing_members(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    api.subscribe(audience_id, address(2))
    sandbox.control.simulate_admin_unsubscribe(audience_id, address(2))
    members = [entry(1, status="unsubscribed"), entry(2, status="subscribed")]
    result = api.post(
        f"lists/{audience_id}", json={"members": members, "update_existing": True}
    ).json()
    assert [(m["email_address"], m["status"]) for m in result["updated_members"]] == [
        (address(1), "unsubscribed"),
        (address(2), "subscribed"),
    ]


def test_status_if_new_is_not_in_the_schema(api: Api, audience_id: str) -> None:
    """Batch subscribe's members have no status_if_new: it is ignored, so an entry with
    only that has no status at all."""
    members = [
        {"email_address": address(1), "status_if_new": "subscribed"},
        entry(2, status="pending", status_if_new="subscribed"),
    ]
    result = api.post(f"lists/{audience_id}", json={"members": members}).json()
    assert [(e["email_address"], e["field"]) for e in result["errors"]] == [(address(1), "status")]
    assert [(m["email_address"], m["status"]) for m in result["new_members"]] == [
        (address(2), "pending")
    ]


def test_archived_member_comes_back_created_with_the_status_sent(
    api: Api, audience_id: str
) -> None:
    """Reported in new_members, and update_existing:false does not protect it."""
    api.subscribe(audience_id, address(1), merge_fields={"FNAME": "Ann"})
    api.delete(f"lists/{audience_id}/members/{address(1)}")
    result = api.post(f"lists/{audience_id}", json={"members": [entry(1, status="pending")]}).json()
    assert (result["total_created"], result["total_updated"], result["error_count"]) == (1, 0, 0)
    assert result["new_members"][0]["status"] == "pending"
    assert result["new_members"][0]["merge_fields"]["FNAME"] == "Ann"


def test_one_bad_member_does_not_fail_the_others(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.unsubscribed(audience_id, address(9), sandbox.control)
    members = [
        entry(1),
        {"email_address": "fake@example.com", "status": "subscribed"},
        entry(2, merge_fields={"BIRTHDAY": "31/12"}),
        entry(9),
        {"email_address": address(3)},
        entry(4),
    ]
    result = api.post(
        f"lists/{audience_id}", json={"members": members, "update_existing": True}
    ).json()
    assert result["total_created"] == 2
    assert result["error_count"] == 4
    errors = {e["email_address"]: e for e in result["errors"]}
    assert set(errors) == {"fake@example.com", address(2), address(9), address(3)}
    assert all(e["error_code"] == "ERROR_GENERIC" for e in errors.values())
    assert "looks fake or invalid" in errors["fake@example.com"]["error"]
    assert errors[address(2)]["field"] == "BIRTHDAY"
    assert errors[address(2)]["field_message"]
    assert "compliance state" in errors[address(9)]["error"]
    assert sandbox.control.member(audience_id, address(9))["status"] == "unsubscribed"


def test_more_than_500_members_is_400(api: Api, audience_id: str) -> None:
    response = api.post(f"lists/{audience_id}", json={"members": [entry(n) for n in range(501)]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "members"
    assert api.get(f"lists/{audience_id}/members").json()["total_items"] == 0


def test_500_members_are_fine(api: Api, audience_id: str) -> None:
    result = api.post(f"lists/{audience_id}", json={"members": [entry(n) for n in range(500)]})
    assert result.json()["total_created"] == 500


def test_tags_apply_to_new_members_only(api: Api, audience_id: str) -> None:
    """Existing members keep their tags, archived ones brought back included."""
    api.subscribe(audience_id, address(1), tags=["old"])
    api.subscribe(audience_id, address(3), tags=["old"])
    api.delete(f"lists/{audience_id}/members/{address(3)}")
    body = {
        "members": [entry(n, tags=["managed"]) for n in (1, 2, 3)],
        "update_existing": True,
        "sync_tags": True,
    }
    result = api.post(f"lists/{audience_id}", json=body).json()
    assert (result["total_created"], result["total_updated"]) == (2, 1)
    assert tag_names(api, audience_id, 1) == ["old"]
    assert tag_names(api, audience_id, 2) == ["managed"]
    assert tag_names(api, audience_id, 3) == ["old"]


@pytest.mark.parametrize("status", ["unsubscribed", "pending"])
def test_status_is_applied(api: Api, audience_id: str, status: str) -> None:
    result = api.post(f"lists/{audience_id}", json={"members": [entry(1, status=status)]}).json()
    assert result["new_members"][0]["status"] == status


def test_exclude_fields_keeps_counts_and_errors_only(api: Api, audience_id: str) -> None:
    members = [entry(1), {"email_address": "x@example.com", "status": "subscribed"}]
    result = api.post(
        f"lists/{audience_id}",
        json={"members": members},
        params={"exclude_fields": "new_members,updated_members"},
    ).json()
    assert "new_members" not in result
    assert (result["total_created"], result["error_count"]) == (1, 1)
    assert result["errors"][0]["email_address"] == "x@example.com"


def test_a_batch_subscribe_sets_known_languages_and_drops_others(
    api: Api, audience_id: str
) -> None:
    members = [entry(1, language="it"), entry(2, language="de-CH")]
    result = api.post(f"lists/{audience_id}", json={"members": members}).json()

    assert (result["total_created"], result["error_count"]) == (2, 0)
    languages = [api.get(f"lists/{audience_id}/members/{address(n)}").json() for n in (1, 2)]
    assert [member["language"] for member in languages] == ["it", ""]
