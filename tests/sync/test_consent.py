"""Consent by construction: against a sandbox as permissive as Mailchimp (an admin's
unsubscribe, an archive, any write carrying a status can re-subscribe), no export sets
anyone back to subscribed. The `club` fixture asserts the consent ledger stays empty."""

from __future__ import annotations

from datetime import date, timedelta

from mcbridge.extensions import db
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.models import BringBackRequest, PendingBatch
from tests import factories as make
from tests.helpers import post_form, sign_in


def status(club, email: str) -> str | None:
    return (club.member(email) or {}).get("status")


def leave(person) -> None:
    person.roles[0].end_on = date.today() - timedelta(days=1)
    db.session.commit()


def come_back(person) -> None:
    person.roles[0].end_on = None
    db.session.commit()


def test_an_admin_unsubscribe_stays_even_when_the_name_changes(club):
    anna = club.join("Anna")
    club.export()
    club.sandbox.simulate_admin_unsubscribe(club.audience, anna.email)
    anna.first_name = "Anna-Maria"
    db.session.commit()

    run = club.export()

    assert (run.kept_unsubscribed, run.updated) == (1, 0)
    assert status(club, anna.email) == "unsubscribed"


def test_an_unsubscribe_during_the_run_is_not_undone_by_its_update(club):
    anna = club.join("Anna")
    club.export()
    anna.first_name = "Anna-Maria"
    db.session.commit()
    club.sandbox.simulate_before_next_write(club.audience, "admin-unsubscribe", email=anna.email)

    run = club.export()

    assert run.updated == 1
    member = club.member(anna.email)
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("unsubscribed", "Anna-Maria")


def test_a_contact_unsubscribed_then_archived_by_an_admin_stays_archived(club):
    anna = club.join("Anna")
    club.export()
    club.sandbox.simulate_admin_unsubscribe(club.audience, anna.email)
    club.sandbox.simulate_admin_archive(club.audience, anna.email)

    run = club.export()

    assert (run.archived_elsewhere, run.resubscribed, run.added) == (1, 0, 0)
    assert status(club, anna.email) == "archived"


def test_archived_by_someone_else_is_shown_and_comes_back_only_when_a_leader_asks(club, client):
    people = [club.join(name) for name in ("Anna", "Ben", "Carla")]
    club.export()
    for person in people:
        club.sandbox.simulate_admin_archive(club.audience, person.email)

    run = club.export()

    assert (run.archived_elsewhere, run.resubscribed) == (3, 0)
    assert {issue.kind for issue in run.issues} == {"archived_elsewhere"}
    assert [status(club, p.email) for p in people] == ["archived"] * 3

    leader = make.user("admin@club-mail.ch", admin=True)
    sign_in(client, leader.email)
    run_page = f"/admin/exports/runs/{run.id}"
    assert "Bring back" in client.get(run_page).get_data(as_text=True)
    post_form(
        client,
        f"/admin/mailchimp/{club.newsletter.id}/bring-back",
        {"email": people[0].email},
        page=run_page,
    )
    request = db.session.query(BringBackRequest).one()
    assert (request.email, request.requested_by_id) == (people[0].email, leader.id)

    again = club.export()

    assert (again.resubscribed, again.archived_elsewhere) == (1, 2)
    assert [status(club, p.email) for p in people] == ["subscribed", "archived", "archived"]
    db.session.refresh(request)
    assert request.done_at is not None
    club.sandbox.clear_consent_ledger()  # the one re-subscription a leader asked for


def test_pending_and_cleaned_contacts_are_never_written(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.mailchimp().lists.members.create_or_update(
        club.audience,
        subscriber_hash(anna.email),
        {"email_address": anna.email, "status_if_new": "pending"},
    )
    club.export()
    club.sandbox.simulate_bounce(club.audience, ben.email)
    anna.first_name, ben.first_name = "Anna-Maria", "Benjamin"
    db.session.commit()
    club.sandbox.clear_requests()

    run = club.export()

    assert (run.pending, run.bounced, run.updated) == (1, 1, 0)
    assert club.write_calls() == []
    assert [status(club, anna.email), status(club, ben.email)] == ["pending", "cleaned"]


def test_an_address_that_appears_meanwhile_is_left_alone(club):
    anna = club.join("Anna")
    club.sandbox.simulate_before_next_write(club.audience, "signup", email=anna.email)

    run = club.export()

    assert (run.added, run.already_in_audience) == (0, 1)
    assert "mcbridge: Club news" not in {t["name"] for t in club.member(anna.email)["tags"]}


def test_renaming_a_linked_list_keeps_its_tag(club):
    anna = club.join("Anna")
    club.export()
    club.newsletter.name = "Club letter"
    db.session.commit()
    leave(anna)

    run = club.export()

    assert run.archived == 1
    assert status(club, anna.email) == "archived"


def test_a_read_that_misses_contacts_is_read_again(club, app):
    app.config["MAILCHIMP_PAGE_SIZE"] = 2
    people = [club.join(f"Reader{n}") for n in range(7)]
    club.export()
    club.newsletter.audience_read_at = None  # a full read next time
    db.session.commit()
    club.sandbox.shift_member_pages(1, times=2, api_key=club.key)

    run = club.export()

    assert (run.state, run.archived, run.added) == ("unchanged", 0, 0)
    assert all(status(club, p.email) == "subscribed" for p in people)


def test_a_read_that_keeps_missing_contacts_stops_before_any_write(club, app):
    app.config["MAILCHIMP_PAGE_SIZE"] = 2
    people = [club.join(f"Reader{n}") for n in range(7)]
    club.export()
    leave(people[0])
    club.newsletter.audience_read_at = None
    db.session.commit()
    club.sandbox.shift_member_pages(1, api_key=club.key)
    club.sandbox.clear_requests()

    run = club.export()

    assert run.state == "failed"
    assert club.write_calls() == []
    assert status(club, people[0].email) == "subscribed"


def test_a_bodiless_403_is_throttling_and_is_retried(club):
    anna = club.join("Anna")
    club.sandbox.inject_fault(403, body=False, times=2, api_key=club.key, method="POST")

    run = club.export()

    assert (run.state, run.added) == ("success", 1)
    assert status(club, anna.email) == "subscribed"


def test_pages_that_time_out_are_read_smaller(club, app):
    people = [club.join(f"Reader{n}") for n in range(5)]
    club.export()
    app.config["MAILCHIMP_PAGE_SIZE"] = 1000
    club.newsletter.audience_read_at = None
    db.session.commit()
    members = f"/lists/{club.audience}/members"
    club.sandbox.inject_fault(504, times=None, min_count=500, api_key=club.key, path_prefix=members)

    run = club.export()

    assert run.state == "unchanged"
    assert all(status(club, p.email) == "subscribed" for p in people)


def test_a_404_on_one_contact_is_not_a_missing_audience(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.export()
    leave(anna)
    leave(ben)
    path = f"/lists/{club.audience}/members/{subscriber_hash(anna.email)}"
    club.sandbox.inject_fault(404, api_key=club.key, method="DELETE", path_prefix=path)

    run = club.export()

    assert (run.state, run.archived, run.failure) == ("success", 2, None)


def test_a_batch_still_running_is_read_by_the_next_export(club, app):
    app.config["MAILCHIMP_BATCH_ARCHIVE_THRESHOLD"] = 1
    app.config["MAILCHIMP_BATCH_TIMEOUT"] = 0.3
    people = [club.join(f"Member{n}") for n in range(3)]
    club.export()
    for person in people:
        leave(person)
    club.sandbox.pause_batches()

    slow = club.export()

    assert slow.state != "failed"
    assert db.session.query(PendingBatch).count() == 1
    club.sandbox.resume_batches()
    for person in people[:1]:
        come_back(person)

    after = club.export()

    assert db.session.query(PendingBatch).count() == 0
    assert after.resubscribed == 1  # archived by mcbridge's batch: its own to bring back
    assert status(club, people[0].email) == "subscribed"


def test_a_batch_whose_answer_was_lost_is_not_sent_twice(club, app):
    app.config["MAILCHIMP_BATCH_ARCHIVE_THRESHOLD"] = 1
    people = [club.join(f"Member{n}") for n in range(3)]
    club.export()
    for person in people:
        leave(person)
    club.sandbox.drop_connections(
        after_processing=True, api_key=club.key, method="POST", path_prefix="/batches"
    )
    club.sandbox.clear_requests()

    run = club.export()

    assert (run.state, run.archived) == ("success", 3)
    posts = [c for c in club.write_calls() if c["path"] == "/3.0/batches"]
    assert len(posts) == 1
