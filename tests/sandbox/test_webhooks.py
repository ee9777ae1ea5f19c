"""Webhooks: validation GET, registration, and real form-encoded deliveries filtered by
event and source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mcbridge_sandbox import SandboxControl, SandboxServer
from mcbridge_sandbox.keys import subscriber_hash
from mcbridge_sandbox.models import WEBHOOK_EVENTS, WEBHOOK_SOURCES
from mcbridge_sandbox.webhooks import TIMEOUT_SECONDS

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, WebhookReceiver, address, member_path, wait_for

ALL_EVENTS = dict.fromkeys(WEBHOOK_EVENTS, True)


def only_from(source: str) -> dict[str, bool]:
    return {name: name == source for name in WEBHOOK_SOURCES}


def register(
    api: Api,
    audience_id: str,
    url: str,
    events: dict[str, bool] | None = None,
    sources: dict[str, bool] | None = None,
) -> dict[str, Any]:
    body = {
        "url": url,
        "events": events or ALL_EVENTS,
        "sources": sources or {"user": True, "admin": True, "api": True},
    }
    response = api.post(f"lists/{audience_id}/webhooks", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_registration_validates_the_url_with_a_get(
    api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    hook = register(api, audience_id, webhook_receiver.url())
    validation = webhook_receiver.received[0]
    assert (validation.method, validation.path) == ("GET", "/hooks/secret-token")
    assert "MailChimp" in validation.user_agent
    assert hook["url"] == webhook_receiver.url()
    assert hook["list_id"] == audience_id
    assert api.get(f"lists/{audience_id}/webhooks/{hook['id']}").json() == hook
    listed = api.get(f"lists/{audience_id}/webhooks").json()
    assert [h["id"] for h in listed["webhooks"]] == [hook["id"]]
    assert api.delete(f"lists/{audience_id}/webhooks/{hook['id']}").status_code == 204
    assert api.get(f"lists/{audience_id}/webhooks/{hook['id']}").status_code == 404


def test_url_that_does_not_answer_2xx_is_refused(
    api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.validation_status = 404
    response = api.post(f"lists/{audience_id}/webhooks", json={"url": webhook_receiver.url()})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "url"


def test_unreachable_url_is_refused(api: Api, audience_id: str) -> None:
    response = api.post(f"lists/{audience_id}/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 400


def test_defaults_leave_api_changes_out(
    api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    hook = api.post(f"lists/{audience_id}/webhooks", json={"url": webhook_receiver.url()}).json()
    assert hook["sources"] == {"user": True, "admin": True, "api": False}
    assert hook["events"]["unsubscribe"] is True


def test_unsubscribe_delivery(
    sandbox: Sandbox, api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    register(api, audience_id, webhook_receiver.url())
    api.subscribe(audience_id, address(1), merge_fields={"FNAME": "Ann", "LNAME": "Lee"})
    sandbox.control.simulate_unsubscribe(audience_id, address(1))
    form = webhook_receiver.wait_for_posts(2)[1].form
    assert form["type"] == "unsubscribe"
    assert len(form["fired_at"]) == len("2026-01-01 10:00:00")
    assert form["data[email]"] == address(1)
    assert form["data[list_id]"] == audience_id
    assert form["data[id]"] == subscriber_hash(address(1))
    assert form["data[action]"] == "unsub"
    assert form["data[merges][FNAME]"] == "Ann"
    assert form["data[merges][LNAME]"] == "Lee"


def test_upemail_delivery(
    sandbox: Sandbox, api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    api.subscribe(audience_id, address(1))
    register(api, audience_id, webhook_receiver.url())
    sandbox.control.simulate_email_change(audience_id, address(1), address(2))
    form = webhook_receiver.wait_for_posts(1)[0].form
    assert form["type"] == "upemail"
    assert form["data[old_email]"] == address(1)
    assert form["data[new_email]"] == address(2)
    assert form["data[new_id]"] == subscriber_hash(address(2))
    assert api.get(member_path(audience_id, address(2))).json()["email_address"] == address(2)
    assert api.get(member_path(audience_id, address(1))).status_code == 404


@pytest.mark.parametrize("reason", ["hard", "abuse"])
def test_cleaned_delivery(
    sandbox: Sandbox, api: Api, audience_id: str, webhook_receiver: WebhookReceiver, reason: str
) -> None:
    api.subscribe(audience_id, address(1))
    register(api, audience_id, webhook_receiver.url())
    sandbox.control.simulate_bounce(audience_id, address(1), reason=reason)
    form = webhook_receiver.wait_for_posts(1)[0].form
    assert (form["type"], form["data[reason]"], form["data[email]"]) == (
        "cleaned",
        reason,
        address(1),
    )


def test_profile_and_signup_deliveries(
    sandbox: Sandbox, api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    register(api, audience_id, webhook_receiver.url())
    sandbox.control.simulate_signup(audience_id, address(1), {"FNAME": "Ann"})
    sandbox.control.simulate_profile_update(audience_id, address(1), {"FNAME": "Anna"})
    subscribe, profile = (p.form for p in webhook_receiver.wait_for_posts(2))
    assert (subscribe["type"], subscribe["data[merges][FNAME]"]) == ("subscribe", "Ann")
    assert (profile["type"], profile["data[merges][FNAME]"]) == ("profile", "Anna")


def test_only_enabled_events_fire(
    sandbox: Sandbox, api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    api.subscribe(audience_id, address(1))
    events = {**dict.fromkeys(ALL_EVENTS, False), "unsubscribe": True}
    register(api, audience_id, webhook_receiver.url(), events=events)
    sandbox.control.simulate_profile_update(audience_id, address(1), {"FNAME": "X"})
    sandbox.control.simulate_unsubscribe(audience_id, address(1))
    posts = webhook_receiver.wait_for_posts(1)
    assert [p.form["type"] for p in posts] == ["unsubscribe"]


def test_only_enabled_sources_fire(
    sandbox: Sandbox, api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    for n in (1, 2, 4):
        api.subscribe(audience_id, address(n))
    for source in ("user", "admin"):
        hook_url = webhook_receiver.url(f"/hooks/{source}")
        register(api, audience_id, hook_url, sources=only_from(source))
    api.patch(member_path(audience_id, address(1)), json={"status": "unsubscribed"})
    sandbox.control.simulate_bounce(audience_id, address(2))
    sandbox.control.simulate_signup(audience_id, address(3))
    sandbox.control.simulate_admin_unsubscribe(audience_id, address(4))
    sandbox.control.simulate_admin_archive(audience_id, address(4))
    admin = webhook_receiver.wait_for_posts(3, "/hooks/admin")
    assert [(p.form["type"], p.form["data[email]"], p.form.get("data[action]")) for p in admin] == [
        ("cleaned", address(2), None),
        ("unsubscribe", address(4), "unsub"),
        ("unsubscribe", address(4), "delete"),
    ]
    user = webhook_receiver.posts("/hooks/user")
    assert [(p.form["type"], p.form["data[email]"]) for p in user] == [("subscribe", address(3))]


def test_api_changes_fire_with_source_api(
    api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    register(api, audience_id, webhook_receiver.url(), sources=only_from("api"))
    api.subscribe(audience_id, address(1))
    api.patch(member_path(audience_id, address(1)), json={"merge_fields": {"FNAME": "Z"}})
    api.patch(member_path(audience_id, address(1)), json={"status": "unsubscribed"})
    api.delete(member_path(audience_id, address(1)))
    posts = webhook_receiver.wait_for_posts(4)
    assert [p.form["type"] for p in posts] == ["subscribe", "profile", "unsubscribe", "unsubscribe"]
    assert [p.form.get("data[action]") for p in posts[2:]] == ["unsub", "delete"]


def unsubscribe_forms(receiver: WebhookReceiver, count: int) -> list[tuple[str, str, str]]:
    posts = receiver.wait_for_posts(count)
    return [
        (p.form["data[email]"], p.form["data[action]"], p.form["data[reason]"])
        for p in posts
        if p.form["type"] == "unsubscribe"
    ]


def test_every_unsubscribe_says_its_action_and_reason(
    sandbox: Sandbox, api: Api, audience_id: str, webhook_receiver: WebhookReceiver
) -> None:
    """unsub: the contact left (or was unsubscribed); delete: archived or deleted; the
    reason is abuse for a spam complaint, manual otherwise."""
    for n in range(1, 9):
        api.subscribe(audience_id, address(n))
    register(api, audience_id, webhook_receiver.url(), events={"unsubscribe": True})
    control = sandbox.control
    api.patch(member_path(audience_id, address(1)), json={"status": "unsubscribed"})
    api.delete(member_path(audience_id, address(2)))
    api.post(member_path(audience_id, address(3)) + "/actions/delete-permanent")
    control.simulate_unsubscribe(audience_id, address(4))
    control.simulate_unsubscribe(audience_id, address(5), abuse=True)
    control.simulate_admin_unsubscribe(audience_id, address(6))
    control.simulate_admin_archive(audience_id, address(7))
    entry = {"email_address": address(8), "status": "unsubscribed"}
    api.post(f"lists/{audience_id}", json={"members": [entry], "update_existing": True})
    assert unsubscribe_forms(webhook_receiver, 8) == [
        (address(1), "unsub", "manual"),
        (address(2), "delete", "manual"),
        (address(3), "delete", "manual"),
        (address(4), "unsub", "manual"),
        (address(5), "unsub", "abuse"),
        (address(6), "unsub", "manual"),
        (address(7), "delete", "manual"),
        (address(8), "unsub", "manual"),
    ]


# Retries, on a sandbox of their own with short delays --------------------------------------


@pytest.fixture(scope="module")
def retrying_sandbox() -> Iterator[Sandbox]:
    with SandboxServer(webhook_retry_delays=(0.05, 0.1, 0.2)) as server:
        yield Sandbox(server, SandboxControl(server.url))


@pytest.fixture
def retrying_api(retrying_sandbox: Sandbox) -> tuple[Api, str]:
    """A fresh account and audience, and no deliveries of earlier tests on record."""
    retrying_sandbox.control.clear_webhook_deliveries()
    key = retrying_sandbox.control.add_account()
    return retrying_sandbox.api(key), retrying_sandbox.control.add_audience(key)


def settled_delivery(sandbox: Sandbox, email: str) -> dict[str, Any]:
    """The delivery about `email`, once no further attempt is due."""

    def probe() -> dict[str, Any] | None:
        found = [
            d
            for d in sandbox.control.webhook_deliveries()
            if d["data"].get("data[email]") == email and not d["retrying"]
        ]
        return found[0] if found else None

    return wait_for(probe)


def test_a_failed_delivery_is_retried_until_answered(
    retrying_sandbox: Sandbox, retrying_api: tuple[Api, str], webhook_receiver: WebhookReceiver
) -> None:
    api, audience_id = retrying_api
    register(api, audience_id, webhook_receiver.url())
    webhook_receiver.answers = [(500, 0.0), (503, 0.0)]
    retrying_sandbox.control.simulate_signup(audience_id, address(1))
    delivery = settled_delivery(retrying_sandbox, address(1))
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert (delivery["status"], delivery["error"]) == (200, "")
    forms = [p.form for p in webhook_receiver.wait_for_posts(3)]
    assert forms[0] == forms[1] == forms[2]


def test_retries_stop_after_a_few_attempts(
    retrying_sandbox: Sandbox, retrying_api: tuple[Api, str], webhook_receiver: WebhookReceiver
) -> None:
    api, audience_id = retrying_api
    register(api, audience_id, webhook_receiver.url())
    webhook_receiver.answers = [(410, 0.0)] * 10
    retrying_sandbox.control.simulate_signup(audience_id, address(1))
    delivery = settled_delivery(retrying_sandbox, address(1))
    assert [a["status"] for a in delivery["attempts"]] == [410] * 4
    assert len(webhook_receiver.posts()) == 4


def test_an_answer_that_comes_too_late_is_a_failed_attempt(
    retrying_sandbox: Sandbox, retrying_api: tuple[Api, str], webhook_receiver: WebhookReceiver
) -> None:
    api, audience_id = retrying_api
    register(api, audience_id, webhook_receiver.url())
    dispatcher = retrying_sandbox.server.runtime.webhooks
    dispatcher.timeout, webhook_receiver.answers = 0.2, [(200, 0.5)]
    try:
        retrying_sandbox.control.simulate_signup(audience_id, address(1))
        delivery = settled_delivery(retrying_sandbox, address(1))
    finally:
        dispatcher.timeout = TIMEOUT_SECONDS
    assert [(a["status"], a["error"]) for a in delivery["attempts"]] == [
        (None, "ReadTimeout"),
        (200, ""),
    ]
