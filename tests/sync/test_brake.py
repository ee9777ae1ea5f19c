"""The brake: an export that would archive or change too much of what a list manages is
held before its first write, and only a leader's confirmation lets it go on."""

from __future__ import annotations

from rq import Worker
from sqlalchemy import delete

from mcbridge.extensions import db
from mcbridge.jobs import enqueue_sync
from mcbridge.jobs import state as queue_state
from mcbridge.jobs.export import confirm_held
from mcbridge.messages import render
from mcbridge.models import MailingList, Person, Role, SyncRun
from mcbridge.sync import engine
from tests import factories as make
from tests.helpers import post_form, sign_in, sql_statements
from tests.sync.test_export_views import leader_of


def work() -> None:
    """Run every queued job in a real (forking) RQ worker, then return. The test's session
    gives its connection back first: the forked worker must not share it (PostgreSQL)."""
    db.session.commit()
    Worker([queue_state().queue], connection=queue_state().redis).work(burst=True)


def club_of_twenty(club) -> list[Person]:
    """Twenty members exported, and a brake that holds from three archives on."""
    members = [club.join(f"Member{number}") for number in range(20)]
    club.newsletter.brake_archive_min = 3
    db.session.commit()
    assert club.export().state == "success"
    return members


def leave(people: list[Person]) -> None:
    """Their roles end (removed): they are no longer recipients of the list."""
    db.session.execute(delete(Role).where(Role.person_id.in_([p.id for p in people])))
    db.session.commit()


def daily_export(club) -> SyncRun:
    run = enqueue_sync(club.newsletter, trigger="daily")
    work()
    db.session.expire_all()
    return db.session.get(SyncRun, run.id)


def latest_run(club) -> SyncRun:
    db.session.expire_all()
    return (
        db.session.query(SyncRun)
        .filter_by(mailing_list_id=club.newsletter.id)
        .order_by(SyncRun.id.desc())
        .first()
    )


def subscribed(club, people: list[Person]) -> list[str]:
    return [p.email for p in people if club.member(p.email)["status"] == "subscribed"]


def test_a_daily_export_that_would_archive_a_quarter_is_held_and_writes_nothing(club):
    members = club_of_twenty(club)
    leave(members[:5])
    club.sandbox.clear_requests()

    held = daily_export(club)

    assert (held.state, held.archived) == ("held", 5)
    assert "archive 5 of the 20" in render(held.message)
    assert club.write_calls() == []
    assert len(subscribed(club, members)) == 20
    again = daily_export(club)
    assert (again.state, again.archived) == ("held", 5)
    assert club.write_calls() == []


def test_the_share_is_of_the_contacts_the_list_added_and_still_has_subscribed(club):
    members = club_of_twenty(club)
    for person in members[15:]:
        club.sandbox.simulate_unsubscribe(club.audience, person.email)
    for number in range(3):
        club.sandbox.simulate_signup(club.audience, f"own.{number}@club-mail.ch")
    leave(members[:5])

    held = daily_export(club)

    assert (held.state, held.archived) == ("held", 5)
    assert "archive 5 of the 15 contacts" in render(held.message)


def test_a_confirmed_run_archives_what_the_held_run_showed(club):
    members = club_of_twenty(club)
    leave(members[:5])
    held = daily_export(club)

    confirmed = confirm_held(held, None)
    work()

    db.session.expire_all()
    confirmed = db.session.get(SyncRun, confirmed.id)
    assert (confirmed.state, confirmed.archived) == ("success", 5)
    assert subscribed(club, members) == [p.email for p in members[5:]]


def test_a_confirmed_run_holds_again_when_the_list_changed_materially_since(club):
    members = club_of_twenty(club)
    leave(members[:5])
    held = daily_export(club)
    confirmed = confirm_held(held, None)
    leave(members[5:10])
    club.sandbox.clear_requests()

    work()

    db.session.expire_all()
    confirmed = db.session.get(SyncRun, confirmed.id)
    assert (confirmed.state, confirmed.archived) == ("held", 10)
    assert club.write_calls() == []


def test_changing_more_than_the_change_share_is_held(club):
    members = club_of_twenty(club)
    club.newsletter.brake_change_share = 0.25
    for person in members[:6]:
        person.first_name = f"Renamed{person.id}"
    db.session.commit()
    club.sandbox.clear_requests()

    held = daily_export(club)

    assert (held.state, held.updated) == ("held", 6)
    assert "change 6 of the 20" in render(held.message)
    assert club.write_calls() == []


def test_a_leader_confirms_a_held_run_on_its_page_and_the_export_goes_through(client, club):
    members = club_of_twenty(club)
    leave(members[:5])
    held = daily_export(club)
    sign_in(client, leader_of(club).email)
    page = f"/admin/exports/runs/{held.id}"

    shown = client.get(page).get_data(as_text=True)
    assert "held by the brake" in shown
    assert "would be archived" in shown
    assert "Confirm and export" in shown
    response = post_form(client, f"{page}/confirm", {}, page=page)
    work()

    confirmed = latest_run(club)
    assert response.headers["Location"].endswith(f"/admin/exports/runs/{confirmed.id}")
    assert (confirmed.trigger, confirmed.state, confirmed.archived) == ("confirmed", "success", 5)
    assert "Confirm and export" not in client.get(page).get_data(as_text=True)
    assert subscribed(club, members) == [p.email for p in members[5:]]


def test_only_those_who_see_the_list_can_confirm_and_only_with_a_token(app, client, club):
    members = club_of_twenty(club)
    leave(members[:5])
    held = daily_export(club)
    stranger = make.person("Stranger", email="stranger@club-mail.ch")
    make.user(stranger.email, holder=stranger)

    sign_in(client, stranger.email)
    not_theirs = post_form(client, f"/admin/exports/runs/{held.id}/confirm", {}, page="/admin/")
    leader = app.test_client()
    sign_in(leader, leader_of(club).email)
    without_token = leader.post(f"/admin/exports/runs/{held.id}/confirm")

    assert (not_theirs.status_code, without_token.status_code) == (404, 400)
    assert latest_run(club).id == held.id


def test_a_leader_sets_the_brake_of_a_list_in_per_cent(client, club):
    sign_in(client, leader_of(club).email)
    edit = f"/admin/mailing-lists/edit/?id={club.newsletter.id}"
    form = {
        "group": str(club.club.id),
        "name": "Club news",
        "brake_archive_share": "25",
        "brake_archive_min": "",
        "brake_change_share": "",
    }

    response = post_form(client, edit, form, page=edit)

    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    newsletter = db.session.get(MailingList, club.newsletter.id)
    assert (newsletter.brake_archive_share, newsletter.brake_archive_min) == (0.25, None)
    assert 'value="25.0"' in client.get(edit).get_data(as_text=True)


def resolutions(statements: list[str]) -> int:
    """How often the export streamed the recipients (the statement that sorts candidates)."""
    return sum("candidates" in statement for statement in statements)


def test_an_export_resolves_the_list_once_even_when_the_brake_counts_its_plan(club):
    """An initial export can only add, which the brake never holds. Once the audience holds
    contacts, the brake counts the plan before writing, and the run sends the writes it
    counted: both resolve the list once."""
    members = [club.join(f"Member{number}") for number in range(5)]
    with sql_statements() as initial:
        assert club.export().state == "success"
    leave(members[:1])
    with sql_statements() as later:
        run = club.export()

    assert (run.state, run.archived) == ("success", 1)
    assert subscribed(club, members) == [p.email for p in members[1:]]
    assert (resolutions(initial), resolutions(later)) == (1, 1)


def rename(people: list[Person]) -> None:
    for person in people:
        person.first_name = f"Renamed{person.id}"
    db.session.commit()


def first_names_in_mailchimp(club, people: list[Person]) -> list[str]:
    return [club.member(p.email)["merge_fields"]["FNAME"] for p in people]


def test_a_run_with_more_writes_than_it_keeps_walks_the_plan_again_and_writes_them_all(
    club, monkeypatch
):
    members = club_of_twenty(club)
    rename(members[:4])
    monkeypatch.setattr(engine, "KEPT_WRITES", 2)

    with sql_statements() as statements:
        run = club.export()

    assert resolutions(statements) == 2
    assert (run.state, run.updated) == ("success", 4)
    assert first_names_in_mailchimp(club, members[:4]) == [f"Renamed{p.id}" for p in members[:4]]
