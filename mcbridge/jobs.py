"""RQ jobs: exports run on the queue, one at a time per list, with progress in job meta.

A run is a `SyncRun` row created when the export is asked for; the job receives only its
id (never a key or an address). Two Redis keys keep a list to one export at a time across
every worker and machine: "pending" from the request until the job starts, and a lock that
the running job renews while it works, so that a crashed worker frees the list by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.lock import Lock
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from mcbridge.extensions import db
from mcbridge.mailchimp.keys import datacenter
from mcbridge.messages import N_, Message, dumps
from mcbridge.models import UNFINISHED_STATES, MailingList, SyncRun
from mcbridge.sync.engine import export
from mcbridge.sync.result import SyncResult, now, record

log = logging.getLogger(__name__)

INTERRUPTED = Message(N_("The export was interrupted (its worker stopped). Start it again."))
CONCURRENT = Message(N_("Another export of this list was running; this one did not start."))
AUDIENCE_BUSY = Message(
    N_("Another list's export to the same audience did not end in time; this one did not start.")
)
UNEXPECTED = Message(
    N_("An unexpected error stopped the export; it was logged for the administrators.")
)

# What redis-py raises when Redis cannot be reached (RQ's calls included).
QUEUE_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# A Redis that drops packets would hold every page that asks it something until the proxy
# gives up; refused at once, or after this many seconds, the page says the queue is away.
REDIS_CONNECT_TIMEOUT = 5

PENDING_SECONDS = 6 * 3600
ENQUEUE_GRACE_SECONDS = 60
LIVE_JOB_STATES = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


@dataclass
class QueueState:
    redis: Redis
    queue: Queue


def init_queue(app: Any) -> QueueState:
    """The Redis connection and the queue, hung on the app as in microblog."""
    redis = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=REDIS_CONNECT_TIMEOUT)
    queue = Queue(
        app.config["MCBRIDGE_QUEUE"],
        connection=redis,
        default_timeout=int(app.config["MCBRIDGE_JOB_TIMEOUT"]),
    )
    return QueueState(redis=redis, queue=queue)


def state() -> QueueState:
    return current_app.extensions["mcbridge"].queue_state


def queue_reachable() -> bool:
    try:
        state().redis.ping()
    except QUEUE_UNREACHABLE:
        return False
    return True


def redis_key(*parts: object) -> str:
    """A Redis key in this installation's namespace (its queue name)."""
    return ":".join([state().queue.name, *(str(part) for part in parts)])


def pending_key(mailing_list_id: int) -> str:
    return redis_key("sync-pending", mailing_list_id)


def list_lock(mailing_list_id: int) -> Lock:
    """Renewed every quarter of its life while held; expires by itself if the holder dies."""
    return Lock(
        state().redis,
        redis_key("sync-lock", mailing_list_id),
        timeout=int(current_app.config["MCBRIDGE_LOCK_SECONDS"]),
        blocking=False,
        thread_local=False,
    )


def audience_lock(mailing_list: MailingList) -> Lock:
    """Lists that share an audience export one after the other: each decides whether to
    archive a contact from the tags the other lists put on it, which must not change while
    it decides. A waiting export holds its worker; it gives up after the job timeout."""
    config = current_app.config
    centre = datacenter(mailing_list.mailchimp_api_key or "")
    return Lock(
        state().redis,
        redis_key("audience-lock", centre, mailing_list.mailchimp_list_id),
        timeout=int(config["MCBRIDGE_LOCK_SECONDS"]),
        blocking=True,
        blocking_timeout=int(config["MCBRIDGE_JOB_TIMEOUT"]),
        sleep=0.2,
        thread_local=False,
    )


class AlreadyRunningError(Exception):
    """An export of this list is queued or running; the caller is told which one."""

    def __init__(self, run: SyncRun | None) -> None:
        super().__init__("already running")
        self.run = run


def job_is_alive(job_id: str | None) -> bool:
    if not job_id:
        return False
    try:
        return Job.fetch(job_id, connection=state().redis).get_status() in LIVE_JOB_STATES
    except NoSuchJobError:
        return False


def is_under_way(run: SyncRun) -> bool:
    """Queued or running for real: its job lives, or it was created a moment ago and its
    job is being enqueued right now."""
    if run.finished:
        return False
    if run.job_id is None:
        return (now() - run.created_at).total_seconds() < ENQUEUE_GRACE_SECONDS
    return job_is_alive(run.job_id)


def close_interrupted_runs(mailing_list_id: int) -> None:
    """Runs left "queued"/"running" by a worker that died are closed as failed, so the
    history never shows an export running forever."""
    if list_lock(mailing_list_id).locked():
        return
    unfinished = db.session.scalars(
        select(SyncRun).where(
            SyncRun.mailing_list_id == mailing_list_id, SyncRun.state.in_(UNFINISHED_STATES)
        )
    ).all()
    for run in unfinished:
        if not is_under_way(run):
            run.state = "failed"
            run.finished_at = now()
            run.message = dumps([INTERRUPTED])
    db.session.commit()


def tidy_runs(mailing_list_id: int) -> bool:
    """`close_interrupted_runs` for pages that only show runs: while the queue cannot be
    reached, which runs still live cannot be told, so they stay as recorded and the page
    says so (False)."""
    try:
        close_interrupted_runs(mailing_list_id)
    except QUEUE_UNREACHABLE:
        db.session.rollback()
        return False
    return True


def claim(mailing_list_id: int, token: str) -> None:
    """Reserve the list for one new export, or raise AlreadyRunningError with the one that
    holds it. SET NX makes two simultaneous requests end with exactly one run."""
    redis = state().redis
    key = pending_key(mailing_list_id)
    for _ in range(2):
        if redis.set(key, token, nx=True, ex=PENDING_SECONDS):
            if list_lock(mailing_list_id).locked():
                redis.delete(key)
                raise AlreadyRunningError(latest_unfinished(mailing_list_id))
            return
        holder = redis.get(key)
        run = db.session.get(SyncRun, int(holder)) if holder and holder.isdigit() else None
        if run is not None and is_under_way(run):
            raise AlreadyRunningError(run)
        compare_and_delete(redis, key, holder)
    raise AlreadyRunningError(latest_unfinished(mailing_list_id))


def compare_and_delete(redis: Redis, key: str, expected: bytes | None) -> None:
    """Drop a stale reservation, unless someone replaced it meanwhile."""
    with redis.pipeline() as pipe:
        try:
            pipe.watch(key)
            if pipe.get(key) == expected:
                pipe.multi()
                pipe.delete(key)
                pipe.execute()
        except Exception:
            log.debug("Reservation of %s changed meanwhile", key)


def latest_unfinished(mailing_list_id: int) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun)
        .where(SyncRun.mailing_list_id == mailing_list_id, SyncRun.state.in_(UNFINISHED_STATES))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def new_run(mailing_list: MailingList, trigger: str, user_id: int | None, dry_run: bool) -> SyncRun:
    run = SyncRun(
        mailing_list=mailing_list,
        trigger=trigger,
        triggered_by_id=user_id,
        dry_run=dry_run,
        state="queued",
        created_at=now(),
    )
    db.session.add(run)
    db.session.commit()
    return run


def reserve(mailing_list: MailingList, trigger: str, user_id: int | None, dry_run: bool) -> SyncRun:
    """A new run holding the list's reservation, or AlreadyRunningError (and no new run)."""
    close_interrupted_runs(mailing_list.id)
    run = new_run(mailing_list, trigger, user_id, dry_run)
    try:
        claim(mailing_list.id, str(run.id))
    except AlreadyRunningError:
        db.session.delete(run)
        db.session.commit()
        raise
    return run


def release(run: SyncRun) -> None:
    """Drop the reservation once the run holds the lock (or is over)."""
    compare_and_delete(state().redis, pending_key(run.mailing_list_id), str(run.id).encode())


def enqueue_sync(
    mailing_list: MailingList,
    *,
    trigger: str,
    user_id: int | None = None,
    dry_run: bool = False,
) -> SyncRun:
    """Queue an export (or preview) of the list; AlreadyRunningError if one is under way.

    An export asked for by hand also lifts the daily schedule's back-off.
    """
    run = reserve(mailing_list, trigger, user_id, dry_run)
    if trigger == "manual" and not dry_run:
        mailing_list.failure_streak = 0
    job = state().queue.enqueue(
        sync_job,
        run.id,
        job_id=f"mcbridge-sync-{run.id}",
        meta={"mailing_list_id": mailing_list.id, "phase": "queued", "done": 0, "total": 0},
        result_ttl=7 * 24 * 3600,
        failure_ttl=30 * 24 * 3600,
    )
    run.job_id = job.id
    db.session.commit()
    return run


def sync_job(run_id: int) -> str:
    """The RQ job: run one export and record it. Returns the run's final state."""
    run = db.session.get(SyncRun, run_id)
    if run is None:
        return "missing"
    job = get_current_job()
    return execute(run, job_progress(job) if job else ignore_progress)


def execute(run: SyncRun, progress: Callable[[str, int, int], None]) -> str:
    """Hold the list's lock, then its audience's, export, record; shared by the job and
    the CLI."""
    with holding(list_lock(run.mailing_list_id)) as acquired:
        release(run)
        if not acquired:
            return refuse(run, CONCURRENT)
        progress("waiting", 0, 0)
        with holding(audience_lock(run.mailing_list)) as audience_free:
            if not audience_free:
                return refuse(run, AUDIENCE_BUSY)
            return export_and_record(run, progress)


def refuse(run: SyncRun, why: Message) -> str:
    run.state, run.finished_at = "failed", now()
    run.message = dumps([why])
    db.session.commit()
    return run.state


def export_and_record(run: SyncRun, progress: Callable[[str, int, int], None]) -> str:
    run.state, run.started_at = "running", now()
    db.session.commit()
    try:
        result = export(run.mailing_list, dry_run=run.dry_run, progress=progress)
    except Exception:
        db.session.rollback()
        log.exception("Export run %s stopped by an unexpected error", run.id)
        result = SyncResult(dry_run=run.dry_run)
        result.fail(UNEXPECTED)
        record(run, result)
        raise
    record(run, result)
    progress("done", 1, 1)
    return run.state


@contextmanager
def holding(lock: Lock) -> Any:
    """The lock, renewed in the background while held, so it outlives slow runs but not a
    dead worker."""
    acquired = lock.acquire()
    stop = threading.Event()
    renewer = threading.Thread(target=renew, args=(lock, stop), daemon=True)
    if acquired:
        renewer.start()
    try:
        yield acquired
    finally:
        if acquired:
            stop.set()
            renewer.join()
            lock.release()


def renew(lock: Lock, stop: threading.Event) -> None:
    while not stop.wait((lock.timeout or 1) / 4):
        lock.reacquire()


def job_progress(job: Job, every: float = 0.5) -> Callable[[str, int, int], None]:
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
