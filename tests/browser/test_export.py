"""A leader links the club's list to the audience an administrator gave the club, previews,
exports and follows the run page while a real worker runs it, then reads the history; a
failed export shows where the leader looks."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from mcbridge.extensions import db
from mcbridge.models import SyncRun
from tests.browser.helpers import check, follow, labelled, sign_in, t
from tests.helpers import worker_processes

UNKNOWN_KEY = "0123456789abcdef0123456789abcdef-us1"


def watch_the_run_to_its_end(page: Page, app, language: str, state: str) -> None:
    """On a run page whose job waits in the queue: its progress bar shows, a worker takes
    the job, and the page turns into the run's result by itself."""
    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(progress).to_have_accessible_name(t(language, "queued"))
    worker_processes(app)
    expect(page.locator("#run-state")).to_have_text(t(language, state))  # reloaded itself
    expect(progress).to_have_count(0)
    check(page)  # the page it reloaded into, like any other


def start_export(page: Page, language: str) -> None:
    """The subscriber view's Export menu → Mailchimp, then the run page from its link."""
    page.get_by_role("button", name=t(language, "Export"), exact=True).click()
    follow(page, page.get_by_role("button", name="Mailchimp", exact=True))
    expect(page.get_by_text(t(language, "Export to Mailchimp started."))).to_be_visible()
    expect(page.get_by_role("progressbar")).to_be_visible()
    follow(page, page.get_by_role("link", name=t(language, "Follow the run")).first)


def test_a_leader_links_previews_exports_and_reads_the_history(
    page, app, club, audience, language, sandbox
):
    sign_in(page, language, club.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))
    follow(page, page.get_by_role("link", name=t(language, "Edit list")))
    follow(page, page.get_by_role("link", name="Mailchimp", exact=True))

    not_linked = t(language, "This list is not linked to Mailchimp yet.")
    expect(page.get_by_text(not_linked)).to_be_visible()
    labelled(page, t(language, "Mailchimp audience")).select_option(label=audience.choice)
    consent = (
        "I agree that the names and addresses of this list's recipients will be sent to "
        "Mailchimp, outside this system, and I am entitled to do so."
    )
    labelled(page, t(language, consent)).check()
    follow(page, page.get_by_role("button", name=t(language, "Check and save")))
    expect(page.locator("#link-status")).to_contain_text(audience.name)
    expect(page.locator("#consent-record")).to_contain_text(club.leader.email)

    follow(page, page.get_by_role("link", name=t(language, "Subscribers"), exact=True))
    follow(page, page.get_by_role("button", name=t(language, "Preview export")))
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        t(language, "Preview of an export to Mailchimp")
    )
    watch_the_run_to_its_end(page, app, language, "preview")
    expect(page.get_by_role("heading", name=t(language, "Who would be concerned"))).to_be_visible()
    for person in club.people:
        expect(page.get_by_text(person.email)).to_be_visible()
    assert sandbox.members(audience.audience_id) == []  # a preview writes nothing

    follow(page, page.get_by_role("link", name="Club news"))  # the breadcrumb
    start_export(page, language)
    expect(page.get_by_role("heading", level=1)).to_contain_text(t(language, "Export to Mailchimp"))
    watch_the_run_to_its_end(page, app, language, "exported")
    expect(page.locator('[data-counter="added"]')).to_have_text("3")
    subscribed = {m["email_address"]: m["status"] for m in sandbox.members(audience.audience_id)}
    assert subscribed == {person.email: "subscribed" for person in club.people}

    follow(page, page.get_by_role("link", name=t(language, "Export history")))
    runs = page.locator("#runs tbody tr")
    expect(runs).to_have_count(2)
    expect(runs.first).to_contain_text(club.leader.email)
    expect(runs.last).to_contain_text(t(language, "preview"))
    run_id = db.session.query(SyncRun).filter_by(dry_run=False).one().id
    follow(page, page.get_by_role("link", name=str(run_id), exact=True))
    expect(page.locator('[data-counter="added"]')).to_have_text("3")


def test_a_failed_export_shows_on_its_run_page_and_on_the_list(
    page, app, exported, audience, language
):
    audience.granted.connection.api_key = UNKNOWN_KEY  # the key was deleted in Mailchimp
    db.session.commit()
    sign_in(page, language, exported.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))

    start_export(page, language)
    watch_the_run_to_its_end(page, app, language, "failed")
    expect(page.locator(".alert-danger")).to_be_visible()

    follow(page, page.get_by_role("link", name="Club news"))  # the breadcrumb
    expect(page.locator("#mailchimp-status")).to_contain_text(t(language, "failed"))
    follow(page, page.get_by_role("link", name=t(language, "Export history")).first)
    expect(page.locator("#runs tbody tr").first).to_contain_text(t(language, "failed"))
    follow(page, page.get_by_role("link", name=t(language, "Mailing lists"), exact=True))
    row = page.get_by_role("row").filter(has_text="Club news")
    expect(row).to_contain_text(t(language, "failed"))
