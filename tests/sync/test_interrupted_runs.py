"""Pages that show runs write nothing: a run whose worker died shows as interrupted there,
and is recorded so by the next export of its list or the scheduler's next tick."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from mcbridge.extensions import db
from mcbridge.jobs import release, reserve
from mcbridge.models import SyncRun
from tests import factories as make
from tests.helpers import sign_in


def lost_run(club: Any) -> SyncRun:
    """A run whose worker took its job and died: recorded as running, its job gone."""
    run = reserve(club.newsletter, "manual", None, False)
    release(run)
    run.state, run.job_id = "running", "mcbridge-sync-lost-with-its-worker"
    db.session.commit()
    return run


def recorded_runs() -> list[tuple[Any, ...]]:
    """The runs table as stored, every column of every row."""
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(select(SyncRun.__table__)).all()]


def interrupted_on_page(response: Any) -> bool:
    return "interrupted" in response.get_data(as_text=True)


def not_under_way_on_page(response: Any) -> bool:
    return "Export to Mailchimp under way" not in response.get_data(as_text=True)


def finished_in_json(response: Any) -> bool:
    return response.get_json()["state"] == "failed" and response.get_json()["finished"]


PAGES = [
    ("/admin/exports/runs/{run}", interrupted_on_page),
    ("/admin/exports/{list}/history", interrupted_on_page),
    ("/admin/subscribers/{list}/", not_under_way_on_page),
    ("/admin/exports/runs/{run}/progress.json", finished_in_json),
]


@pytest.mark.parametrize(("page", "shows_it_interrupted"), PAGES)
def test_a_page_shows_a_run_whose_worker_died_as_interrupted_and_writes_nothing(
    client, club, page, shows_it_interrupted
):
    run = lost_run(club)
    sign_in(client, make.user("boss@club-mail.ch", admin=True).email)
    before = recorded_runs()

    response = client.get(page.format(run=run.id, list=club.newsletter.id))

    assert response.status_code == 200
    assert shows_it_interrupted(response)
    assert recorded_runs() == before
