"""The daily export: one entry in RQ's cron scheduler, and the dispatcher job it enqueues.

The entry does not fire once a day: every few minutes it enqueues the dispatcher, which
looks at each linked list and exports those that are due. That is what gives catch-up for
free (after the scheduler or Redis was down at 02:00, the next tick finds the lists that
missed it) and makes extra schedulers harmless (a Redis claim per list and per day, and
the list's own reservation, let only one export through).

A list whose exports keep failing for a reason that will not heal by itself (key refused,
audience gone, no consent) is tried weekly instead of daily until its Mailchimp settings
are saved again or it is exported by hand.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from types import FrameType
from zoneinfo import ZoneInfo

from flask import current_app
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from sqlalchemy import func, select

from mcbridge import clock
from mcbridge.extensions import db
from mcbridge.jobs.export import enqueue_sync
from mcbridge.jobs.queue import redis_key, state
from mcbridge.jobs.reservations import AlreadyRunningError
from mcbridge.jobs.runs import close_all_interrupted_runs
from mcbridge.models import MailingList, SyncRun

log = logging.getLogger(__name__)

ENTRY = "mcbridge-daily-exports"
BACKOFF_AFTER = 2
BACKOFF = timedelta(days=7)
CLAIM_SECONDS = 2 * 24 * 3600


def daily_time() -> time:
    hours, minutes = current_app.config["MCBRIDGE_DAILY_SYNC_AT"].split(":")
    return time(int(hours), int(minutes))


def latest_slot(now: datetime) -> datetime:
    """The most recent daily export moment at or before `now` (naive UTC in and out), on
    the configured time of day in the configured time zone."""
    zone = ZoneInfo(current_app.config["MCBRIDGE_TIMEZONE"])
    local_now = now.replace(tzinfo=UTC).astimezone(zone)
    slot = datetime.combine(local_now.date(), daily_time(), zone)
    if slot > local_now:
        slot = datetime.combine(local_now.date() - timedelta(days=1), daily_time(), zone)
    return slot.astimezone(UTC).replace(tzinfo=None)


def last_attempt(mailing_list: MailingList) -> datetime | None:
    """When an export of the list was last asked for (a preview is not an export)."""
    return db.session.scalar(
        select(func.max(SyncRun.created_at)).where(
            SyncRun.mailing_list_id == mailing_list.id, SyncRun.dry_run.is_(False)
        )
    )


def backed_off(mailing_list: MailingList) -> bool:
    return mailing_list.failure_streak >= BACKOFF_AFTER


def next_daily_attempt(mailing_list: MailingList, now: datetime) -> datetime:
    """When the schedule will next export the list (possibly already past: it is due).

    A list never exported waits for the first daily slot after it was linked (its consent
    recorded): catching up is for slots a list missed, and one that passed before it was
    linked was not missed. So a list is never exported minutes after its leader linked it,
    before the export they start themselves (the demo's list on a first `make run`).
    """
    last = last_attempt(mailing_list)
    if last is not None and backed_off(mailing_list):
        return last + BACKOFF
    since = last or mailing_list.consent_at
    if since is None:
        return now
    slot = latest_slot(now)
    return slot if since < slot else slot + timedelta(days=1)


def due_lists(now: datetime) -> list[MailingList]:
    linked = db.session.scalars(
        select(MailingList).where(
            MailingList.connection_id.is_not(None), MailingList.mailchimp_list_id.is_not(None)
        )
    ).all()
    return [ml for ml in linked if next_daily_attempt(ml, now) <= now]


def claim_slot(mailing_list: MailingList, now: datetime) -> bool:
    """One daily export per list and slot, however many dispatchers run at once."""
    slot = latest_slot(now).isoformat()
    key = redis_key("daily-claim", mailing_list.id, slot)
    return bool(state().redis.set(key, "1", nx=True, ex=CLAIM_SECONDS))


def dispatch_daily_exports() -> list[int]:
    """The cron entry's job: record the runs whose worker died, then queue an export of
    every linked list that is due."""
    close_all_interrupted_runs()
    db.session.commit()
    now = clock.now()
    queued: list[int] = []
    for mailing_list in due_lists(now):
        if not claim_slot(mailing_list, now):
            continue
        try:
            queued.append(enqueue_sync(mailing_list, trigger="daily").id)
        except AlreadyRunningError:
            log.info("Daily export of list %s skipped: one is already running", mailing_list.id)
    # The job owns its transaction and ends it: a process that forks work horses after a
    # tick (RQ's worker, the tests) must not hand them a connection still checked out.
    db.session.commit()
    return queued


def register_entry(scheduler: CronScheduler) -> None:
    """The one cron entry, under a fixed name so monitoring shows one entry per scheduler."""
    config = current_app.config
    scheduler.register(
        dispatch_daily_exports,
        queue_name=config["MCBRIDGE_QUEUE"],
        interval=int(config["MCBRIDGE_SCHEDULE_TICK"]),
        job_timeout=600,
        result_ttl=3600,
        name=ENTRY,
    )


class Scheduler(CronScheduler):
    """RQ's cron scheduler, which stops for sure on SIGTERM or Ctrl-C.

    RQ's raises its stop from the signal handler, wherever the interpreter is. Inside a
    Redis pipeline's finaliser, Python prints that exception and drops it ("Exception
    ignored in Pipeline.__del__"), and the scheduler ran on, a minute between ticks, until
    its supervisor killed it (tests/test_schedule.py caught one in five starts). The
    request is remembered too, and honoured before the next sleep. A stop that comes
    while the scheduler registers itself (before RQ's loop, which deregisters on the way
    out) takes the registration back: monitoring would show a dead scheduler as live."""

    stop_requested = False

    def register_birth(self) -> None:
        try:
            super().register_birth()
        except StopRequested:
            self.register_death()
            raise

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = True
        super()._request_stop(signum, frame)

    def calculate_sleep_interval(self) -> float:
        if self.stop_requested:
            raise StopRequested()
        return super().calculate_sleep_interval()


def create_scheduler() -> CronScheduler:
    scheduler = Scheduler(connection=state().redis)
    register_entry(scheduler)
    return scheduler


def scheduler_status() -> list[dict[str, object]]:
    """Live schedulers, their last heartbeat and the next run of the entry (operations page)."""
    statuses = []
    for scheduler in CronScheduler.all(state().redis):
        entry = next((job for job in scheduler.get_jobs() if job.name == ENTRY), None)
        statuses.append(
            {
                "name": scheduler.name,
                "host": scheduler.hostname,
                "heartbeat": scheduler.last_heartbeat,
                "next_run": entry.next_enqueue_time if entry else None,
                "entries": [job.name for job in scheduler.get_jobs()],
            }
        )
    return statuses
