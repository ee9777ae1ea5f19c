"""Adopting an audience's contacts: subscribed contacts mcbridge did not add are left
alone unless a leader chose to adopt them, and then only once, by the next export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from mcbridge.extensions import db
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.messages import render
from mcbridge.models import Person
from tests.sync.test_export import statuses, tags

TAG = "mcbridge: Club news"
READER = "reader@newspaper-mail.ch"


@dataclass
class Strangers:
    """Contacts the audience held before the list was first exported, none added by it."""

    anna: Person  # subscribed recipient, with a first name of her own
    ben: Person  # subscribed recipient
    left_out: list[Person]  # recipients unsubscribed, bounced, pending, archived

    @property
    def left_out_emails(self) -> list[str]:
        return [person.email for person in self.left_out]


def strangers(club) -> Strangers:
    """An audience someone else filled: two subscribed recipients, one recipient of each
    status mcbridge never subscribes again, and a subscribed contact who is no recipient."""
    people = {name: club.join(name) for name in ("Anna", "Ben", "Carla", "Dora", "Emil", "Fritz")}
    for person in people.values():
        if person.first_name != "Emil":
            club.sandbox.simulate_signup(club.audience, person.email, {"FNAME": "A."})
    club.sandbox.simulate_unsubscribe(club.audience, people["Carla"].email)
    club.sandbox.simulate_bounce(club.audience, people["Dora"].email)
    club.mailchimp().lists.members.create_or_update(
        club.audience,
        subscriber_hash(people["Emil"].email),
        {"email_address": people["Emil"].email, "status_if_new": "pending"},
    )
    club.sandbox.simulate_admin_archive(club.audience, people["Fritz"].email)
    club.sandbox.simulate_signup(club.audience, READER)
    left_out = [people[name] for name in ("Carla", "Dora", "Emil", "Fritz")]
    return Strangers(people["Anna"], people["Ben"], left_out)


def carry_the_tag(club, *emails: str) -> list[bool]:
    return [TAG in tags(club.member(email)) for email in emails]


def leave_the_list(person: Person) -> None:
    person.roles[0].end_on = date.today() - timedelta(days=1)
    db.session.commit()


@pytest.mark.parametrize("decision", [None, "leave"])
def test_undecided_or_left_contacts_are_never_tagged_nor_archived(club, decision):
    audience = strangers(club)
    club.newsletter.adoption = decision
    db.session.commit()

    runs = [club.export(), club.export()]

    assert [run.adopted for run in runs] == [0, 0]
    assert club.member(audience.anna.email)["merge_fields"]["FNAME"] == "Anna"  # updated
    assert carry_the_tag(club, audience.anna.email, audience.ben.email, READER) == [False] * 3
    leave_the_list(audience.anna)
    assert club.export().archived == 0
    assert statuses(club, audience.anna.email, READER) == ["subscribed", "subscribed"]
    assert club.newsletter.adoption == decision


def test_a_preview_lists_who_would_be_adopted_and_writes_nothing(club):
    audience = strangers(club)
    club.sandbox.clear_requests()

    preview = club.export(dry_run=True)

    assert (preview.state, preview.adopted) == ("success", 2)
    listed = [person["email"] for person in preview.preview["samples"]["adopted"]]
    assert sorted(listed) == sorted([audience.anna.email, audience.ben.email])
    assert "adopted only once a leader chooses so" in render(preview.message)
    assert club.write_calls() == []
    exported = club.export()  # undecided: the export itself adopts nobody
    assert exported.adopted == 0
    assert carry_the_tag(club, audience.anna.email, audience.ben.email) == [False, False]


def test_adopting_tags_exactly_the_subscribed_recipients_once(club):
    audience = strangers(club)
    before = statuses(club, *audience.left_out_emails, READER)
    club.newsletter.adoption = "adopt"
    club.newsletter.brake_archive_min = 1  # an adoption counted as a change would be held
    db.session.commit()

    run = club.export()

    assert (run.state, run.adopted, run.updated, run.added) == ("success", 2, 0, 0)
    assert club.newsletter.adoption == "adopted"
    assert carry_the_tag(club, audience.anna.email, audience.ben.email) == [True, True]
    assert club.member(audience.anna.email)["merge_fields"]["FNAME"] == "Anna"
    assert carry_the_tag(club, *audience.left_out_emails, READER) == [False] * 5
    assert statuses(club, *audience.left_out_emails, READER) == before
    assert before == ["unsubscribed", "cleaned", "pending", "archived", "subscribed"]

    club.newsletter.brake_archive_min = None
    leave_the_list(audience.anna)
    removal = club.export()
    assert (removal.state, removal.archived, removal.adopted) == ("success", 1, 0)
    assert statuses(club, audience.anna.email, audience.ben.email) == ["archived", "subscribed"]


def test_a_contact_signed_up_after_the_adoption_is_never_adopted(club):
    audience = strangers(club)
    club.newsletter.adoption = "adopt"
    db.session.commit()
    assert club.export().adopted == 2
    club.sandbox.simulate_signup(club.audience, "gina.late@club-mail.ch", {"FNAME": "G."})
    gina = club.join("Gina", email="gina.late@club-mail.ch")

    later = club.export()

    assert (later.adopted, later.updated) == (0, 1)
    assert carry_the_tag(club, gina.email) == [False]
    leave_the_list(gina)
    assert club.export().archived == 0
    assert statuses(club, gina.email, audience.ben.email) == ["subscribed", "subscribed"]
