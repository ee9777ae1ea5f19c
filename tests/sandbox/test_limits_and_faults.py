"""The connection cap and injected faults, as a client on the wire experiences them."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from mailchimp3 import MailChimp
from mailchimp3.mailchimpclient import MailChimpError
from mcbridge_sandbox import SandboxControlError

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address, concurrent_pings


def test_eleventh_simultaneous_request_is_429(sandbox: Sandbox, account_key: str) -> None:
    sandbox.control.add_latency(600, api_key=account_key)
    statuses = concurrent_pings(lambda _n: sandbox.api(account_key), 11)
    assert sorted(statuses) == [200] * 10 + [429]


def test_cap_is_per_key(sandbox: Sandbox, account_key: str) -> None:
    other_key = sandbox.control.add_account()
    sandbox.control.add_latency(400, api_key=account_key)
    keys = [account_key] * 10 + [other_key]
    assert concurrent_pings(lambda n: sandbox.api(keys[n]), 11) == [200] * 11


def test_429_body_and_retry_after(sandbox: Sandbox, api: Api) -> None:
    sandbox.control.inject_fault(429, times=2, retry_after=3)
    for _ in range(2):
        response = api.get("ping")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "3"
        assert response.json()["title"] == "Too Many Requests"
    assert api.get("ping").status_code == 200


def test_429_without_retry_after(sandbox: Sandbox, api: Api) -> None:
    sandbox.control.inject_fault(429)
    response = api.get("ping")
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_with_and_without_body(sandbox: Sandbox, api: Api, status: int) -> None:
    sandbox.control.inject_fault(status)
    with_body = api.get("ping")
    assert with_body.status_code == status
    assert with_body.headers["Content-Type"].startswith("application/problem+json")
    sandbox.control.inject_fault(status, body=False)
    bodyless = api.get("ping")
    assert (bodyless.status_code, bodyless.content) == (status, b"")


def test_bodyless_error_through_mailchimp3(sandbox: Sandbox, mc: MailChimp) -> None:
    sandbox.control.inject_fault(503, body=False)
    with pytest.raises(MailChimpError) as raised:
        mc.ping.get()
    assert set(raised.value.args[0]) == {"response"}
    assert raised.value.args[0]["response"].status_code == 503


def test_dropped_connection_is_a_connection_error(
    sandbox: Sandbox, api: Api, mc: MailChimp
) -> None:
    sandbox.control.drop_connections(times=2)
    with pytest.raises(requests.ConnectionError):
        api.get("ping")
    with pytest.raises(requests.ConnectionError):
        mc.ping.get()
    assert api.get("ping").status_code == 200
    statuses = [r["status"] for r in sandbox.control.requests(path_prefix="/ping")][-3:]
    assert statuses == [0, 0, 200]


def test_latency_persists_until_cleared(sandbox: Sandbox, api: Api) -> None:
    sandbox.control.add_latency(150)
    for _ in range(2):
        started = time.perf_counter()
        api.get("ping")
        assert time.perf_counter() - started >= 0.15
    sandbox.control.clear_faults()
    started = time.perf_counter()
    api.get("ping")
    assert time.perf_counter() - started < 0.15


def logged_calls(sandbox: Sandbox, account_key: str) -> list[tuple[int, float]]:
    """(members, duration_ms) of each call the request log holds for the key."""
    entries = sandbox.control.requests(api_key=account_key)
    return [(e["members"], e["duration_ms"]) for e in entries]


def batch_of(numbers: range) -> dict[str, Any]:
    return {"members": [{"email_address": address(n), "status": "subscribed"} for n in numbers]}


def test_latency_grows_with_the_members_of_a_batch_subscribe(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    sandbox.control.add_latency(0, per_member_ms=20, api_key=account_key)
    assert api.post(f"lists/{audience_id}", json=batch_of(range(1))).ok
    assert api.post(f"lists/{audience_id}", json=batch_of(range(1, 11))).ok
    (one, one_ms), (ten, ten_ms) = logged_calls(sandbox, account_key)
    assert (one, ten) == (1, 10)
    assert 20 <= one_ms < 200 <= ten_ms


def test_a_member_listing_waits_for_the_members_it_answers_with(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    assert api.post(f"lists/{audience_id}", json=batch_of(range(3))).ok
    sandbox.control.clear_requests()
    sandbox.control.add_latency(50, per_member_ms=60, api_key=account_key)
    api.get(f"lists/{audience_id}/members", params={"count": 10})
    api.get(f"lists/{audience_id}/members", params={"count": 10, "offset": 3})
    (asked, asked_ms), (past_the_end, past_the_end_ms) = logged_calls(sandbox, account_key)
    assert (asked, past_the_end) == (3, 0)
    assert 50 <= past_the_end_ms < 230 <= asked_ms


def test_segment_and_batch_calls_count_their_members(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    assert api.post(f"lists/{audience_id}", json=batch_of(range(3))).ok
    segment = api.post(f"lists/{audience_id}/segments", json={"name": "Board"}).json()
    sandbox.control.clear_requests()
    sandbox.control.add_latency(10, per_member_ms=1, api_key=account_key)
    changes = {"members_to_add": [address(0), address(1)], "members_to_remove": [address(2)]}
    api.post(f"lists/{audience_id}/segments/{segment['id']}", json=changes)
    operations = [{"method": "GET", "path": "/ping"}] * 4
    api.post("batches", json={"operations": operations})
    api.get("ping")
    assert [members for members, _ms in logged_calls(sandbox, account_key)] == [3, 4, 1]


def test_a_negative_delay_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxControlError, match="negative"):
        sandbox.control.add_latency(300, per_member_ms=-2)


def test_faults_can_be_scoped(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    other = sandbox.api(sandbox.control.add_account())
    sandbox.control.inject_fault(
        503, times=None, api_key=account_key, method="GET", path_prefix="/lists"
    )
    assert other.get("lists").status_code == 200
    assert api.get("ping").status_code == 200
    assert api.post(f"lists/{audience_id}", json={"members": []}).status_code == 200
    assert api.get(f"lists/{audience_id}").status_code == 503
    assert api.get("lists").status_code == 503
    sandbox.control.clear_faults()
    assert api.get("lists").status_code == 200


def test_faults_are_used_in_order(sandbox: Sandbox, api: Api) -> None:
    sandbox.control.inject_fault(500)
    sandbox.control.inject_fault(429, times=2)
    assert [api.get("ping").status_code for _ in range(4)] == [500, 429, 429, 200]


def test_bodiless_403_is_throttling_not_a_refused_key(sandbox: Sandbox, api: Api) -> None:
    sandbox.control.inject_fault(403, body=False)
    response = api.get("ping")
    assert (response.status_code, response.content) == (403, b"")
    assert api.get("ping").status_code == 200


def test_large_pages_time_out_and_smaller_ones_get_through(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    sandbox.control.inject_fault(504, times=None, method="GET", min_count=1000)
    listing = f"lists/{audience_id}/members"
    assert api.get(listing, params={"count": 1000}).status_code == 504
    assert api.get(listing, params={"count": 5000}).status_code == 504
    assert api.get(listing, params={"count": 500}).status_code == 200
    assert api.get(listing).status_code == 200
    assert api.get("ping").status_code == 200


def read_by_offset(api: Api, audience_id: str, count: int) -> tuple[list[str], int]:
    """Every page the way a naive export reads them: by offset until total_items."""
    read: list[str] = []
    offset, total = 0, 1
    while offset < total:
        page = api.get(
            f"lists/{audience_id}/members", params={"count": count, "offset": offset}
        ).json()
        read += [m["email_address"] for m in page["members"]]
        offset, total = offset + count, page["total_items"]
    return read, total


def test_a_shifting_listing_repeats_some_members_and_misses_others(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    members = [{"email_address": address(n), "status": "subscribed"} for n in range(25)]
    api.post(f"lists/{audience_id}", json={"members": members})
    sandbox.control.shift_member_pages(3, times=3)

    read, total = read_by_offset(api, audience_id, 10)

    assert (len(read), total) == (25, 25)
    assert len(set(read)) < 25
    assert read[10:13] == [address(n) for n in (4, 5, 6)]
    assert set(read) < {address(n) for n in range(25)}
    assert read_by_offset(api, audience_id, 10)[0] == [address(n) for n in range(25)]


def test_a_shifting_listing_read_in_one_page_is_whole(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    members = [{"email_address": address(n), "status": "subscribed"} for n in range(5)]
    api.post(f"lists/{audience_id}", json={"members": members})
    sandbox.control.shift_member_pages(2)
    read, total = read_by_offset(api, audience_id, 1000)
    assert (sorted(read), total) == (sorted(address(n) for n in range(5)), 5)


def test_drop_after_processing_does_the_work_and_loses_the_answer(
    sandbox: Sandbox, account_key: str, api: Api
) -> None:
    sandbox.control.pause_batches()
    sandbox.control.drop_connections(after_processing=True, method="POST", path_prefix="/batches")
    with pytest.raises(requests.ConnectionError):
        api.post("batches", json={"operations": [{"method": "GET", "path": "ping"}]})
    assert api.get("batches").json()["total_items"] == 1
    logged = sandbox.control.requests(api_key=account_key, path_prefix="/batches")
    assert [r["status"] for r in logged] == [0, 200]


def test_a_change_lands_right_before_the_next_write(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    scheduled = sandbox.control.simulate_before_next_write(
        audience_id, "unsubscribe", email=address(1)
    )
    assert scheduled["outcome"] == "pending"
    assert api.get(f"lists/{audience_id}/members/{address(1)}").json()["status"] == "subscribed"
    response = api.put(
        f"lists/{audience_id}/members/{address(1)}",
        json={"email_address": address(1), "status": "subscribed"},
    )
    assert response.json()["title"] == "Member In Compliance State"
    [ran] = [s for s in sandbox.control.scheduled_simulations() if s["id"] == scheduled["id"]]
    assert ran["outcome"] == "done"


def test_a_scheduled_change_waits_for_its_own_account(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    other = sandbox.api(sandbox.control.add_account())
    sandbox.control.simulate_before_next_write(audience_id, "admin-archive", email=address(1))
    other.post("batches", json={"operations": []})
    assert sandbox.control.member(audience_id, address(1))["status"] == "subscribed"
    api.post("batches", json={"operations": []})
    assert sandbox.control.member(audience_id, address(1))["status"] == "archived"


def test_a_scheduled_change_that_is_refused_says_why(
    sandbox: Sandbox, api: Api, audience_id: str
) -> None:
    scheduled = sandbox.control.simulate_before_next_write(
        audience_id, "bounce", email=address(404)
    )
    api.subscribe(audience_id, address(1))
    [ran] = [s for s in sandbox.control.scheduled_simulations() if s["id"] == scheduled["id"]]
    assert ran["outcome"].startswith("404 Resource Not Found")
    with pytest.raises(SandboxControlError, match="404"):
        sandbox.control.simulate_before_next_write(audience_id, "vanish", email=address(1))


def test_clear_faults_drops_scheduled_changes(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    api.subscribe(audience_id, address(1))
    sandbox.control.simulate_before_next_write(audience_id, "unsubscribe", email=address(1))
    sandbox.control.clear_faults()
    api.subscribe(audience_id, address(2))
    assert sandbox.control.member(audience_id, address(1))["status"] == "subscribed"
