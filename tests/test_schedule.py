"""The daily export: RQ's cron entry, the dispatcher, catch-up, no duplicates, back-off."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rq import Worker
from rq.cron import CronScheduler

from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.jobs import redis_key
from mcbridge.jobs import state as queue_state
from mcbridge.messages import render
from mcbridge.models import MailingList, SyncRun
from mcbridge.schedule import (
    ENTRY,
    create_scheduler,
    dispatch_daily_exports,
    latest_slot,
    next_daily_attempt,
)
from tests import factories as make
from tests.helpers import post_form, process_env, sign_in, wait_for
from tests.sync.conftest import link


def work() -> None:
    Worker([queue_state().queue], connection=queue_state().redis).work(burst=True)


@pytest.fixture
def lists(app, sandbox):
    """Two linked lists and an unlinked one, each with a member."""
    club = make.group("Club")
    member = make.role_type("Member")
    make.role(make.person("Anna"), club, member)
    key = sandbox.add_account()
    linked = []
    for name in ("News", "Coaches"):
        mailing_list = make.mailing_list(club, name)
        make.role_rule(mailing_list, club, member)
        link(mailing_list, key, sandbox.add_audience(key, name))
        mailing_list.consent_at = now() - timedelta(days=2)  # linked before the last slot
        linked.append(mailing_list)
    unlinked = make.mailing_list(club, "Paper only")
    make.role_rule(unlinked, club, member)
    db.session.commit()
    return linked, unlinked


def runs_of(mailing_list: MailingList) -> list[SyncRun]:
    db.session.expire_all()
    return db.session.query(SyncRun).filter_by(mailing_list_id=mailing_list.id).all()


def attempted(mailing_list: MailingList, hours_ago: float, state: str = "success", failure=None):
    run = SyncRun(
        mailing_list=mailing_list,
        trigger="daily",
        state=state,
        failure=failure,
        created_at=now() - timedelta(hours=hours_ago),
    )
    db.session.add(run)
    db.session.commit()


def test_the_slot_follows_the_configured_time_and_zone(app):
    app.config.update(MCBRIDGE_DAILY_SYNC_AT="02:00", MCBRIDGE_TIMEZONE="Europe/Zurich")
    before = datetime(2026, 11, 22, 0, 30)  # 01:30 in Zurich: today's 02:00 is still ahead
    after = datetime(2026, 11, 22, 1, 30)  # 02:30 in Zurich
    assert latest_slot(before) == datetime(2026, 11, 21, 1, 0)
    assert latest_slot(after) == datetime(2026, 11, 22, 1, 0)
    summer = datetime(2026, 7, 1, 1, 0)  # 03:00 in Zurich (UTC+2)
    assert latest_slot(summer) == datetime(2026, 7, 1, 0, 0)


def test_firing_the_entry_exports_every_linked_list_once_and_no_unlinked_one(lists):
    linked, unlinked = lists
    create_scheduler().get_jobs()[0].enqueue(queue_state().redis)  # what the cron entry does

    work()  # the dispatcher job, then the exports it queued

    for mailing_list in linked:
        assert [(run.trigger, run.state) for run in runs_of(mailing_list)] == [("daily", "success")]
    assert runs_of(unlinked) == []


def test_lists_that_missed_the_slot_are_caught_up_and_others_wait(lists):
    (missed, fresh), _ = lists
    attempted(missed, hours_ago=26)  # the scheduler was down at the last slot
    attempted(fresh, hours_ago=0.1)  # exported since the last slot

    assert dispatch_daily_exports() != []
    work()

    assert [run.trigger for run in runs_of(missed)] == ["daily", "daily"]
    assert len(runs_of(fresh)) == 1


def test_a_list_linked_since_the_last_slot_waits_for_the_next_one(lists):
    """Catching up is for slots a list missed: one linked since the last slot (the demo's,
    on a first `make run`) is not exported before the first export its leader starts."""
    (linked_before, linked_now), _ = lists
    linked_now.consent_at = now()
    db.session.commit()

    dispatch_daily_exports()
    work()

    assert runs_of(linked_now) == []
    assert [run.trigger for run in runs_of(linked_before)] == ["daily"]
    assert next_daily_attempt(linked_now, now()) == latest_slot(now()) + timedelta(days=1)


def test_a_tick_records_the_runs_whose_worker_died_even_on_lists_not_due(lists):
    (_, fresh), _ = lists
    attempted(fresh, hours_ago=0.1, state="running")  # its worker died; pages only show it

    dispatch_daily_exports()

    [lost] = runs_of(fresh)
    assert lost.state == "failed"
    assert "interrupted" in render(lost.message)


def test_two_schedulers_firing_at_once_export_each_list_once(lists, app):
    linked, _ = lists

    def dispatch() -> None:
        with app.app_context():
            dispatch_daily_exports()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    work()
    dispatch_daily_exports()  # a late tick after the exports ended finds nothing due
    work()

    assert [len(runs_of(mailing_list)) for mailing_list in linked] == [1, 1]


def days_pass(mailing_list: MailingList, days: int) -> None:
    """Move the list's runs back in time and forget today's claims: a new daily slot."""
    db.session.query(SyncRun).filter_by(mailing_list_id=mailing_list.id).update(
        {"created_at": now() - timedelta(days=days)}
    )
    db.session.commit()
    redis = queue_state().redis
    for key in redis.scan_iter(redis_key("daily-claim", "*")):
        redis.delete(key)


def test_a_list_that_keeps_failing_is_backed_off_and_reset_by_hand(lists, client):
    (failing, _), _ = lists
    failing.connection.api_key = "f" * 32 + "-us1"
    db.session.commit()
    for _ in range(2):
        days_pass(failing, 2)
        dispatch_daily_exports()
        work()
    db.session.expire_all()
    failing = db.session.get(MailingList, failing.id)
    assert [run.failure for run in runs_of(failing)] == ["key", "key"]
    assert failing.failure_streak == 2

    days_pass(failing, 2)
    assert dispatch_daily_exports() == []  # weekly now, not daily
    assert next_daily_attempt(failing, now()) > now() + timedelta(days=4)

    leader_type = make.role_type("Leader", manages=True)
    leader = make.person("Lea", email="lea@club-mail.ch")
    make.role(leader, failing.group, leader_type)
    db.session.commit()
    sign_in(client, make.user(leader.email, holder=leader).email)
    page = client.get(f"/admin/subscribers/{failing.id}/").get_data(as_text=True)
    assert "now runs only weekly" in page

    subscribers = f"/admin/subscribers/{failing.id}/"
    post_form(client, f"/admin/exports/{failing.id}/start", {}, page=subscribers)
    db.session.expire_all()
    assert db.session.get(MailingList, failing.id).failure_streak == 0


def scheduler_process(app, log: Path) -> subprocess.Popen[str]:
    """A scheduler in a process of its own, its output in `log`: with faulthandler on,
    an aborted process writes there the stack of every thread (`stop`)."""
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", "flask", "mcbridge", "scheduler"],
            env=process_env(app),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


def stop(process: subprocess.Popen[str], log: Path) -> None:
    """SIGTERM, as a supervisor stops a scheduler. One that is still running 20 s later
    fails the test with where it was stuck (it did once, in CI, and said nothing)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=10)
        pytest.fail(f"The scheduler ignored SIGTERM for 20 s:\n{log.read_text()[-8000:]}")


def live_schedulers() -> list[CronScheduler]:
    return CronScheduler.all(queue_state().redis)


def test_the_entry_is_registered_once_however_often_the_scheduler_starts(app, tmp_path):
    for start in range(3):
        log = tmp_path / f"scheduler-{start}.log"
        process = scheduler_process(app, log)
        assert wait_for(live_schedulers, timeout=60)
        (scheduler,) = live_schedulers()
        assert [job.name for job in scheduler.get_jobs()] == [ENTRY]
        assert scheduler.last_heartbeat is not None
        stop(process, log)
        assert wait_for(lambda: not live_schedulers(), timeout=20)


def test_two_scheduler_processes_export_each_list_once(lists, app, tmp_path):
    """Two machines' schedulers, as processes: both fire the entry on start, and the slot
    claims still let each linked list export once."""
    linked, unlinked = lists
    logs = [tmp_path / f"scheduler-{machine}.log" for machine in range(2)]
    processes = [scheduler_process(app, log) for log in logs]
    try:
        assert wait_for(lambda: len(live_schedulers()) == 2, timeout=60)
        assert wait_for(lambda: queue_state().queue.count == 2, timeout=30)
    finally:
        for process, log in zip(processes, logs, strict=True):
            stop(process, log)
    work()

    assert [len(runs_of(mailing_list)) for mailing_list in linked] == [1, 1]
    assert runs_of(unlinked) == []
