"""Unsubscribes, bounces and address changes flowing back from Mailchimp, as real webhooks
delivered by the sandbox to the app served over HTTP."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from mcbridge.extensions import db
from mcbridge.jobs import execute, ignore_progress, reserve
from mcbridge.models import AudienceMember, MailchimpEvent, MailingList, Person
from tests import factories as make
from tests.helpers import LiveServer, link_on_page, post_form, sign_in, wait_for


@pytest.fixture
def live(app):
    with LiveServer(app) as server:
        app.config["MCBRIDGE_PUBLIC_URL"] = server.url
        yield server


@pytest.fixture
def linked(app, client, sandbox, live):
    """A club list, linked through its Mailchimp tab by its leader, and exported once."""
    club = make.group("Club")
    leader_type, member_type = make.role_type("Leader", manages=True), make.role_type("Member")
    leader = make.person("Lea", "Leader", email="lea@club-mail.ch")
    make.role(leader, club, leader_type)
    people = [make.person(name) for name in ("Anna", "Ben", "Carla")]
    for person in people:
        make.role(person, club, member_type)
    newsletter = make.mailing_list(club, "Club news")
    make.role_rule(newsletter, club, member_type)
    db.session.commit()
    user = make.user(leader.email, holder=leader)
    sign_in(client, user.email)
    key = sandbox.add_account()
    audience = sandbox.add_audience(key, "Club audience")
    response = link_on_page(client, newsletter.id, key, audience)
    assert response.status_code == 302
    db.session.expire_all()
    newsletter = db.session.get(MailingList, newsletter.id)
    run = reserve(newsletter, "cli", None, False)
    execute(run, ignore_progress)
    return SimpleNamespace(list=newsletter, people=people, audience=audience, key=key)


def events(kind: str) -> list[MailchimpEvent]:
    db.session.expire_all()
    return db.session.query(MailchimpEvent).filter_by(kind=kind).all()


def registered_url(linked, sandbox_server) -> str:
    """The webhook URL as Mailchimp holds it (the sandbox only registers URLs that answered
    its validation GET)."""
    base = sandbox_server.api_base_url.format(dc=linked.key.rsplit("-", 1)[1])
    answer = requests.get(
        f"{base}lists/{linked.audience}/webhooks", auth=("mcbridge", linked.key), timeout=10
    ).json()
    (webhook,) = answer["webhooks"]
    return webhook["url"]


def test_linking_registers_a_webhook_that_mailchimp_validated(linked, live, sandbox_server):
    assert linked.list.webhook_id
    assert linked.list.webhook_error is None
    url = registered_url(linked, sandbox_server)
    assert url.startswith(f"{live.url}/mailchimp/webhook/{linked.list.id}/")
    assert len(url.rsplit("/", 1)[1]) >= 40


def test_an_unsubscribe_shows_on_the_subscriber_view_and_is_never_re_added(linked, sandbox, client):
    anna = linked.people[0]
    sandbox.simulate_unsubscribe(linked.audience, anna.email)

    assert wait_for(lambda: events("unsubscribe"))
    page = client.get(f"/admin/subscribers/{linked.list.id}/").get_data(as_text=True)
    row = page[page.index(anna.email) :].split("</tr>")[0]
    assert "unsubscribed" in row

    anna.first_name = "Anna-Maria"
    db.session.commit()
    run = reserve(linked.list, "cli", None, False)
    execute(run, ignore_progress)
    assert (run.kept_unsubscribed, run.updated, run.write_calls) == (1, 0, 0)


def test_a_bounce_flags_the_address_on_the_person(linked, sandbox, client):
    ben = linked.people[1]
    sandbox.simulate_bounce(linked.audience, ben.email)

    assert wait_for(lambda: events("cleaned"))
    db.session.expire_all()
    assert db.session.get(Person, ben.id).email_bounced_at is not None
    people_page = client.get("/admin/people/").get_data(as_text=True)
    assert "bouncing" in people_page[people_page.index(ben.email) :].split("</tr>")[0]


def test_an_address_change_waits_for_review_then_applies(linked, sandbox, client):
    carla = linked.people[2]
    sandbox.simulate_email_change(linked.audience, carla.email, "carla.new@club-mail.ch")
    assert wait_for(lambda: events("upemail"))
    db.session.expire_all()
    assert db.session.get(Person, carla.id).email == carla.email  # not applied silently

    run = reserve(linked.list, "cli", None, False)
    execute(run, ignore_progress)
    # both the old address and the new one are held: not re-added, not archived
    assert (run.added, run.archived, run.pending) == (0, 0, 2)
    assert sandbox.member(linked.audience, "carla.new@club-mail.ch")["status"] == "subscribed"

    subscribers = f"/admin/subscribers/{linked.list.id}/"
    page = client.get(subscribers).get_data(as_text=True)
    assert "carla.new@club-mail.ch" in page
    change = events("upemail")[0]
    post_form(
        client,
        f"/admin/mailchimp/{linked.list.id}/address-change/{change.id}/apply",
        {},
        page=subscribers,
    )
    db.session.expire_all()
    assert db.session.get(Person, carla.id).email == "carla.new@club-mail.ch"
    assert events("upemail")[0].review == "applied"


def test_a_profile_change_is_held_for_review_and_never_overwritten_silently(
    linked, sandbox, client
):
    anna, ben = linked.people[0], linked.people[1]
    sandbox.simulate_profile_update(linked.audience, anna.email, {"FNAME": "Annie"})
    sandbox.simulate_profile_update(linked.audience, ben.email, {"FNAME": "Benny"})
    assert wait_for(lambda: len(events("profile")) == 2)
    anna.first_name, ben.first_name = "Anna-Maria", "Benjamin"
    db.session.commit()

    held = reserve(linked.list, "cli", None, False)
    execute(held, ignore_progress)
    assert (held.updated, held.pending) == (0, 2)
    assert sandbox.member(linked.audience, anna.email)["merge_fields"]["FNAME"] == "Annie"

    subscribers = f"/admin/subscribers/{linked.list.id}/"
    page = client.get(subscribers).get_data(as_text=True)
    assert "Annie" in page
    assert "Benny" in page
    by_email = {event.email: event for event in events("profile")}
    for email, decision in ((anna.email, "apply"), (ben.email, "dismiss")):
        post_form(
            client,
            f"/admin/mailchimp/{linked.list.id}/address-change/{by_email[email].id}/{decision}",
            {},
            page=subscribers,
        )
    db.session.expire_all()
    assert db.session.get(Person, anna.id).first_name == "Annie"  # Mailchimp's side won

    after = reserve(linked.list, "cli", None, False)
    execute(after, ignore_progress)
    assert after.updated == 1  # Ben: mcbridge's side won, its value goes out again
    assert sandbox.member(linked.audience, anna.email)["merge_fields"]["FNAME"] == "Annie"
    assert sandbox.member(linked.audience, ben.email)["merge_fields"]["FNAME"] == "Benjamin"


def webhook_url(linked, live, secret: str) -> str:
    return f"{live.url}/mailchimp/webhook/{linked.list.id}/{secret}"


def delivery(linked, **overrides) -> dict[str, str]:
    return {
        "type": "unsubscribe",
        "fired_at": "2026-11-22 10:00:00",
        "data[email]": linked.people[0].email,
        "data[list_id]": linked.audience,
        **overrides,
    }


def test_a_wrong_secret_is_refused_and_changes_nothing(linked, live):
    response = requests.post(
        webhook_url(linked, live, "guessed"), data=delivery(linked), timeout=10
    )
    assert response.status_code == 404
    assert requests.get(webhook_url(linked, live, "guessed"), timeout=10).status_code == 404
    assert events("unsubscribe") == []


def test_malformed_deliveries_are_refused_and_change_nothing(linked, sandbox_server):
    url = registered_url(linked, sandbox_server)
    for broken in (
        {"type": "teleport"},
        {"fired_at": "yesterday"},
        {"data[list_id]": ""},
        {"data[email]": ""},
    ):
        response = requests.post(url, data=delivery(linked, **broken), timeout=10)
        assert response.status_code == 400, broken
    assert events("unsubscribe") == []


def test_deliveries_that_no_longer_concern_a_list_are_answered_200_and_ignored(
    linked, sandbox_server, live
):
    """Mailchimp disables a webhook that keeps failing: an audience the list left, or a
    list deleted since, is no reason to fail a well-formed delivery."""
    url = registered_url(linked, sandbox_server)
    moved = requests.post(url, data=delivery(linked, **{"data[list_id]": "other"}), timeout=10)
    db.session.delete(linked.list)
    db.session.commit()
    gone = requests.post(url, data=delivery(linked), timeout=10)
    assert (moved.status_code, gone.status_code) == (200, 200)
    assert events("unsubscribe") == []


def test_an_admin_archive_is_not_an_unsubscribe_and_is_never_undone(linked, sandbox):
    anna = linked.people[0]
    sandbox.simulate_admin_archive(linked.audience, anna.email)
    assert wait_for(lambda: events("unsubscribe"))
    member = db.session.query(AudienceMember).filter_by(email=anna.email).one()
    assert member.status == "archived"

    run = reserve(linked.list, "cli", None, False)
    execute(run, ignore_progress)

    assert (run.archived_elsewhere, run.resubscribed) == (1, 0)
    assert sandbox.member(linked.audience, anna.email)["status"] == "archived"
    assert sandbox.consent_ledger(linked.audience) == []


def test_a_spam_complaint_is_an_unsubscribe_not_a_bounce(linked, sandbox):
    ben = linked.people[1]
    sandbox.simulate_unsubscribe(linked.audience, ben.email, abuse=True)
    assert wait_for(lambda: events("unsubscribe") or events("cleaned"))
    db.session.expire_all()
    member = db.session.query(AudienceMember).filter_by(email=ben.email).one()
    assert member.status == "unsubscribed"
    assert db.session.get(Person, ben.id).email_bounced_at is None

    run = reserve(linked.list, "cli", None, False)
    execute(run, ignore_progress)
    assert run.kept_unsubscribed == 1
    assert sandbox.member(linked.audience, ben.email)["status"] != "subscribed"
    assert sandbox.consent_ledger(linked.audience) == []


def test_the_same_event_twice_is_recorded_once(linked, sandbox_server):
    url = registered_url(linked, sandbox_server)
    first = requests.post(url, data=delivery(linked), timeout=10)
    second = requests.post(url, data=delivery(linked), timeout=10)
    assert (first.text, second.text) == ("recorded", "already recorded")
    assert len(events("unsubscribe")) == 1
    member = db.session.query(AudienceMember).filter_by(email=linked.people[0].email).one()
    assert member.status == "unsubscribed"


def test_exports_pick_up_unsubscribes_without_a_webhook(app, linked, sandbox):
    linked.list.webhook_id, linked.list.webhook_secret_hash = None, None
    db.session.commit()
    sandbox.clear_webhook_deliveries()
    bounce = linked.people[1]
    sandbox.simulate_bounce(linked.audience, bounce.email)

    run = reserve(linked.list, "cli", None, False)
    execute(run, ignore_progress)

    assert run.bounced == 1
    db.session.expire_all()
    assert db.session.get(Person, bounce.id).email_bounced_at is not None


def test_events_about_addresses_mcbridge_does_not_manage_change_nothing(linked, sandbox_server):
    """Whoever can post to the audience's webhook must not flag anyone else as bouncing."""
    outsider = make.person("Otto", email="otto@federation-mail.ch")
    db.session.commit()
    url = registered_url(linked, sandbox_server)
    bounce = {"type": "cleaned", "data[email]": outsider.email, "data[reason]": "hard"}

    response = requests.post(url, data=delivery(linked, **bounce), timeout=10)

    assert (response.status_code, response.text) == (200, "ignored: not a contact mcbridge manages")
    db.session.expire_all()
    assert db.session.get(Person, outsider.id).email_bounced_at is None
    assert events("cleaned") == []


def test_addresses_and_encodings_are_checked_like_a_forms(linked, sandbox_server):
    url = registered_url(linked, sandbox_server)
    change = {"type": "upemail", "data[old_email]": linked.people[0].email}
    for new_email in ("not an address", "eve@", "a@b@c.ch"):
        body = delivery(linked, **change, **{"data[new_email]": new_email})
        assert requests.post(url, data=body, timeout=10).status_code == 400, new_email
    raw = "type=unsubscribe&fired_at=2026-11-22+10%3A00%3A00&data%5Bemail%5D=%FF%FE%40x.ch"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert requests.post(url, data=raw, headers=headers, timeout=10).status_code == 400
    assert events("upemail") == []
    assert events("unsubscribe") == []
