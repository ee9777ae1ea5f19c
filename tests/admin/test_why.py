""" "Why (not)?": why a list is, or is not, sent to a person or an address."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from mcbridge.extensions import db
from mcbridge.models import AdditionalEmail, MailchimpEvent
from tests import factories as make
from tests.admin.conftest import Organisation
from tests.admin.test_suppressed import in_audience, refuse
from tests.helpers import wait_for
from tests.test_webhooks import events, linked, live  # noqa: F401  (a list Mailchimp reports to)

LEFT_OUT_BY_FIELD = "Left out by the condition on a person field"


def why(client, org: Organisation, **args) -> str:
    response = client.get(f"/admin/why/{org.north_list.id}/", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_role_and_rule_that_bring_someone_in(as_leader, org):
    page = why(as_leader, org, person=org.alice.id)

    assert "receives this list" in page
    assert (
        "Brought in as Member in Federation / North / Club A, by the rule "
        "“Member in Federation / North and the groups below”."
    ) in page
    assert org.alice.email in page


def test_an_ended_role_says_when_it_ended(as_leader, org):
    org.alice_role.end_on = date.today() - timedelta(days=3)
    db.session.commit()

    page = why(as_leader, org, person=org.alice.id)

    assert "does not receive this list" in page
    assert "Their role Member in Federation / North / Club A ended on" in page
    assert "Brought in" not in page


def test_excluded_by_name_and_without_address(as_leader, org):
    make.person_rule(org.north_list, org.alice, excluded=True)
    ghost = make.person("Ghost", "NoMail", email=None)
    make.role(ghost, org.club_a, org.member_type)
    db.session.commit()

    excluded = why(as_leader, org, person=org.alice.id)
    no_address = why(as_leader, org, person=ghost.id)

    assert "Excluded from the list by name: it is never sent to them." in excluded
    assert "Their role Member in Federation / North / Club A matches the rule" in excluded
    assert "Brought in" not in excluded
    assert "does not receive this list" in excluded
    assert "No address: the list cannot reach them." in no_address
    assert "does not receive this list" in no_address


def test_a_shared_address_goes_to_its_first_holder_and_other_addresses_are_named(as_leader, org):
    twin = make.person("Alice", "Twin", email=org.alice.email, extra=(("twin@club-mail.ch", True),))
    make.role(twin, org.club_a, org.member_type)
    db.session.commit()

    page = why(as_leader, org, person=twin.id)

    assert "shared: sent once, to the first person holding it" in page
    assert "not used by this list" in page
    assert "does not receive this list" in page


def test_the_lists_filters_and_delivery_labels_say_what_leaves_someone_out(as_leader, org):
    org.north_list.filter_gender = "female"
    org.north_list.sync_all_delivery_addresses = True
    org.north_list.delivery_labels = ["work"]
    org.alice.additional_emails.append(
        AdditionalEmail(email="alice.home@club-mail.ch", label="home", mailings=True)
    )
    db.session.commit()

    page = why(as_leader, org, person=org.alice.id)

    assert "A rule reaches them, but the list’s conditions leave them out." in page
    assert "Only recipients of gender female." in page
    assert "Their role Member in Federation / North / Club A matches the rule" in page
    home = page.split("alice.home@club-mail.ch</td>")[1].split("</tr>")[0]
    assert "not used by this list" in home
    assert "does not receive this list" in page


def test_the_condition_on_a_person_field_says_it_leaves_someone_out(as_leader, org):
    org.north_list.filter_field = "company"
    org.north_list.filter_condition, org.north_list.filter_value = "contains", "Migros"
    org.alice.company = "Coop"
    db.session.commit()

    page = why(as_leader, org, person=org.alice.id)

    assert "A rule reaches them, but the list’s conditions leave them out." in page
    assert f"{LEFT_OUT_BY_FIELD}: only recipients whose company contains “Migros”." in page
    assert "does not receive this list" in page


def test_another_filter_leaves_out_someone_who_meets_the_condition_on_a_field(as_leader, org):
    org.north_list.filter_gender = "male"
    org.north_list.filter_field = "company"
    org.north_list.filter_condition, org.north_list.filter_value = "contains", "migros"
    org.alice.company, org.alice.gender = "MIGROS Zürich", "female"
    db.session.commit()

    page = why(as_leader, org, person=org.alice.id)

    assert "A rule reaches them, but the list’s conditions leave them out." in page
    assert LEFT_OUT_BY_FIELD not in page


def test_a_tag_the_rule_excludes_leaves_someone_out(as_leader, org):
    rule = org.north_list.subscriptions[0]
    rule.excluded_tags = ["Alumni"]
    org.alice.tag_names = ["Alumni"]
    db.session.commit()

    page = why(as_leader, org, person=org.alice.id)

    assert "A rule reaches them, but the list’s conditions leave them out." in page
    assert "without the tags Alumni" in page
    assert "does not receive this list" in page


def test_no_rule_reaches_someone_outside_the_rules(as_leader, org):
    page = why(as_leader, org, person=org.north_leader.id)

    assert "No rule of this list reaches them." in page


def test_refused_and_unsubscribed_addresses_say_when_and_why(as_leader, org):
    carl = make.person("Carl", "Left", email="carl@club-mail.ch")
    make.role(carl, org.club_a, org.member_type)
    refuse(org.north_list, org.alice.email, f"{org.alice.email} looks fake or invalid")
    in_audience(org.north_list, "carl@club-mail.ch", "unsubscribed")
    db.session.add(
        MailchimpEvent(
            mailing_list_id=org.north_list.id,
            kind="unsubscribe",
            email="carl@club-mail.ch",
            fired_at="2026-04-05 10:00:00",
            source="user",
            details={"action": "unsub", "reason": "manual"},
            received_at=datetime(2026, 4, 5, 10, 0, 1),
        )
    )
    db.session.commit()

    refused = why(as_leader, org, person=org.alice.id)
    left = why(as_leader, org, email="Carl@Club-Mail.ch")

    assert "refused by Mailchimp" in refused
    assert f"{org.alice.email} looks fake or invalid" in refused
    assert "does not receive this list" in refused
    assert "Carl Left" in left
    assert "Unsubscribed in Mailchimp on" in left
    assert "does not receive this list" in left


def test_an_address_no_one_holds(as_leader, org):
    page = why(as_leader, org, email="nobody@club-mail.ch")

    assert "No person in your groups has this address" in page


def test_a_leader_asks_only_about_their_lists_and_people(as_leader, org):
    bob = {"person": org.bob.id}
    south = as_leader.get(f"/admin/why/{org.south_list.id}/", query_string=bob)
    stranger = as_leader.get(f"/admin/why/{org.north_list.id}/", query_string=bob)
    by_address = why(as_leader, org, email=org.bob.email)

    assert south.status_code == 404
    assert stranger.status_code == 404
    assert "Bob" not in by_address
    assert "No person in your groups has this address" in by_address


def test_the_subscriber_view_and_the_person_page_link_here(as_leader, org):
    subscribers = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)
    person = as_leader.get(f"/admin/people/details/?id={org.alice.id}").get_data(as_text=True)

    why_alice = f"/admin/why/{org.north_list.id}/?person={org.alice.id}"
    assert why_alice in subscribers
    assert f"/admin/suppressed/{org.north_list.id}/" in subscribers
    assert why_alice in person


def test_a_real_unsubscribe_and_spam_report_say_when_and_why(linked, sandbox, client):  # noqa: F811
    anna, ben, _carla = linked.people
    sandbox.simulate_unsubscribe(linked.audience, anna.email)
    sandbox.simulate_unsubscribe(linked.audience, ben.email, abuse=True)
    assert wait_for(lambda: len(events("unsubscribe")) == 2)

    left = client.get(f"/admin/why/{linked.list.id}/?person={anna.id}").get_data(as_text=True)
    spam = client.get(f"/admin/why/{linked.list.id}/?email={ben.email}").get_data(as_text=True)

    assert "Unsubscribed in Mailchimp on" in left
    assert "does not receive this list" in left
    assert "Reported as spam in Mailchimp on" in spam
    assert "does not receive this list" in spam
