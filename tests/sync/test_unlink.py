"""Unlinking a list says what happens in Mailchimp: its contacts are left as they are, or
the ones it manages are archived by an export on the queue (and only those), on record."""

from __future__ import annotations

from datetime import datetime

from rq import Worker

from mcbridge.connections import unlink_keeping_contacts
from mcbridge.extensions import db
from mcbridge.jobs import state as queue_state
from mcbridge.jobs.export import enqueue_unlink
from mcbridge.models import AudienceMember, MailchimpEvent, MailingList, SyncRun
from tests import factories as make
from tests.sync.conftest import link


def work() -> None:
    """Run every queued job in a real (forking) RQ worker, then return."""
    Worker([queue_state().queue], connection=queue_state().redis).work(burst=True)


def reloaded(club) -> MailingList:
    db.session.expire_all()
    return db.session.get(MailingList, club.newsletter.id)


def tags_of(club, email: str) -> set[str]:
    return {tag["name"] for tag in club.member(email)["tags"]}


def test_archiving_on_unlink_archives_only_the_contacts_the_list_manages(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.sandbox.simulate_signup(club.audience, "cleo.brunner@club-mail.ch")
    club.join("Cleo", email="cleo.brunner@club-mail.ch")  # a recipient who signed up on her own
    club.export()
    coaches = make.mailing_list(club.club, "Coaches")
    link(coaches, club.key, club.audience)
    make.person_rule(coaches, anna)
    db.session.commit()
    newsletter, club.newsletter = club.newsletter, coaches
    club.export()
    club.newsletter = newsletter

    run = enqueue_unlink(newsletter, user_id=None)
    work()

    db.session.expire_all()
    run = db.session.get(SyncRun, run.id)
    assert (run.state, run.unlink_choice, run.archived, run.untagged) == (
        "success",
        "archive",
        1,
        1,
    )
    assert club.member(ben.email)["status"] == "archived"
    assert club.member(anna.email)["status"] == "subscribed"
    assert tags_of(club, anna.email) == {"mcbridge: Coaches"}
    assert club.member("cleo.brunner@club-mail.ch")["status"] == "subscribed"
    assert not reloaded(club).is_linked


def test_archiving_on_unlink_creates_no_field_and_adds_nobody(club):
    club.join("Anna")
    club.newsletter.merge_field_map = [{"source": "company", "tag": "COMPANY"}]
    db.session.commit()

    run = enqueue_unlink(club.newsletter, user_id=None)
    work()

    assert club.write_calls() == []
    assert club.sandbox.members(club.audience) == []
    assert db.session.get(SyncRun, run.id).unlink_choice == "archive"


def test_archiving_on_unlink_is_not_held_by_the_brake(club):
    people = [club.join(name) for name in ("Anna", "Ben", "Carla")]
    club.export()
    club.newsletter.brake_archive_share, club.newsletter.brake_archive_min = 0.1, 1
    db.session.commit()

    run = enqueue_unlink(club.newsletter, user_id=None)
    work()

    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).archived == 3
    assert {club.member(person.email)["status"] for person in people} == {"archived"}
    assert not reloaded(club).is_linked


def test_an_unlink_whose_archiving_fails_leaves_the_list_linked(club):
    ben = club.join("Ben")
    club.export()
    club.sandbox.inject_fault(401, times=None, api_key=club.key)

    run = enqueue_unlink(club.newsletter, user_id=None)
    work()

    club.sandbox.clear_faults()
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).state == "failed"
    assert reloaded(club).is_linked
    assert club.member(ben.email)["status"] == "subscribed"


def test_archiving_on_unlink_also_archives_a_contact_whose_change_awaits_review(club):
    ben = club.join("Ben")
    club.export()
    db.session.add(
        MailchimpEvent(
            mailing_list_id=club.newsletter.id,
            kind="profile",
            email=ben.email,
            fired_at="2026-12-01 07:00:00",
            source="admin",
            received_at=datetime(2026, 12, 1, 7, 0),
            review="open",
        )
    )
    db.session.commit()

    enqueue_unlink(club.newsletter, user_id=None)
    work()

    assert club.member(ben.email)["status"] == "archived"
    assert not reloaded(club).is_linked


def test_leaving_the_contacts_unlinks_at_once_and_records_the_choice(club):
    ben = club.join("Ben")
    club.export()
    club.sandbox.clear_requests()

    run = unlink_keeping_contacts(club.newsletter, None)
    db.session.commit()

    assert club.write_calls() == []
    assert club.member(ben.email)["status"] == "subscribed"
    assert (run.state, run.unlink_choice) == ("unchanged", "keep")
    assert not reloaded(club).is_linked
    assert (
        db.session.query(AudienceMember).filter_by(mailing_list_id=run.mailing_list_id).count() == 0
    )
