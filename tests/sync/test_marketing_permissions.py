"""GDPR audiences: contacts a list adds get the marketing permissions its Mailchimp tab
turned on; contacts it did not add keep their own."""

from __future__ import annotations

import pytest

from mcbridge.extensions import db
from tests.sync.conftest import link

PERMISSIONS = ("Email", "Direct Mail")
CARLA = "carla.owner@rowing-basel.ch"


def permissions(member: dict) -> dict[str, bool]:
    return {item["text"]: item["enabled"] for item in member["marketing_permissions"]}


@pytest.fixture
def gdpr_club(club):
    """The club's newsletter linked to a GDPR audience that holds Carla, added by the
    audience's owner with Direct Mail on; the newsletter turns Email on for the contacts
    it adds."""
    audience = club.sandbox.add_audience(club.key, "GDPR", marketing_permissions=PERMISSIONS)
    carla = club.mailchimp().lists.members.create(
        audience, {"email_address": CARLA, "status": "subscribed"}
    )
    ids = {item["text"]: item["marketing_permission_id"] for item in carla["marketing_permissions"]}
    club.mailchimp().lists.members.update(
        audience,
        carla["id"],
        {
            "marketing_permissions": [
                {"marketing_permission_id": ids["Direct Mail"], "enabled": True}
            ]
        },
    )
    link(club.newsletter, club.key, audience)
    club.newsletter.marketing_permissions = [
        {"id": ids["Email"], "text": "Email", "enabled": True},
        {"id": ids["Direct Mail"], "text": "Direct Mail", "enabled": False},
    ]
    db.session.commit()
    club.audience = audience
    club.sandbox.clear_requests()
    yield club
    assert club.sandbox.consent_ledger(audience) == [], "an export re-subscribed someone"


def subscribe_calls(club) -> list[dict]:
    """Batch subscribes: POSTs to the audience itself."""
    return [
        call
        for call in club.write_calls()
        if call["method"] == "POST" and call["path"].endswith(f"/lists/{club.audience}")
    ]


def test_contacts_added_one_by_one_carry_the_lists_permissions(gdpr_club):
    anna, ben = gdpr_club.join("Anna"), gdpr_club.join("Ben")

    run = gdpr_club.export()

    assert (run.state, run.added) == ("success", 2)
    for email in (anna.email, ben.email):
        member = gdpr_club.member(email)
        assert member["status"] == "subscribed"
        assert permissions(member) == {"Email": True, "Direct Mail": False}
        assert "mcbridge: Club news" in {tag["name"] for tag in member["tags"]}
    assert subscribe_calls(gdpr_club) == []


def test_many_contacts_added_through_a_batch_job_carry_them_too(app, gdpr_club):
    app.config["MAILCHIMP_BATCH_ARCHIVE_THRESHOLD"] = 2
    people = [gdpr_club.join(f"Member{number}") for number in range(5)]

    run = gdpr_club.export()

    assert (run.state, run.added) == ("success", 5)
    for person in people:
        assert permissions(gdpr_club.member(person.email)) == {"Email": True, "Direct Mail": False}
    assert [call["path"] for call in gdpr_club.write_calls()] == ["/3.0/batches"]
    assert gdpr_club.export().state == "unchanged"


def test_an_existing_contact_keeps_its_own_permissions_and_status(gdpr_club):
    carla = gdpr_club.join("Carla", email=CARLA)

    run = gdpr_club.export()

    assert (run.state, run.added, run.updated) == ("success", 0, 1)
    member = gdpr_club.member(carla.email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "Carla")
    assert permissions(member) == {"Email": False, "Direct Mail": True}


def test_an_address_that_signs_up_during_the_export_is_left_as_it_signed_up(gdpr_club):
    anna = gdpr_club.join("Anna")
    gdpr_club.sandbox.simulate_before_next_write(gdpr_club.audience, "signup", email=anna.email)

    run = gdpr_club.export()

    assert run.already_in_audience == 1
    assert permissions(gdpr_club.member(anna.email)) == {"Email": False, "Direct Mail": False}


def test_without_a_permission_turned_on_contacts_are_batch_subscribed(gdpr_club):
    chosen = gdpr_club.newsletter.marketing_permissions
    gdpr_club.newsletter.marketing_permissions = [{**item, "enabled": False} for item in chosen]
    db.session.commit()
    anna = gdpr_club.join("Anna")

    run = gdpr_club.export()

    assert (run.state, run.added) == ("success", 1)
    assert len(subscribe_calls(gdpr_club)) == 1
    assert permissions(gdpr_club.member(anna.email)) == {"Email": False, "Direct Mail": False}
