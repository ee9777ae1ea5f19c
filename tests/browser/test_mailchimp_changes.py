"""What others do in Mailchimp, as a leader meets it: a contact archived by someone else,
brought back on the leader's record; a profile and an address changed there, delivered by
webhook to the live server and applied from the subscriber view."""

from __future__ import annotations

from playwright.sync_api import expect

from mcbridge.extensions import db
from mcbridge.models import BringBackRequest, MailchimpEvent, Person
from tests.browser.conftest import export_now
from tests.browser.helpers import follow, sign_in, t, tn
from tests.helpers import wait_for


def test_a_contact_archived_by_someone_else_is_brought_back_on_request(
    page, exported, audience, language, sandbox
):
    anna = exported.people[0]
    sandbox.simulate_admin_archive(audience.audience_id, anna.email)
    run = export_now(exported.newsletter)
    assert run.archived_elsewhere == 1
    sign_in(page, language, exported.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))
    follow(page, page.get_by_role("link", name=t(language, "Export history")).first)
    follow(page, page.get_by_role("link", name=str(run.id), exact=True))

    issue = page.locator("#run-issues tbody tr").filter(has_text=anna.email)
    expect(issue).to_contain_text(t(language, "archived in Mailchimp, not by mcbridge"))
    follow(page, issue.get_by_role("button", name=t(language, "Bring back")))

    message = t(
        language, "%(email)s will be subscribed again by the next export.", email=anna.email
    )
    expect(page.get_by_text(message)).to_be_visible()
    request = db.session.query(BringBackRequest).one()
    assert (request.email, request.requested_by_id) == (anna.email, exported.leader.id)
    assert request.done_at is None
    assert sandbox.member(audience.audience_id, anna.email)["status"] == "archived"


def test_changes_made_in_mailchimp_are_reviewed_and_applied_on_the_subscriber_view(
    page, exported, audience, language, sandbox
):
    anna, carla = exported.people[0], exported.people[2]
    sandbox.simulate_profile_update(audience.audience_id, anna.email, {"FNAME": "Annie"})
    sandbox.simulate_email_change(audience.audience_id, carla.email, "carla.rossi@bluewin.ch")
    assert wait_for(lambda: db.session.query(MailchimpEvent).count() == 2)  # by webhook
    sign_in(page, language, exported.leader.email)
    follow(page, page.get_by_role("link", name="Club news"))

    changes = page.locator("#address-changes")
    expect(changes.get_by_role("heading")).to_have_text(
        t(language, "Changes made in Mailchimp, to review")
    )
    address = changes.get_by_role("row").filter(has_text="carla.rossi@bluewin.ch")
    follow(page, address.get_by_role("button", name=t(language, "Apply to the person")))
    updated = tn(language, "%(num)d person updated.", "%(num)d people updated.", 1)
    expect(page.get_by_text(updated)).to_be_visible()
    profile = page.locator("#address-changes").get_by_role("row").filter(has_text="Annie")
    follow(page, profile.get_by_role("button", name=t(language, "Apply to the person")))

    expect(page.locator("#address-changes")).to_have_count(0)
    recipients = page.locator("#recipients")
    expect(recipients).to_contain_text("carla.rossi@bluewin.ch")
    expect(recipients).to_contain_text("Annie Meier")
    db.session.expire_all()
    assert db.session.get(Person, carla.id).email == "carla.rossi@bluewin.ch"
    assert db.session.get(Person, anna.id).first_name == "Annie"
    assert {e.review for e in db.session.query(MailchimpEvent)} == {"applied"}
