"""Static segments and tags, which are one and the same store."""

from __future__ import annotations

from mailchimp3 import MailChimp

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address


def fill(api: Api, audience_id: str, count: int) -> None:
    members = [{"email_address": address(n), "status": "subscribed"} for n in range(count)]
    assert api.post(f"lists/{audience_id}", json={"members": members}).json()["error_count"] == 0


def test_create_static_segment_with_members(mc: MailChimp, api: Api, audience_id: str) -> None:
    fill(api, audience_id, 3)
    segment = mc.lists.segments.create(
        audience_id, {"name": "Board", "static_segment": [address(0), address(1), address(99)]}
    )
    assert (segment["name"], segment["type"], segment["member_count"]) == ("Board", "static", 2)
    assert mc.lists.segments.get(audience_id, segment["id"])["member_count"] == 2
    listed = mc.lists.segments.all(audience_id, get_all=True)
    assert [s["name"] for s in listed["segments"]] == ["Board"]


def test_duplicate_segment_name_is_refused(api: Api, audience_id: str) -> None:
    assert api.post(f"lists/{audience_id}/segments", json={"name": "Board"}).ok
    assert api.post(f"lists/{audience_id}/segments", json={"name": "board"}).status_code == 400


def test_a_tag_is_a_static_segment(api: Api, audience_id: str) -> None:
    fill(api, audience_id, 1)
    body = {"tags": [{"name": "volunteer", "status": "active"}]}
    api.post(f"lists/{audience_id}/members/{address(0)}/tags", json=body)
    segments = api.get(f"lists/{audience_id}/segments").json()["segments"]
    assert [(s["name"], s["member_count"]) for s in segments] == [("volunteer", 1)]
    segment = api.post(f"lists/{audience_id}/segments", json={"name": "Board"}).json()
    api.post(f"lists/{audience_id}/segments/{segment['id']}", json={"members_to_add": [address(0)]})
    member = api.get(f"lists/{audience_id}/members/{address(0)}").json()
    assert sorted(t["name"] for t in member["tags"]) == ["Board", "volunteer"]


def test_batch_add_and_remove_members(mc: MailChimp, api: Api, audience_id: str) -> None:
    fill(api, audience_id, 4)
    segment = mc.lists.segments.create(
        audience_id, {"name": "Board", "static_segment": [address(0)]}
    )
    result = mc.lists.segments.update_members(
        audience_id,
        segment["id"],
        {
            "members_to_add": [address(1), address(2), address(50)],
            "members_to_remove": [address(0)],
        },
    )
    assert result["total_added"] == 2
    assert result["total_removed"] == 1
    assert result["error_count"] == 1
    assert result["errors"][0]["email_addresses"] == [address(50)]
    members = mc.lists.segments.members.all(audience_id, segment["id"], get_all=True)
    assert sorted(m["email_address"] for m in members["members"]) == [address(1), address(2)]
    assert members["total_items"] == 2


def test_more_than_500_items_per_call_is_400(api: Api, audience_id: str) -> None:
    segment = api.post(f"lists/{audience_id}/segments", json={"name": "Big"}).json()
    for field in ("members_to_add", "members_to_remove"):
        body = {field: [address(n) for n in range(501)]}
        response = api.post(f"lists/{audience_id}/segments/{segment['id']}", json=body)
        assert response.status_code == 400
        assert "Maximum allowed member items exceeded" in response.json()["errors"][0]["message"]


def test_segment_membership_change_moves_last_changed(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    fill(api, audience_id, 1)
    before = api.get(f"lists/{audience_id}/members/{address(0)}").json()["last_changed"]
    sandbox.control.advance_clock(30)
    segment = api.post(f"lists/{audience_id}/segments", json={"name": "Board"}).json()
    api.post(f"lists/{audience_id}/segments/{segment['id']}", json={"members_to_add": [address(0)]})
    after = api.get(f"lists/{audience_id}/members/{address(0)}").json()["last_changed"]
    assert after > before


def test_rename_replace_and_delete(api: Api, audience_id: str) -> None:
    fill(api, audience_id, 3)
    segment = api.post(
        f"lists/{audience_id}/segments", json={"name": "A", "static_segment": [address(0)]}
    ).json()
    path = f"lists/{audience_id}/segments/{segment['id']}"
    patched = api.patch(path, json={"name": "B", "static_segment": [address(1), address(2)]}).json()
    assert (patched["name"], patched["member_count"]) == ("B", 2)
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.get(f"lists/{audience_id}/members/{address(1)}").json()["tags"] == []


def test_single_member_add_and_remove(api: Api, audience_id: str) -> None:
    fill(api, audience_id, 1)
    segment = api.post(f"lists/{audience_id}/segments", json={"name": "A"}).json()
    path = f"lists/{audience_id}/segments/{segment['id']}/members"
    assert api.post(path, json={"email_address": address(0)}).json()["tags_count"] == 1
    assert api.delete(f"{path}/{address(0)}").status_code == 204
    assert api.delete(f"{path}/{address(0)}").status_code == 404
