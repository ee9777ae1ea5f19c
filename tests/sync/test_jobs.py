"""Exports on the queue: a real RQ worker (burst mode), one run per list at a time."""

from __future__ import annotations

import threading
import time

import pytest
from rq import Worker
from rq.job import Job

from mcbridge.extensions import db
from mcbridge.jobs import (
    AlreadyRunningError,
    audience_lock,
    enqueue_sync,
    execute,
    ignore_progress,
    list_lock,
    progress_of,
    release,
    reserve,
)
from mcbridge.jobs import state as queue_state
from mcbridge.messages import render
from mcbridge.models import MailingList, SyncRun
from tests import factories as make
from tests.sync.conftest import link


def work() -> None:
    """Run every queued job in a real (forking) RQ worker, then return."""
    Worker([queue_state().queue], connection=queue_state().redis).work(burst=True)


def test_an_export_runs_on_the_worker_and_records_its_run(club):
    anna = club.join("Anna")
    run = enqueue_sync(club.newsletter, trigger="manual")
    assert run.state == "queued"
    assert run.job_id

    work()

    db.session.expire_all()
    run = db.session.get(SyncRun, run.id)
    assert (run.state, run.added) == ("success", 1)
    assert run.started_at <= run.finished_at
    assert club.member(anna.email)["status"] == "subscribed"
    job = Job.fetch(run.job_id, connection=queue_state().redis)
    assert job.meta["phase"] == "done"
    assert job.args == (run.id,)
    assert club.key not in str(job.args) + str(job.meta) + str(job.kwargs)


def test_two_triggers_at_once_make_one_run(club):
    club.join("Anna")
    first = enqueue_sync(club.newsletter, trigger="manual")
    with pytest.raises(AlreadyRunningError) as second:
        enqueue_sync(club.newsletter, trigger="daily")
    assert second.value.run.id == first.id

    work()

    assert db.session.query(SyncRun).count() == 1
    assert enqueue_sync(club.newsletter, trigger="manual").id != first.id


def test_concurrent_triggers_from_threads_make_one_run(club, app):
    club.join("Anna")
    list_id = club.newsletter.id
    outcomes: list[str] = []

    def trigger() -> None:
        with app.app_context():
            try:
                enqueue_sync(db.session.get(MailingList, list_id), trigger="manual")
                outcomes.append("queued")
            except AlreadyRunningError:
                outcomes.append("already")

    threads = [threading.Thread(target=trigger) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already"] * 5 + ["queued"]
    assert db.session.query(SyncRun).count() == 1


def test_a_running_export_blocks_a_new_one_until_it_ends(club):
    club.join("Anna")
    lock = list_lock(club.newsletter.id)
    assert lock.acquire()
    with pytest.raises(AlreadyRunningError):
        enqueue_sync(club.newsletter, trigger="manual")
    lock.release()
    assert enqueue_sync(club.newsletter, trigger="manual").state == "queued"


def test_a_crashed_worker_does_not_lock_the_list_forever(club):
    club.join("Anna")
    stale = reserve(club.newsletter, "manual", None, False)
    assert list_lock(club.newsletter.id).acquire()  # a worker took the job, then died
    release(stale)
    stale.state, stale.job_id = "running", "mcbridge-sync-lost-with-its-worker"
    db.session.commit()

    with pytest.raises(AlreadyRunningError):
        enqueue_sync(club.newsletter, trigger="manual")
    time.sleep(2.2)  # the lock expires (MCBRIDGE_LOCK_SECONDS=2 in tests)

    fresh = enqueue_sync(club.newsletter, trigger="manual")
    db.session.refresh(stale)
    assert stale.state == "failed"
    assert "interrupted" in render(stale.message)
    work()
    db.session.refresh(fresh)
    assert fresh.state == "success"


def test_the_lock_is_renewed_while_a_long_export_runs(club):
    club.join("Anna")
    club.sandbox.add_latency(700, api_key=club.key)
    run = reserve(club.newsletter, "cli", None, False)

    execute(run, ignore_progress)  # about 4 s: twice the lock's lifetime

    assert run.state == "success"
    assert not list_lock(club.newsletter.id).locked()


def test_lists_sharing_an_audience_export_one_after_the_other(club, app):
    anna = club.join("Anna")
    coaches = make.mailing_list(club.club, "Coaches")
    link(coaches, club.key, club.audience)
    make.role_rule(coaches, club.club, club.member_type)
    db.session.commit()
    news = audience_lock(club.newsletter)
    assert news.acquire()  # the newsletter's export to this audience is under way
    run_id = reserve(coaches, "cli", None, False).id
    phases: list[str] = []

    def export_coaches() -> None:
        with app.app_context():
            execute(db.session.get(SyncRun, run_id), lambda phase, *_: phases.append(phase))

    waiting = threading.Thread(target=export_coaches)
    waiting.start()
    time.sleep(1)
    assert phases == ["waiting"]
    assert club.write_calls() == []
    news.release()
    waiting.join(timeout=30)

    db.session.expire_all()
    assert db.session.get(SyncRun, run_id).state == "success"
    assert "mcbridge: Coaches" in {tag["name"] for tag in club.member(anna.email)["tags"]}


def test_progress_is_reported_in_the_job_meta(club, app):
    for number in range(3):
        club.join(f"P{number}")
    club.sandbox.add_latency(300, api_key=club.key)
    run_id = enqueue_sync(club.newsletter, trigger="manual").id
    seen: list[str] = []
    finished = threading.Event()

    def watch() -> None:
        with app.app_context():
            while not finished.is_set():
                db.session.expire_all()
                seen.append(progress_of(db.session.get(SyncRun, run_id))["phase"])
                time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    work()
    finished.set()
    watcher.join()

    assert {"checking", "reading", "writing"} <= set(seen)
    db.session.expire_all()
    assert progress_of(db.session.get(SyncRun, run_id))["finished"] is True
