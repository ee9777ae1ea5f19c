"""Exports on the RQ queue, one concern per module:

- `queue`: the Redis connection and the queue on the app (as in microblog);
- `locks`: the list's and the audience's locks, renewed while held;
- `reservations`: one export at a time per list, from the request to the job;
- `runs`: the record of runs, interrupted runs, and progress in the job's meta;
- `export`: the RQ job itself and the function that queues it;
- `labels`: how runs, their states and phases are named on pages and in the CLI.

The names below are the package's interface for the rest of mcbridge. `sync_job` stays
reachable here too: jobs queued before the job moved into `export` name it
`mcbridge.jobs.sync_job`, and a worker must still find it.
"""

from mcbridge.jobs.export import enqueue_sync, execute, sync_job
from mcbridge.jobs.locks import audience_lock, list_lock
from mcbridge.jobs.queue import (
    QUEUE_UNREACHABLE,
    QueueState,
    init_queue,
    queue_reachable,
    redis_key,
    state,
)
from mcbridge.jobs.reservations import AlreadyRunningError, release, reserve
from mcbridge.jobs.runs import (
    ignore_progress,
    latest_unfinished,
    progress_of,
    show_interrupted_runs,
)

__all__ = [
    "QUEUE_UNREACHABLE",
    "AlreadyRunningError",
    "QueueState",
    "audience_lock",
    "enqueue_sync",
    "execute",
    "ignore_progress",
    "init_queue",
    "latest_unfinished",
    "list_lock",
    "progress_of",
    "queue_reachable",
    "redis_key",
    "release",
    "reserve",
    "show_interrupted_runs",
    "state",
    "sync_job",
]
