"""Run pages say what a run did, or would do: previews are previews, a finished export lists
who it concerned, and an export waits for another only when there is one."""

from __future__ import annotations

from rq.job import Job

from mcbridge.extensions import db
from mcbridge.jobs import audience_lock, enqueue_sync, execute, reserve
from mcbridge.jobs import state as queue_state
from mcbridge.models import SyncRun
from tests.helpers import sign_in
from tests.sync.test_export_views import leader_of


def test_a_preview_says_what_it_would_do_and_is_never_called_exported(client, club):
    club.join("Anna", last_name="Muster")
    sign_in(client, leader_of(club).email)

    run = club.export(dry_run=True)

    page = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)
    assert "would be added" in page
    assert "Anna Muster" in page
    assert "exported" not in page
    history = client.get(f"/admin/exports/{club.newsletter.id}/history").get_data(as_text=True)
    assert 'badge-light">preview' in history
    assert "exported" not in history


def test_a_finished_export_lists_who_was_added_page_by_page(client, club):
    for number in range(60):
        club.join(f"Member{number:02d}", last_name="Rower")
    sign_in(client, leader_of(club).email)

    run = club.export()

    page = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)
    assert "Who was concerned" in page
    assert "member00." in page
    assert "member59." not in page
    assert "Page 1 of 2" in page
    second = client.get(f"/admin/exports/runs/{run.id}?kind=added&page=2").get_data(as_text=True)
    assert "member59." in second
    assert "member00." not in second


def test_a_finished_export_lists_who_was_archived(client, club):
    anna = club.join("Anna", last_name="Leaving")
    club.export()
    db.session.delete(anna.roles[0])
    db.session.commit()
    sign_in(client, leader_of(club).email)

    run = club.export()

    page = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)
    archived = page.split('id="people-archived"', 1)[1].split("</details>", 1)[0]
    assert anna.email in archived


def phases_of(run: SyncRun, during_wait=lambda: None) -> list[str]:
    phases: list[str] = []

    def progress(phase: str, _done: int, _total: int) -> None:
        phases.append(phase)
        if phase == "waiting":
            during_wait()

    execute(run, progress)
    return phases


def test_an_export_waits_only_while_another_holds_its_audience(club):
    club.join("Anna")
    alone = phases_of(reserve(club.newsletter, "cli", None, False))
    assert "waiting" not in alone

    other_export = audience_lock(club.newsletter)  # as another list's export holds it
    assert other_export.acquire()
    behind = phases_of(
        reserve(club.newsletter, "cli", None, False), during_wait=other_export.release
    )
    assert behind[0] == "waiting"
    assert db.session.query(SyncRun).order_by(SyncRun.id.desc()).first().state == "unchanged"


def test_a_queued_export_says_queued(client, club):
    club.join("Anna")
    leader = leader_of(club)
    sign_in(client, leader.email)
    subscribers = f"/admin/subscribers/{club.newsletter.id}/"
    run = reserve(club.newsletter, "manual", leader.id, False)

    for page in (f"/admin/exports/runs/{run.id}", subscribers):
        assert '<span id="run-phase">queued</span>' in client.get(page).get_data(as_text=True)


def test_the_addresses_that_need_attention_are_listed_page_by_page(client, club):
    for number in range(105):
        club.join(f"Fake{number:03d}", email=f"fake{number:03d}@example.com")
    sign_in(client, leader_of(club).email)

    run = club.export()

    first = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)
    assert "fake000@example.com" in first
    assert "fake104@example.com" not in first
    second = client.get(f"/admin/exports/runs/{run.id}?kind=issues&page=2").get_data(as_text=True)
    issues = second.split('id="run-issues"', 1)[1]
    assert "fake104@example.com" in issues
    assert "fake000@example.com" not in issues


def test_the_progress_of_a_large_export_is_counted_in_the_users_language(client, club):
    leader = leader_of(club)
    leader.locale = "de"
    db.session.commit()
    sign_in(client, leader.email)
    run = enqueue_sync(club.newsletter, trigger="manual", user_id=leader.id)
    job = Job.fetch(run.job_id, connection=queue_state().redis)
    job.meta.update(phase="writing", done=1234, total=56789)
    job.save_meta()

    page = client.get(f"/admin/exports/runs/{run.id}").get_data(as_text=True)

    assert '<span id="run-count">1.234 / 56.789</span>' in page
