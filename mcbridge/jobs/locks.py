"""Audience and list locks in Redis, renewed while held, so that a crashed worker frees
what it held by itself once the lock's life runs out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from redis.lock import Lock

from mcbridge.jobs.queue import redis_key, state
from mcbridge.mailchimp.keys import datacenter
from mcbridge.models import MailingList


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


@contextmanager
def holding(lock: Lock) -> Iterator[bool]:
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
