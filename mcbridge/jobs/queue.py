"""The queue on the app, as in microblog: one Redis connection and one RQ queue, built at
start-up and reached through the app's extension, and what tells whether Redis answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

# What redis-py raises when Redis cannot be reached (RQ's calls included).
QUEUE_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# A Redis that drops packets would hold every page that asks it something until the proxy
# gives up; refused at once, or after this many seconds, the page says the queue is away.
REDIS_CONNECT_TIMEOUT = 5

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


def job_is_alive(job_id: str | None) -> bool:
    if not job_id:
        return False
    try:
        return Job.fetch(job_id, connection=state().redis).get_status() in LIVE_JOB_STATES
    except NoSuchJobError:
        return False
