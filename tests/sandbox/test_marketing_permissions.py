"""GDPR-enabled audiences: each contact has every marketing permission of the audience, on
or off. Mailchimp lists them only on members; a contact added without them has them all
off; adding and PATCH set them; batch subscribe does not."""

from __future__ import annotations

import pytest
from mailchimp3 import MailChimp
from mailchimp3.mailchimpclient import MailChimpError
from mcbridge_sandbox.keys import subscriber_hash

from tests.sandbox.conftest import Sandbox

ALICE = "alice.martin@acme-members.org"


@pytest.fixture
def gdpr_audience(sandbox: Sandbox, account_key: str) -> str:
    return sandbox.control.add_audience(
        account_key, "Members", marketing_permissions=["Email", "Direct Mail"]
    )


def permissions(member: dict) -> dict[str, bool]:
    return {item["text"]: item["enabled"] for item in member["marketing_permissions"]}


def permission_ids(member: dict) -> dict[str, str]:
    return {
        item["text"]: item["marketing_permission_id"] for item in member["marketing_permissions"]
    }


def add(mc: MailChimp, audience: str, email: str, **body: object) -> dict:
    return mc.lists.members.create(
        audience, {"email_address": email, "status": "subscribed", **body}
    )


def test_a_contact_added_without_permissions_has_them_all_off(mc, gdpr_audience):
    added = add(mc, gdpr_audience, ALICE)

    assert permissions(added) == {"Email": False, "Direct Mail": False}
    assert permissions(mc.lists.members.get(gdpr_audience, subscriber_hash(ALICE))) == {
        "Email": False,
        "Direct Mail": False,
    }


def test_adding_and_patching_set_the_permissions_named(mc, gdpr_audience):
    ids = permission_ids(add(mc, gdpr_audience, "first@acme-members.org"))
    email_on = [{"marketing_permission_id": ids["Email"], "enabled": True}]

    added = add(mc, gdpr_audience, ALICE, marketing_permissions=email_on)
    assert permissions(added) == {"Email": True, "Direct Mail": False}

    mail_on = [{"marketing_permission_id": ids["Direct Mail"], "enabled": True}]
    patched = mc.lists.members.update(
        gdpr_audience, subscriber_hash(ALICE), {"marketing_permissions": mail_on}
    )
    assert permissions(patched) == {"Email": True, "Direct Mail": True}


def test_a_permission_the_audience_does_not_have_is_refused(mc, gdpr_audience, audience_id):
    unknown = [{"marketing_permission_id": "0123456789", "enabled": True}]

    for audience in (gdpr_audience, audience_id):
        with pytest.raises(MailChimpError) as raised:
            add(mc, audience, ALICE, marketing_permissions=unknown)
        assert raised.value.args[0]["status"] == 400
        assert "0123456789" in raised.value.args[0]["errors"][0]["message"]


def test_an_audience_without_gdpr_fields_shows_no_permissions(mc, audience_id):
    assert "marketing_permissions" not in add(mc, audience_id, ALICE)


def test_batch_subscribe_adds_contacts_with_every_permission_off(mc, gdpr_audience):
    ids = permission_ids(add(mc, gdpr_audience, "first@acme-members.org"))
    email_on = [{"marketing_permission_id": ids["Email"], "enabled": True}]
    entry = {"email_address": ALICE, "status": "subscribed", "marketing_permissions": email_on}

    mc.lists.update_members(gdpr_audience, {"members": [entry], "update_existing": True})

    alice = mc.lists.members.get(gdpr_audience, subscriber_hash(ALICE))
    assert permissions(alice) == {"Email": False, "Direct Mail": False}


def test_the_audience_says_whether_it_has_marketing_permissions(mc, gdpr_audience, audience_id):
    """Mailchimp: "Whether or not the list has marketing permissions (eg. GDPR) enabled"."""
    assert mc.lists.get(gdpr_audience)["marketing_permissions"] is True
    assert mc.lists.get(audience_id)["marketing_permissions"] is False
