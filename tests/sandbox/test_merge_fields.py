"""Merge fields: Mailchimp's defaults, definitions, and values checked against their type."""

from __future__ import annotations

from typing import Any

import pytest
from mailchimp3 import MailChimp
from mailchimp3.mailchimpclient import MailChimpError

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address, member_path

EXTRA_FIELDS = [
    {"tag": "AGE", "name": "Age", "type": "number"},
    {"tag": "JOINED", "name": "Joined", "type": "date", "options": {"date_format": "DD/MM/YYYY"}},
    {"tag": "SITE", "name": "Website", "type": "url"},
    {"tag": "PHOTO", "name": "Photo", "type": "imageurl"},
    {"tag": "USPHONE", "name": "US phone", "type": "phone", "options": {"phone_format": "US"}},
    {"tag": "ZIP", "name": "Zip", "type": "zip"},
    {"tag": "SIZE", "name": "Size", "type": "dropdown", "options": {"choices": ["S", "M", "L"]}},
    {"tag": "GENDER", "name": "Gender", "type": "radio", "options": {"choices": ["f", "m", "x"]}},
]


@pytest.fixture
def typed_audience(sandbox: Sandbox, account_key: str) -> str:
    return sandbox.control.add_audience(account_key, "Typed", merge_fields=EXTRA_FIELDS)


def test_new_audience_has_mailchimps_default_fields(mc: MailChimp, audience_id: str) -> None:
    fields = mc.lists.merge_fields.all(audience_id, get_all=True)
    assert [(f["tag"], f["type"]) for f in fields["merge_fields"]] == [
        ("FNAME", "text"),
        ("LNAME", "text"),
        ("ADDRESS", "address"),
        ("PHONE", "phone"),
        ("BIRTHDAY", "birthday"),
    ]
    assert fields["total_items"] == 5


def test_audience_without_default_fields(sandbox: Sandbox, account_key: str, api: Api) -> None:
    bare = sandbox.control.add_audience(account_key, "Bare", default_merge_fields=False)
    assert api.get(f"lists/{bare}/merge-fields").json()["total_items"] == 0
    response = api.put(
        member_path(bare, address(1)),
        json={
            "email_address": address(1),
            "status_if_new": "subscribed",
            "merge_fields": {"FNAME": "A"},
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "FNAME", "message": "This merge field does not exist."}
    ]


def test_create_read_update_delete(mc: MailChimp, api: Api, audience_id: str) -> None:
    created = mc.lists.merge_fields.create(
        audience_id, {"name": "Member number", "type": "number", "tag": "memno"}
    )
    assert (created["tag"], created["type"], created["required"]) == ("MEMNO", "number", False)
    merge_id = created["merge_id"]
    assert mc.lists.merge_fields.get(audience_id, merge_id)["name"] == "Member number"
    api.subscribe(audience_id, address(1), merge_fields={"MEMNO": 42})
    renamed = mc.lists.merge_fields.update(
        audience_id, merge_id, {"name": "Number", "tag": "NUMBER"}
    )
    assert (renamed["name"], renamed["tag"]) == ("Number", "NUMBER")
    member = api.get(member_path(audience_id, address(1))).json()
    assert member["merge_fields"]["NUMBER"] == 42
    assert "MEMNO" not in member["merge_fields"]
    assert api.delete(f"lists/{audience_id}/merge-fields/{merge_id}").status_code == 204
    assert api.get(f"lists/{audience_id}/merge-fields/{merge_id}").status_code == 404
    assert "NUMBER" not in api.get(member_path(audience_id, address(1))).json()["merge_fields"]


def test_tag_is_generated_when_absent(api: Api, audience_id: str) -> None:
    created = api.post(
        f"lists/{audience_id}/merge-fields", json={"name": "Notes", "type": "text"}
    ).json()
    assert created["tag"] == f"MMERGE{created['merge_id']}"


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "Long", "type": "text", "tag": "ELEVENCHARS"},
        {"name": "Dup", "type": "text", "tag": "FNAME"},
        {"name": "Email", "type": "text", "tag": "EMAIL"},
        {"name": "Bad", "type": "colour"},
        {"type": "text"},
        {"name": "Pick", "type": "dropdown"},
        {"name": "Day", "type": "date", "options": {"date_format": "YYYY"}},
    ],
)
def test_invalid_definitions_are_refused(api: Api, audience_id: str, spec: dict) -> None:
    response = api.post(f"lists/{audience_id}/merge-fields", json=spec)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] in (
        "tag",
        "type",
        "name",
        "options.choices",
        "options.date_format",
    )


def test_type_cannot_change(mc: MailChimp, audience_id: str) -> None:
    with pytest.raises(MailChimpError) as raised:
        mc.lists.merge_fields.update(audience_id, 1, {"name": "First", "type": "number"})
    assert raised.value.args[0]["errors"][0]["field"] == "type"
    assert mc.lists.merge_fields.get(audience_id, 1)["name"] == "First Name"


@pytest.mark.parametrize(
    ("tag", "good", "bad"),
    [
        ("AGE", "42", "forty-two"),
        ("AGE", 42.5, True),
        ("JOINED", "2024-02-29", "29/02/2024"),
        ("JOINED", "2024-12-31", "2023-02-29"),
        ("BIRTHDAY", "12/31", "31/12"),
        ("BIRTHDAY", "02/29", "2/3"),
        ("SITE", "https://acme-members.org/alice", "acme-members.org"),
        ("PHOTO", "http://img.acme-members.org/a.png", "ftp://img.acme-members.org/a.png"),
        ("PHONE", "+41 79 555 12 34", "call me"),
        ("USPHONE", "(212) 555-1234", "+41 79 555 12 34"),
        ("ZIP", "94105-1234", "9410"),
        ("SIZE", "M", "XL"),
        ("GENDER", "x", "y"),
        ("FNAME", "Ada", {"first": "Ada"}),
        ("FNAME", "A" * 255, "A" * 256),
        (
            "ADDRESS",
            {"addr1": "1 Main St", "city": "Bern", "state": "BE", "zip": "3000", "country": "CH"},
            {"addr1": "1 Main St", "city": "Bern"},
        ),
        ("ADDRESS", "", "1 Main St Bern"),
    ],
)
def test_values_are_checked_against_their_type(
    api: Api, typed_audience: str, tag: str, good: Any, bad: Any
) -> None:
    path = member_path(typed_audience, address(1))
    body = {"email_address": address(1), "status_if_new": "subscribed"}
    accepted = api.put(path, json={**body, "merge_fields": {tag: good}})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["merge_fields"][tag] == good
    refused = api.put(path, json={**body, "merge_fields": {tag: bad}})
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == [tag]
    assert refused.json()["errors"][0]["message"]


def test_required_field_must_be_given_for_new_members(
    sandbox: Sandbox, account_key: str, api: Api
) -> None:
    audience = sandbox.control.add_audience(
        account_key,
        "Strict",
        default_merge_fields=False,
        merge_fields=[{"tag": "MEMNO", "name": "Member no.", "type": "number", "required": True}],
    )
    path = member_path(audience, address(1))
    body = {"email_address": address(1), "status_if_new": "subscribed"}
    missing = api.put(path, json=body)
    assert missing.status_code == 400
    assert missing.json()["errors"] == [
        {"field": "MEMNO", "message": "This value is required and cannot be empty."}
    ]
    skipped = api.put(path, json=body, params={"skip_merge_validation": "true"})
    assert skipped.status_code == 200
    api.put(path, json={**body, "merge_fields": {"MEMNO": 7}})
    blanked = api.patch(path, json={"merge_fields": {"MEMNO": ""}})
    assert blanked.json()["errors"][0]["field"] == "MEMNO"
    renamed = api.patch(path, json={"email_type": "text"})
    assert renamed.status_code == 200
