"""A daily export the brake held: the list's leader reads why on the run's page, confirms
it there, and the export goes through while the page follows it."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import delete

from mcbridge.extensions import db
from mcbridge.jobs import enqueue_sync
from mcbridge.models import Role
from tests.browser.helpers import follow, sign_in, t, visit
from tests.browser.test_export import watch_the_run_to_its_end
from tests.helpers import worker_processes


def test_a_leader_confirms_an_export_the_brake_held(
    page, app, exported, audience, language, sandbox
):
    leaving = exported.people[0]
    exported.newsletter.brake_archive_min = 1
    db.session.execute(delete(Role).where(Role.person_id == leaving.id))
    db.session.commit()
    held = enqueue_sync(exported.newsletter, trigger="daily")
    worker_processes(app)
    assert sandbox.member(audience.audience_id, leaving.email)["status"] == "subscribed"

    sign_in(page, language, exported.leader.email)
    visit(page, f"/admin/exports/runs/{held.id}")
    expect(page.locator("#run-state")).to_have_text(t(language, "held by the brake"))
    expect(page.locator('[data-counter="archived"]')).to_have_text("1")
    expect(page.get_by_text(leaving.email)).to_be_visible()
    follow(page, page.get_by_role("button", name=t(language, "Confirm and export")))

    expect(page.get_by_text(t(language, "Export confirmed and started."))).to_be_visible()
    watch_the_run_to_its_end(page, app, language, "exported")
    expect(page.locator('[data-counter="archived"]')).to_have_text("1")
    assert sandbox.member(audience.audience_id, leaving.email)["status"] == "archived"
