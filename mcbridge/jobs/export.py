"""The export as an RQ job: queued with only its run's id (never a key or an address),
run under the list's lock and then its audience's, recorded on the run, with progress in
the job's meta as in microblog. The job and the `sync` command are the callers that
commit what an export changes."""

from __future__ import annotations

import logging

from rq import get_current_job

from mcbridge.clock import now
from mcbridge.connections import unlink
from mcbridge.extensions import db
from mcbridge.jobs.locks import audience_lock, holding, list_lock
from mcbridge.jobs.queue import state
from mcbridge.jobs.reservations import release, reserve
from mcbridge.jobs.runs import Progress, ignore_progress, job_progress
from mcbridge.messages import N_, Message, dumps
from mcbridge.models import MailingList, SyncRun
from mcbridge.models.sync import UNLINK_ARCHIVE
from mcbridge.notices import notify_leaders
from mcbridge.sync import engine
from mcbridge.sync.brake import Allowance, Brake, limits_of
from mcbridge.sync.result import SyncResult, record

log = logging.getLogger(__name__)

CONCURRENT = Message(N_("Another export of this list was running; this one did not start."))
AUDIENCE_BUSY = Message(
    N_("Another list's export to the same audience did not end in time; this one did not start.")
)
UNEXPECTED = Message(
    N_("An unexpected error stopped the export; it was logged for the administrators.")
)


def enqueue_sync(
    mailing_list: MailingList,
    *,
    trigger: str,
    user_id: int | None = None,
    dry_run: bool = False,
    allowed: Allowance | None = None,
) -> SyncRun:
    """Queue an export (or preview) of the list; AlreadyRunningError if one is under way.

    An export asked for by hand also lifts the daily schedule's back-off. `allowed`: the
    archives and changes of a held run a leader confirmed, which this one may make.
    """
    run = reserve(mailing_list, trigger, user_id, dry_run)
    if allowed is not None:
        run.allowed_archives, run.allowed_changes = allowed.archives, allowed.changes
    if trigger == "manual" and not dry_run:
        mailing_list.failure_streak = 0
    return queue_run(run)


def queue_run(run: SyncRun) -> SyncRun:
    """Put a reserved run on the queue; only its id travels."""
    job = state().queue.enqueue(
        sync_job,
        run.id,
        job_id=f"mcbridge-sync-{run.id}",
        meta={"mailing_list_id": run.mailing_list_id, "phase": "queued", "done": 0, "total": 0},
        result_ttl=7 * 24 * 3600,
        failure_ttl=30 * 24 * 3600,
    )
    run.job_id = job.id
    db.session.commit()
    return run


def enqueue_unlink(mailing_list: MailingList, *, user_id: int | None) -> SyncRun:
    """Queue the run that archives the contacts the list manages and then unlinks it;
    AlreadyRunningError if an export is under way. A run that fails or archives only some
    leaves the list linked, so the leader sees why and can ask again."""
    run = reserve(mailing_list, "manual", user_id, False)
    run.unlink_choice = UNLINK_ARCHIVE
    db.session.commit()  # before the job exists: its worker must read the choice
    return queue_run(run)


def confirm_held(held: SyncRun, user_id: int | None) -> SyncRun:
    """Queue the export a leader confirmed on a held run's page, allowed past the brake for
    the numbers that run showed (not more: a list that changed since is held again)."""
    allowed = Allowance(held.archived, held.updated + held.untagged)
    return enqueue_sync(held.mailing_list, trigger="confirmed", user_id=user_id, allowed=allowed)


def brake_of(run: SyncRun) -> Brake | None:
    """Every export meets the brake (a preview writes nothing); only a confirmed one
    brings an allowance, so a daily export never passes a held list on its own. Archiving
    on unlink is the leader's explicit choice to archive every contact the list manages:
    the brake would only ever hold it."""
    if run.dry_run or run.archives_on_unlink:
        return None
    allowed = None
    if run.allowed_archives is not None:
        allowed = Allowance(run.allowed_archives, run.allowed_changes or 0)
    return Brake(limits_of(run.mailing_list), allowed)


def sync_job(run_id: int) -> str:
    """The RQ job: run one export and record it. Returns the run's final state."""
    run = db.session.get(SyncRun, run_id)
    if run is None:
        return "missing"
    job = get_current_job()
    return execute(run, job_progress(job) if job else ignore_progress)


def execute(run: SyncRun, progress: Progress) -> str:
    """Hold the list's lock, then its audience's, export, record; shared by the job and
    the CLI."""
    with holding(list_lock(run.mailing_list_id)) as acquired:
        release(run)
        if not acquired:
            return refuse(run, CONCURRENT)
        lock = audience_lock(run.mailing_list)
        progress("waiting" if lock.locked() else "running", 0, 0)
        with holding(lock) as audience_free:
            if not audience_free:
                return refuse(run, AUDIENCE_BUSY)
            return export_and_record(run, progress)


def refuse(run: SyncRun, why: Message) -> str:
    run.state, run.finished_at = "failed", now()
    run.message = dumps([why])
    db.session.commit()
    return run.state


def export_and_record(run: SyncRun, progress: Progress) -> str:
    run.state, run.started_at = "running", now()
    db.session.commit()
    try:
        result = engine.export(
            run.mailing_list,
            dry_run=run.dry_run,
            progress=progress,
            leaving=run.archives_on_unlink,
            brake=brake_of(run),
        )
    except Exception:
        db.session.rollback()
        log.exception("Export run %s stopped by an unexpected error", run.id)
        result = SyncResult(dry_run=run.dry_run)
        result.fail(UNEXPECTED)
        record(run, result)
        db.session.commit()
        raise
    record(run, result)
    if run.archives_on_unlink and run.state in ("success", "unchanged"):
        unlink(run.mailing_list)
    db.session.commit()
    notify_leaders(run, result)
    db.session.commit()  # the reason notified, so that it is not mailed again
    progress("done", 1, 1)
    return run.state
