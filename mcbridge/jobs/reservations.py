"""One export at a time per list, across every worker and machine.

A "pending" key in Redis holds the list from the request until the job starts; the job
then holds the list's lock (see `locks`) while it works. The reservation names the run
that holds it, so a request that finds it taken says which run is under way.
"""

from __future__ import annotations

import logging

from redis import Redis

from mcbridge.extensions import db
from mcbridge.jobs.locks import list_lock
from mcbridge.jobs.queue import redis_key, state
from mcbridge.jobs.runs import close_interrupted_runs, is_under_way, latest_unfinished, new_run
from mcbridge.models import MailingList, SyncRun

log = logging.getLogger(__name__)

PENDING_SECONDS = 6 * 3600


class AlreadyRunningError(Exception):
    """An export of this list is queued or running; the caller is told which one."""

    def __init__(self, run: SyncRun | None) -> None:
        super().__init__("already running")
        self.run = run


def pending_key(mailing_list_id: int) -> str:
    return redis_key("sync-pending", mailing_list_id)


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


def reserve(mailing_list: MailingList, trigger: str, user_id: int | None, dry_run: bool) -> SyncRun:
    """A new run holding the list's reservation, or AlreadyRunningError (and no new run).

    It commits, twice: the reservation names the run, and another process that finds it
    must be able to read that run, or it would take the reservation for a stale one.
    """
    close_interrupted_runs(mailing_list.id)
    run = new_run(mailing_list, trigger, user_id, dry_run)
    db.session.commit()
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
