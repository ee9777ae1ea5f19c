"""One export against the Mailchimp sandbox: every rule of the diff, over real HTTP."""

from __future__ import annotations

from datetime import date, timedelta

from mcbridge.extensions import db
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.messages import render
from mcbridge.models import RefusedAddress
from tests import factories as make


def statuses(club, *emails: str) -> list[str | None]:
    return [(club.member(email) or {}).get("status") for email in emails]


def tags(member: dict) -> set[str]:
    return {tag["name"] for tag in member.get("tags", [])}


def test_new_recipients_are_added_subscribed_with_names_and_the_lists_tag(club):
    anna = club.join("Anna", last_name="Muster")
    run = club.export()

    assert (run.state, run.added) == ("success", 1)
    member = club.member(anna.email)
    assert member["status"] == "subscribed"
    assert member["merge_fields"]["FNAME"] == "Anna"
    assert member["merge_fields"]["LNAME"] == "Muster"
    assert tags(member) == {"mcbridge: Club news"}


def test_a_second_run_without_changes_writes_nothing(club):
    club.join("Anna")
    club.join("Ben")
    assert club.export().state == "success"
    club.sandbox.clear_requests()

    again = club.export()

    assert (again.state, again.unchanged_members) == ("unchanged", 2)
    assert club.write_calls() == []
    assert again.write_calls == 0


def test_a_run_counts_the_recipients_it_could_not_send_to(club):
    club.join("Anna")
    club.join("Ben", email=None)
    club.join("Carla", email=None)

    run = club.export()
    again = club.export()

    assert (run.added, run.skipped_no_email) == (1, 2)
    assert (again.unchanged_members, again.skipped_no_email) == (1, 2)


def test_changed_names_are_updated_without_touching_status(club):
    anna = club.join("Anna", last_name="Muster")
    club.export()
    anna.last_name = "Meier"
    db.session.commit()
    club.sandbox.clear_requests()

    run = club.export()

    assert (run.state, run.updated) == ("success", 1)
    assert club.member(anna.email)["merge_fields"]["LNAME"] == "Meier"
    (patch,) = club.write_calls()
    assert patch["method"] == "PATCH"
    assert patch["path"].endswith(f"/members/{subscriber_hash(anna.email)}")


def test_recipients_mcbridge_archived_are_brought_back(club):
    anna = club.join("Anna")
    club.export()
    role = anna.roles[0]
    role.end_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert club.export().archived == 1
    role.end_on = None
    db.session.commit()

    run = club.export()

    assert (run.state, run.resubscribed) == ("success", 1)
    assert statuses(club, anna.email) == ["subscribed"]
    assert tags(club.member(anna.email)) == {"mcbridge: Club news"}


def test_unsubscribed_and_bounced_recipients_are_left_alone_and_counted(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.export()
    club.sandbox.simulate_unsubscribe(club.audience, anna.email)
    club.sandbox.simulate_bounce(club.audience, ben.email)
    anna.first_name, ben.first_name = "Anna-Maria", "Benjamin"
    db.session.commit()
    club.sandbox.clear_requests()

    run = club.export()

    assert (run.state, run.kept_unsubscribed, run.bounced) == ("unchanged", 1, 1)
    assert club.write_calls() == []
    assert statuses(club, anna.email, ben.email) == ["unsubscribed", "cleaned"]
    assert run.issues == []


def test_people_who_leave_the_list_are_archived_never_deleted(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.export()
    anna.roles[0].end_on = date.today() - timedelta(days=1)
    make.person_rule(club.newsletter, ben, excluded=True)
    db.session.commit()
    club.sandbox.clear_requests()

    run = club.export()

    assert (run.state, run.archived) == ("success", 2)
    assert statuses(club, anna.email, ben.email) == ["archived", "archived"]
    assert all(call["method"] == "DELETE" for call in club.write_calls())
    assert not [c for c in club.calls() if "delete-permanent" in c["path"]]


def test_many_leaving_at_once_are_archived_through_one_batch_job(club, app):
    app.config["MAILCHIMP_BATCH_ARCHIVE_THRESHOLD"] = 2
    people = [club.join(f"Member{number}") for number in range(6)]
    club.export()
    for person in people:
        person.roles[0].end_on = date.today() - timedelta(days=1)
    db.session.commit()
    club.sandbox.clear_requests()

    run = club.export()

    assert (run.state, run.archived) == ("success", 6)
    assert statuses(club, *(person.email for person in people)) == ["archived"] * 6
    writes = [(call["method"], call["path"]) for call in club.write_calls()]
    assert writes.count(("POST", "/3.0/batches")) == 1
    assert [method for method, _ in writes].count("DELETE") == 0  # none one by one


def test_contacts_mcbridge_did_not_add_are_never_touched(club):
    club.join("Anna")
    club.sandbox.simulate_signup(club.audience, "reader@newspaper-mail.ch", {"FNAME": "Reader"})
    club.export()

    run = club.export()

    assert run.state == "unchanged"
    assert statuses(club, "reader@newspaper-mail.ch") == ["subscribed"]


def test_a_recipient_who_signed_up_alone_is_updated_but_not_adopted(club):
    club.sandbox.simulate_signup(club.audience, "Anna.Muster@Club-Mail.CH", {"FNAME": "A."})
    anna = club.join("Anna", email="anna.muster@club-mail.ch")

    run = club.export()

    assert (run.updated, run.added) == (1, 0)
    assert club.member(anna.email)["merge_fields"]["FNAME"] == "Anna"
    assert "mcbridge: Club news" not in tags(club.member(anna.email))
    anna.roles[0].end_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert club.export().archived == 0
    assert statuses(club, anna.email) == ["subscribed"]


def test_delivery_addresses_follow_the_lists_setting(club):
    anna = club.join("Anna", extra=(("anna.work@office-mail.ch", True),))
    club.export()
    assert statuses(club, "anna.work@office-mail.ch") == [None]

    club.newsletter.sync_all_delivery_addresses = True
    db.session.commit()
    run = club.export()
    assert run.added == 1
    assert club.member("anna.work@office-mail.ch")["merge_fields"]["FNAME"] == "Anna"

    club.newsletter.sync_all_delivery_addresses = False
    db.session.commit()
    assert club.export().archived == 1
    assert statuses(club, anna.email, "anna.work@office-mail.ch") == ["subscribed", "archived"]


def test_more_than_two_batches_of_new_recipients(club):
    for number in range(1200):
        person = make.person("Many", f"Member{number}", email=f"many.{number}@club-mail.ch")
        make.role(person, club.club, club.member_type)
    db.session.commit()

    run = club.export()

    assert (run.state, run.added) == ("success", 1200)
    batch_calls = [c for c in club.write_calls() if c["path"] == f"/3.0/lists/{club.audience}"]
    assert len(batch_calls) == 3
    assert len(club.sandbox.members(club.audience)) == 1200


def test_a_fake_address_makes_the_run_partial_and_is_skipped_afterwards(club):
    good = [club.join(name) for name in ("Anna", "Ben", "Carla")]
    club.join("Fake", email="someone@example.com")

    run = club.export()

    assert (run.state, run.added, run.refused) == ("partial", 3, 1)
    assert [(i.email, i.kind) for i in run.issues] == [("someone@example.com", "refused")]
    assert "looks fake or invalid" in render(run.issues[0].message)
    assert statuses(club, *(p.email for p in good)) == ["subscribed"] * 3
    assert db.session.query(RefusedAddress).count() == 1

    club.sandbox.clear_requests()
    again = club.export()
    assert (again.state, again.refused) == ("unchanged", 1)
    assert club.write_calls() == []


def test_merge_fields_are_created_when_the_audience_lacks_them(club):
    bare = club.sandbox.add_audience(club.key, "Bare audience", default_merge_fields=False)
    club.newsletter.mailchimp_list_id = bare
    db.session.commit()
    anna = club.join("Anna", last_name="Muster")

    run = club.export()

    assert run.state == "success"
    assert club.sandbox.member(bare, anna.email)["merge_fields"] == {
        "FNAME": "Anna",
        "LNAME": "Muster",
    }
