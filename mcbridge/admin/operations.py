"""The operations page, for administrators: workers, queue, scheduler, running and failed jobs."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_admin import expose
from flask_babel import gettext
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import select
from werkzeug.wrappers import Response

from mcbridge.admin.base import SignedInView
from mcbridge.auth import current_account_id
from mcbridge.extensions import db
from mcbridge.health import OK, health_states
from mcbridge.jobs import AlreadyRunningError, enqueue_sync, sync_job
from mcbridge.jobs import state as queue_state
from mcbridge.jobs.labels import state_badge
from mcbridge.models import SyncRun
from mcbridge.schedule import scheduler_status

SHOWN_FAILURES = 50
TROUBLED_STATES = ("failed", "partial")
SYNC_JOB = f"{sync_job.__module__}.{sync_job.__name__}"


def job_summary(job: Job) -> dict[str, Any]:
    """What a job is about, in the terms of the admin: an export of which list, or what."""
    run = None
    if job.func_name == SYNC_JOB and job.args:
        run = db.session.get(SyncRun, job.args[0])
    return {
        "id": job.id,
        "what": run.mailing_list.name if run else job.func_name.rsplit(".", 1)[-1],
        "run": run,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "meta": job.meta,
        "error": last_line(failure_of(job)),
    }


def failure_of(job: Job) -> str | None:
    """The traceback of the job's last attempt, from RQ's results (`exc_info` is deprecated)."""
    result = job.latest_result()
    return result.exc_string if result is not None else None


def last_line(traceback: str | None) -> str:
    lines = [line for line in (traceback or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def jobs_in(registry: Any, limit: int | None = None) -> list[dict[str, Any]]:
    ids = registry.get_job_ids()
    ids = ids[-limit:] if limit else ids
    jobs = Job.fetch_many(list(reversed(ids)), connection=queue_state().redis)
    return [job_summary(job) for job in jobs if job is not None]


def queue_overview() -> dict[str, Any]:
    """Workers, the queue, the schedulers, running and failed jobs: all kept in Redis."""
    queue = queue_state().queue
    workers = Worker.all(connection=queue_state().redis)
    return {
        "workers": sorted(workers, key=lambda worker: worker.name),
        "queued": queue.count,
        "schedulers": scheduler_status(),
        "running": jobs_in(StartedJobRegistry(queue=queue)),
        "failed": jobs_in(FailedJobRegistry(queue=queue), SHOWN_FAILURES),
    }


def failed_exports(limit: int = SHOWN_FAILURES) -> list[SyncRun]:
    """The latest exports that failed or left addresses unwritten, whatever the queue says:
    an export that fails cleanly (a wrong key, Mailchimp refusing) is a finished job to RQ,
    so it never shows among the failed jobs."""
    return list(
        db.session.scalars(
            select(SyncRun)
            .where(SyncRun.state.in_(TROUBLED_STATES), SyncRun.dry_run.is_(False))
            .order_by(SyncRun.id.desc())
            .limit(limit)
        )
    )


class OperationsView(SignedInView):
    """Is everything that should run, running? Administrators only."""

    admin_only = True

    @expose("/")
    def index(self) -> str:
        """The database's and Redis's health first; what Redis knows only while it answers."""
        health = health_states()
        queue = queue_overview() if health["redis"] == OK else {}
        return self.render(
            "mcbridge/admin/operations.html",
            health=health,
            queue_reachable=bool(queue),
            failed_runs=failed_exports() if health["database"] == OK else [],
            badge=state_badge,
            **queue,
        )

    @expose("/failed/<job_id>/retry", methods=("POST",))
    def retry(self, job_id: str) -> Response:
        """Try a failed job again: an export gets a new run (the failed one stays on record),
        any other job is put back on the queue."""
        registry = FailedJobRegistry(queue=queue_state().queue)
        try:
            job = Job.fetch(job_id, connection=queue_state().redis)
        except NoSuchJobError:
            flash(gettext("This job is gone."), "warning")
            return redirect(url_for(".index"))
        run = job_summary(job)["run"]
        if run is None:
            registry.requeue(job)
            flash(gettext("The job is back on the queue."), "success")
            return redirect(url_for(".index"))
        try:
            enqueue_sync(run.mailing_list, trigger="manual", user_id=current_account_id())
        except AlreadyRunningError:
            flash(gettext("An export of this list is already running."), "warning")
            return redirect(url_for(".index"))
        registry.remove(job, delete_job=True)
        flash(
            gettext("A new export of “%(name)s” is queued.", name=run.mailing_list.name), "success"
        )
        return redirect(url_for(".index"))
