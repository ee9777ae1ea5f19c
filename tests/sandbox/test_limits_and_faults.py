"""The connection cap and injected faults, as a client on the wire experiences them."""

from __future__ import annotations

import time

import pytest
import requests
from mailchimp3 import MailChimp
from mailchimp3.mailchimpclient import MailChimpError

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, concurrent_pings


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
