"""The operations page: what runs, what failed, and a retry, for administrators only."""

from __future__ import annotations

from rq import Worker

from mcbridge.jobs import state as queue_state
from tests.helpers import csrf_token

PAGE = "/admin/operations/"


def fail_on_purpose() -> None:
    raise RuntimeError("the disk is full")


def test_administrators_see_a_failed_job_and_put_it_back_on_the_queue(as_admin):
    queue = queue_state().queue
    job = queue.enqueue(fail_on_purpose)
    Worker([queue], connection=queue_state().redis).work(burst=True)

    page = as_admin.get(PAGE).get_data(as_text=True)
    assert "RuntimeError: the disk is full" in page

    answer = as_admin.post(
        f"{PAGE}failed/{job.id}/retry",
        data={"csrf_token": csrf_token(as_admin, PAGE)},
        follow_redirects=True,
    )
    assert "The job is back on the queue." in answer.get_data(as_text=True)
    assert queue.job_ids == [job.id]


def test_group_leaders_do_not_see_it(as_leader):
    assert as_leader.get(PAGE).status_code in (403, 404)
