"""The record of export runs: a `SyncRun` row per export asked for, runs whose worker
died, and the progress a running job keeps in its meta.

Nothing here commits: the request, the job or the command that changes runs decides when
its changes are written.
"""

from __future__ import annotations

import time
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import Select, select
from sqlalchemy.orm.attributes import set_committed_value

from mcbridge.auth import current_actor_label
from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.jobs.locks import list_lock
from mcbridge.jobs.queue import QUEUE_UNREACHABLE, job_is_alive, state
from mcbridge.messages import N_, Message, dumps
from mcbridge.models import UNFINISHED_STATES, MailingList, SyncRun
from mcbridge.sync.engine import Progress

INTERRUPTED = Message(N_("The export was interrupted (its worker stopped). Start it again."))

ENQUEUE_GRACE_SECONDS = 60


def new_run(mailing_list: MailingList, trigger: str, user_id: int | None, dry_run: bool) -> SyncRun:
    """A queued run; who started it is named as the signed-in user of the request it is
    made in (none for the schedule or the command line)."""
    run = SyncRun(
        mailing_list=mailing_list,
        trigger=trigger,
        triggered_by_id=user_id,
        triggered_by_label=current_actor_label(),
        dry_run=dry_run,
        state="queued",
        created_at=now(),
    )
    db.session.add(run)
    return run


def unfinished_runs(mailing_list_id: int) -> Select[tuple[SyncRun]]:
    return select(SyncRun).where(
        SyncRun.mailing_list_id == mailing_list_id, SyncRun.state.in_(UNFINISHED_STATES)
    )


def latest_unfinished(mailing_list_id: int) -> SyncRun | None:
    """The newest run still queued or running (one shown as interrupted is not)."""
    run = db.session.scalar(unfinished_runs(mailing_list_id).order_by(SyncRun.id.desc()).limit(1))
    return None if run is None or run.finished else run


def is_under_way(run: SyncRun) -> bool:
    """Queued or running for real: its job lives, or it was created a moment ago and its
    job is being enqueued right now."""
    if run.finished:
        return False
    if run.job_id is None:
        return (now() - run.created_at).total_seconds() < ENQUEUE_GRACE_SECONDS
    return job_is_alive(run.job_id)


def interrupted_runs(mailing_list_id: int) -> list[SyncRun]:
    """Runs left "queued"/"running" by a worker that died (none while the list is locked:
    its export is alive)."""
    if list_lock(mailing_list_id).locked():
        return []
    unfinished = db.session.scalars(unfinished_runs(mailing_list_id)).all()
    return [run for run in unfinished if not is_under_way(run)]


def interrupted_outcome() -> dict[str, Any]:
    return {"state": "failed", "finished_at": now(), "message": dumps([INTERRUPTED])}


def close_interrupted_runs(mailing_list_id: int) -> None:
    """Runs whose worker died are closed as failed, so the history never shows an export
    running forever; the caller commits."""
    for run in interrupted_runs(mailing_list_id):
        for name, value in interrupted_outcome().items():
            setattr(run, name, value)


def close_all_interrupted_runs() -> None:
    """`close_interrupted_runs` for every list, for the scheduler's tick: pages only show
    a run whose worker died as interrupted (a page view writes nothing), so it is recorded
    here when no new export of its list comes first; the caller commits."""
    lists = select(SyncRun.mailing_list_id).where(SyncRun.state.in_(UNFINISHED_STATES))
    for mailing_list_id in db.session.scalars(lists.distinct()).all():
        close_interrupted_runs(mailing_list_id)


def show_interrupted_runs(mailing_list_id: int) -> bool:
    """What `close_interrupted_runs` would record, for pages, which must not write: the
    runs in this session read as closed, as if loaded so (never flushed). The next export
    of the list, or the scheduler's next tick, records it. While the queue cannot be
    reached, which runs still live cannot be told: they show as recorded (False)."""
    try:
        interrupted = interrupted_runs(mailing_list_id)
    except QUEUE_UNREACHABLE:
        return False
    for run in interrupted:
        for name, value in interrupted_outcome().items():
            set_committed_value(run, name, value)
    # The session holds unchanged objects weakly: without this reference, a later query of
    # the page would load the run afresh, as stored.
    db.session.info.setdefault("runs_shown_interrupted", []).extend(interrupted)
    return True


def job_progress(job: Job, every: float = 0.5) -> Progress:
    """Progress into the job's meta, at most twice a second (and at each new phase)."""
    last = {"at": 0.0, "phase": ""}

    def report(phase: str, done: int, total: int) -> None:
        moment = time.monotonic()
        if phase == last["phase"] and moment - last["at"] < every and done < total:
            return
        last.update(at=moment, phase=phase)
        job.meta.update(phase=phase, done=done, total=total)
        job.save_meta()

    return report


def ignore_progress(_phase: str, _done: int, _total: int) -> None:
    return None


def progress_of(run: SyncRun) -> dict[str, Any]:
    """What the run page's progress bar shows; only the recorded state, with `unreachable`,
    while the queue (where the job keeps its progress) cannot be reached."""
    info: dict[str, Any] = {"state": run.state, "finished": run.finished, "phase": run.state}
    if run.finished or not run.job_id:
        return info
    try:
        meta = Job.fetch(run.job_id, connection=state().redis).get_meta(refresh=True)
    except NoSuchJobError:
        return info
    except QUEUE_UNREACHABLE:
        return {**info, "unreachable": True}
    info.update(
        phase=meta.get("phase", run.state), done=meta.get("done", 0), total=meta.get("total", 0)
    )
    return info
