"""The Mailchimp tab of a list linked to a GDPR audience: which marketing permissions are
on for the contacts the list adds."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from mailchimp3 import MailChimp

from mcbridge.extensions import db
from tests import factories as make
from tests.admin.test_mailchimp_link import export, link_page, reloaded, save

PERMISSIONS = ("Email", "Direct Mail")
OWNER_CONTACT = "owner.contact@news-mail.ch"


def mailchimp(sandbox_server, key: str) -> MailChimp:
    client = MailChimp(mc_api=key)
    client.base_url = sandbox_server.api_base_url.format(dc=key.rsplit("-", 1)[1])
    return client


def gdpr_audience(sandbox, org, *, with_contact: bool, sandbox_server) -> SimpleNamespace:
    key = sandbox.add_account()
    audience = sandbox.add_audience(key, "GDPR news", marketing_permissions=PERMISSIONS)
    ids = {}
    if with_contact:
        contact = mailchimp(sandbox_server, key).lists.members.create(
            audience, {"email_address": OWNER_CONTACT, "status": "subscribed"}
        )
        ids = {
            item["text"]: item["marketing_permission_id"]
            for item in contact["marketing_permissions"]
        }
    granted = make.audience_of(key, audience, org.north)
    return SimpleNamespace(key=key, audience=audience, granted=granted, ids=ids)


@pytest.fixture
def gdpr(sandbox, org, sandbox_server) -> SimpleNamespace:
    return gdpr_audience(sandbox, org, with_contact=True, sandbox_server=sandbox_server)


def checkboxes(page: str) -> dict[str, bool]:
    """Each permission's label, and whether its box is ticked."""
    found = re.findall(
        r'<input class="form-check-input" type="checkbox" name="marketing_permission" '
        r'value="[^"]+" id="([^"]+)"( checked)?>\s*<label class="form-check-label" '
        r'for="\1">([^<]+)</label>',
        page,
    )
    return {label: bool(ticked) for _id, ticked, label in found}


def page_of(client, org) -> str:
    return client.get(link_page(org)).get_data(as_text=True)


def test_a_gdpr_audience_shows_its_permissions_and_the_ticked_ones_reach_added_contacts(
    as_leader, org, gdpr, sandbox, sandbox_server
):
    save(as_leader, org, audience=gdpr.granted.id, consent="y")
    page = page_of(as_leader, org)
    assert checkboxes(page) == {"Email": False, "Direct Mail": False}
    assert 'id="no-marketing-permission"' in page

    response = save(
        as_leader, org, audience=gdpr.granted.id, marketing_permission=[gdpr.ids["Email"]]
    )

    assert response.status_code == 302
    page = page_of(as_leader, org)
    assert checkboxes(page) == {"Email": True, "Direct Mail": False}
    assert 'id="no-marketing-permission"' not in page
    export(org)
    alice = sandbox.member(gdpr.audience, org.alice.email)
    assert {item["text"]: item["enabled"] for item in alice["marketing_permissions"]} == {
        "Email": True,
        "Direct Mail": False,
    }
    owner = sandbox.member(gdpr.audience, OWNER_CONTACT)
    assert not any(item["enabled"] for item in owner["marketing_permissions"])


def test_a_permission_the_audience_no_longer_has_is_dropped_with_a_message(as_leader, org, gdpr):
    save(as_leader, org, audience=gdpr.granted.id, consent="y")
    linked = reloaded(org)
    linked.marketing_permissions = [
        *linked.marketing_permissions,
        {"id": "0000000000", "text": "Text messages", "enabled": True},
    ]
    db.session.commit()

    response = save(
        as_leader,
        org,
        audience=gdpr.granted.id,
        marketing_permission=[gdpr.ids["Email"], "0000000000"],
    )

    page = as_leader.get(response.headers["Location"]).get_data(as_text=True)
    assert "no longer turned on for the contacts this list adds: Text messages." in page
    assert checkboxes(page) == {"Email": True, "Direct Mail": False}
    assert [item["text"] for item in reloaded(org).marketing_permissions] == list(PERMISSIONS)


def test_an_audience_without_gdpr_fields_shows_no_permissions(as_leader, org, sandbox):
    key = sandbox.add_account()
    plain = make.audience_of(key, sandbox.add_audience(key, "Plain news"), org.north)

    save(as_leader, org, audience=plain.id, consent="y")

    page = page_of(as_leader, org)
    assert 'id="marketing-permissions"' not in page
    assert reloaded(org).marketing_permissions is None


def test_an_empty_gdpr_audience_explains_why_no_permission_can_be_chosen_yet(
    as_leader, org, sandbox, sandbox_server
):
    empty = gdpr_audience(sandbox, org, with_contact=False, sandbox_server=sandbox_server)

    save(as_leader, org, audience=empty.granted.id, consent="y")

    page = page_of(as_leader, org)
    assert 'id="marketing-permissions-unknown"' in page
    assert checkboxes(page) == {}
    assert reloaded(org).marketing_permissions == []
