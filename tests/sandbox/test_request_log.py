"""The request log that tests use to count calls, and that it never holds a key."""

from __future__ import annotations

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address


def test_each_api_request_is_recorded(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    api.get(f"lists/{audience_id}/members", params={"count": 5})
    api.subscribe(audience_id, address(1))
    api.get("lists/nope")
    entries = sandbox.control.requests(api_key=account_key)
    assert [(e["method"], e["status"]) for e in entries] == [
        ("GET", 200),
        ("PUT", 200),
        ("GET", 404),
    ]
    first = entries[0]
    assert first["path"] == f"/3.0/lists/{audience_id}/members"
    assert first["query"] == "count=5"
    assert first["duration_ms"] >= 0
    assert first["key"] == f"…{account_key[28:32]}-us1"


def test_path_is_the_same_with_or_without_data_centre(sandbox: Sandbox, account_key: str) -> None:
    sandbox.api(account_key).get("ping")
    sandbox.api(account_key, base_url=f"{sandbox.url}/3.0/").get("ping")
    paths = [e["path"] for e in sandbox.control.requests(api_key=account_key)]
    assert paths == ["/3.0/ping", "/3.0/ping"]


def test_filters_count_write_calls(
    sandbox: Sandbox, account_key: str, api: Api, audience_id: str
) -> None:
    api.subscribe(audience_id, address(1))
    api.subscribe(audience_id, address(2))
    api.get(f"lists/{audience_id}/members")
    writes = sandbox.control.requests(
        api_key=account_key, method="PUT", path_prefix=f"/lists/{audience_id}/members"
    )
    assert len(writes) == 2


def test_keys_never_appear_in_the_log(sandbox: Sandbox, account_key: str) -> None:
    sandbox.api(account_key).get("ping")
    sandbox.api("a" * 32 + "-us1").get("ping")
    text = str(sandbox.control.requests())
    assert account_key not in text
    assert account_key[:32] not in text
    assert "a" * 32 not in text


def test_log_can_be_cleared(sandbox: Sandbox, account_key: str, api: Api) -> None:
    api.get("ping")
    sandbox.control.clear_requests()
    assert sandbox.control.requests(api_key=account_key) == []
