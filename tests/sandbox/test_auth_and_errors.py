"""Authentication, data centres and the problem+json shape of every error."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
import requests
from mailchimp3 import MailChimp
from mailchimp3.mailchimpclient import MailChimpError

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: requests.Response, status: int, title: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    document = response.json()
    assert set(document) >= PROBLEM_KEYS
    assert (document["status"], document["title"]) == (status, title)
    return document


def test_ping_through_mailchimp3(mc: MailChimp) -> None:
    assert mc.ping.get() == {"health_status": "Everything's Chimpy!"}


def test_ping_without_data_centre_in_path(sandbox: Sandbox, account_key: str) -> None:
    api = sandbox.api(account_key, base_url=f"{sandbox.url}/3.0/")
    assert api.get("ping").json()["health_status"] == "Everything's Chimpy!"


def test_head_is_answered_like_get_without_a_body(api: Api) -> None:
    response = api.request("HEAD", "ping")
    assert (response.status_code, response.content) == (200, b"")


def test_missing_key_is_401(sandbox: Sandbox, account_key: str) -> None:
    anonymous = sandbox.api(None, base_url=sandbox.base_url(account_key))
    document = assert_problem(anonymous.get("ping"), 401, "API Key Invalid")
    assert "did not include an API key" in document["detail"]


def test_unknown_key_is_401(sandbox: Sandbox) -> None:
    stranger = sandbox.api("f" * 32 + "-us1")
    assert_problem(stranger.get("ping"), 401, "API Key Invalid")


def test_unknown_key_raises_through_mailchimp3(sandbox: Sandbox) -> None:
    with pytest.raises(MailChimpError) as raised:
        sandbox.mailchimp("e" * 32 + "-us1").ping.get()
    assert raised.value.args[0]["title"] == "API Key Invalid"


def test_wrong_data_centre_is_401(sandbox: Sandbox, account_key: str) -> None:
    wrong_dc = sandbox.api(account_key, base_url=f"{sandbox.url}/us9/3.0/")
    document = assert_problem(wrong_dc.get("ping"), 401, "API Key Invalid")
    assert "wrong datacenter" in document["detail"]


def test_account_from_another_data_centre(sandbox: Sandbox) -> None:
    key = sandbox.control.add_account(dc="us21")
    assert key.endswith("-us21")
    assert sandbox.api(key).get("ping").status_code == 200


def test_unknown_audience_is_404(api: Api) -> None:
    document = assert_problem(api.get("lists/0123456789"), 404, "Resource Not Found")
    assert document["detail"] == "The requested resource could not be found."


def test_other_accounts_audience_is_404(sandbox: Sandbox, api: Api) -> None:
    other_key = sandbox.control.add_account()
    others = sandbox.control.add_audience(other_key, "Not yours")
    assert_problem(api.get(f"lists/{others}"), 404, "Resource Not Found")
    assert_problem(api.get(f"lists/{others}/members"), 404, "Resource Not Found")


def test_unknown_route_is_404_problem(api: Api) -> None:
    assert_problem(api.get("no-such-thing"), 404, "Resource Not Found")


def test_wrong_method_is_405_problem(api: Api) -> None:
    document = assert_problem(api.delete("ping"), 405, "Method Not Allowed")
    assert "compatible" in document["detail"]


def test_malformed_json_is_400_naming_the_problem(api: Api, audience_id: str) -> None:
    response = api.post(
        f"lists/{audience_id}/members",
        data=b'{"email_address": "x@acme-members.org", ',
        headers={"Content-Type": "application/json"},
    )
    document = assert_problem(response, 400, "JSON Parse Exception")
    assert "JSON" in document["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1, 2], "body"),
        ({"email_address": 42, "status": "subscribed"}, "email_address"),
        ({"email_address": "a@acme-members.org", "status": "happy"}, "status"),
        ({"email_address": "a@acme-members.org", "status": "archived"}, "status"),
        (
            {"email_address": "a@acme-members.org", "status": "subscribed", "merge_fields": []},
            "merge_fields",
        ),
        ({"email_address": "a@acme-members.org", "status": "subscribed", "vip": "yes"}, "vip"),
        ({"email_address": "a@acme-members.org", "status": "subscribed", "tags": [{}]}, "tags"),
    ],
)
def test_wrong_types_get_a_400_naming_the_field(
    api: Api, audience_id: str, body: object, field: str
) -> None:
    document = assert_problem(
        api.post(f"lists/{audience_id}/members", json=body), 400, "Invalid Resource"
    )
    assert [e["field"] for e in document["errors"]] == [field]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "lists/{id}", {"members": "all of them"}),
        ("POST", "lists/{id}", {"members": [1, "x", None]}),
        ("POST", "lists/{id}/segments", {"name": ["not", "text"]}),
        ("POST", "lists/{id}/segments/notanumber", {}),
        ("POST", "lists/{id}/merge-fields", {"name": "Size", "type": "colour"}),
        ("POST", "lists/{id}/webhooks", {"url": 7}),
        ("POST", "batches", {"operations": [{"method": "GET", "path": "ping", "body": {}}]}),
        ("POST", "batches", {"operations": "ping"}),
        ("GET", "lists/{id}/members?count=many", None),
        ("GET", "lists/{id}/members?since_last_changed=yesterday", None),
        ("GET", "lists/{id}/members?status=asleep", None),
        ("PATCH", "lists/{id}/members/{hash}", "not an object"),
        ("POST", "lists/{id}/members/{hash}/tags", {"tags": [{"name": "x", "status": "on"}]}),
    ],
)
def test_bad_input_is_never_a_server_error(
    api: Api, audience_id: str, method: str, path: str, body: object
) -> None:
    member = api.subscribe(audience_id, "someone@acme-members.org")
    response = api.request(method, path.format(id=audience_id, hash=member["id"]), json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["detail"]


def test_an_answer_carries_one_date_by_the_sandboxs_clock(sandbox: Sandbox, api: Api) -> None:
    """Exports read Mailchimp's clock from it; a second, wall-clock Date came first once."""
    moved = sandbox.control.advance_clock(600)
    response = api.get("/ping")
    assert response.raw.headers.getlist("Date") == [response.headers["Date"]]
    assert parsedate_to_datetime(response.headers["Date"]) >= datetime.fromisoformat(moved)
