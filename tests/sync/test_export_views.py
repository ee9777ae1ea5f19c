"""The Export dropdown, the run page, the history and the CLI."""

from __future__ import annotations

import json

from rq import Worker

from mcbridge.extensions import db
from mcbridge.jobs import state as queue_state
from mcbridge.models import SyncRun
from tests import factories as make
from tests.helpers import csrf_token, post_form, sign_in


def work() -> None:
    Worker([queue_state().queue], connection=queue_state().redis).work(burst=True)


def leader_of(club):
    leader_type = make.role_type("Leader", manages=True)
    leader = make.person("Lea", "Leader", email="lea.leader@club-mail.ch")
    make.role(leader, club.club, leader_type)
    db.session.commit()
    return make.user(leader.email, holder=leader)


def test_the_mailchimp_entry_shows_only_for_linked_lists(client, club):
    sign_in(client, leader_of(club).email)
    unlinked = make.mailing_list(club.club, "Unlinked")
    db.session.commit()

    linked_page = client.get(f"/admin/subscribers/{club.newsletter.id}/").get_data(as_text=True)
    unlinked_page = client.get(f"/admin/subscribers/{unlinked.id}/").get_data(as_text=True)

    assert f'action="/admin/exports/{club.newsletter.id}/start"' in linked_page
    assert "/start" not in unlinked_page
    assert "CSV (spreadsheet)" in unlinked_page


def test_choosing_mailchimp_queues_the_export_and_returns_at_once(client, club):
    anna = club.join("Anna")
    sign_in(client, leader_of(club).email)
    subscribers = f"/admin/subscribers/{club.newsletter.id}/"

    response = post_form(client, f"/admin/exports/{club.newsletter.id}/start", {}, page=subscribers)

    assert response.status_code == 302
    assert response.headers["Location"] == subscribers
    page = client.get(subscribers).get_data(as_text=True)
    assert "Export to Mailchimp started." in page
    run = db.session.query(SyncRun).one()
    assert f"/admin/exports/runs/{run.id}" in page
    assert club.member(anna.email) is None  # nothing done yet: the worker does it

    work()
    run_page = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)
    assert "exported" in run_page
    assert club.member(anna.email)["status"] == "subscribed"
    listing = client.get("/admin/mailing-lists/").get_data(as_text=True)
    assert 'badge-success">exported' in listing


def test_the_list_page_follows_an_export_under_way_until_it_ends(client, club):
    club.join("Anna")
    leader = leader_of(club)
    sign_in(client, leader.email)
    subscribers = f"/admin/subscribers/{club.newsletter.id}/"
    post_form(client, f"/admin/exports/{club.newsletter.id}/start", {}, page=subscribers)
    run = db.session.query(SyncRun).one()

    under_way = client.get(subscribers).get_data(as_text=True)
    assert "Export to Mailchimp under way" in under_way
    assert f'data-url="/admin/exports/runs/{run.id}/progress.json"' in under_way
    assert "run-progress.js" in under_way

    work()
    ended = client.get(subscribers).get_data(as_text=True)
    assert 'id="run-progress"' not in ended
    assert 'badge-success">exported' in ended
    run_page = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)
    assert f"Started by {leader.email}" in run_page
    history = client.get(f"/admin/exports/{club.newsletter.id}/history").get_data(as_text=True)
    assert leader.email in history


def test_a_second_trigger_says_already_running(client, club):
    sign_in(client, leader_of(club).email)
    subscribers = f"/admin/subscribers/{club.newsletter.id}/"
    post_form(client, f"/admin/exports/{club.newsletter.id}/start", {}, page=subscribers)
    post_form(client, f"/admin/exports/{club.newsletter.id}/start", {}, page=subscribers)

    assert "already running" in client.get(subscribers).get_data(as_text=True)
    assert db.session.query(SyncRun).count() == 1


def test_only_users_who_may_edit_the_list_can_start_it(client, club):
    outsider_group = make.group("Other club")
    leader_type = make.role_type("Leader", manages=True)
    outsider = make.person("Otto", "Outside", email="otto@club-mail.ch")
    make.role(outsider, outsider_group, leader_type)
    db.session.commit()
    sign_in(client, make.user(outsider.email, holder=outsider).email)

    token = csrf_token(client, "/admin/")
    response = client.post(f"/admin/exports/{club.newsletter.id}/start", data={"csrf_token": token})

    assert response.status_code == 404
    assert db.session.query(SyncRun).count() == 0


def test_the_history_lists_runs_with_counts_and_errors(client, club):
    club.join("Anna")
    club.join("Fake", email="fake@example.com")
    club.export()
    sign_in(client, leader_of(club).email)

    history = client.get(f"/admin/exports/{club.newsletter.id}/history").get_data(as_text=True)

    assert "partly exported" in history
    assert "fake@example.com" in history  # in the refused addresses
    run = db.session.query(SyncRun).one()
    run_page = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)
    assert "looks fake or invalid" in run_page
    assert 'data-counter="added">1<' in run_page


def test_preview_button_shows_who_would_be_added(client, club):
    club.join("Anna", last_name="Muster")
    sign_in(client, leader_of(club).email)
    subscribers = f"/admin/subscribers/{club.newsletter.id}/"

    response = post_form(
        client, f"/admin/exports/{club.newsletter.id}/preview", {}, page=subscribers
    )
    work()

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Preview of an export to Mailchimp" in page
    assert "Anna Muster" in page
    assert club.write_calls() == []


def test_progress_endpoint_reports_the_run(client, club):
    sign_in(client, leader_of(club).email)
    run = club.export()
    progress = client.get(f"/admin/exports/runs/{run.id}/progress.json").get_json()
    assert progress["finished"] is True
    assert progress["state"] == "unchanged"


def test_cli_sync_prints_json_and_exits_by_state(runner, club):
    club.join("Anna")
    result = runner.invoke(args=["mcbridge", "sync", str(club.newsletter.id), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["state"], summary["counts"]["added"]) == ("success", 1)

    club.join("Fake", email="fake@example.com")
    partial = runner.invoke(args=["mcbridge", "sync", str(club.newsletter.id)])
    assert partial.exit_code == 1
    assert "partial" in partial.output

    club.newsletter.connection.api_key = "f" * 32 + "-us1"
    db.session.commit()
    failed = runner.invoke(args=["mcbridge", "sync", str(club.newsletter.id), "--dry-run"])
    assert failed.exit_code == 2
    assert "API key was refused" in failed.output


def test_cli_dry_run_writes_nothing(runner, club):
    club.join("Anna")
    result = runner.invoke(
        args=["mcbridge", "sync", str(club.newsletter.id), "--dry-run", "--json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["preview"]["samples"]["added"][0]["email"].startswith("anna")
    assert club.write_calls() == []
