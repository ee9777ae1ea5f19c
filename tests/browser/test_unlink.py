"""Unlinking a list from its Mailchimp page, as a leader meets it: the page asks what
happens to the contacts there, archiving goes through an export on the queue, and the
history keeps the choice."""

from __future__ import annotations

from playwright.sync_api import expect
from rq import Worker

from mcbridge.extensions import db
from mcbridge.jobs import state as queue_state
from mcbridge.models import MailingList
from tests.browser.helpers import follow, sign_in, t, visit


def test_unlinking_with_archiving_archives_the_lists_contacts_on_record(
    page, exported, audience, language, sandbox
):
    sign_in(page, language, exported.leader.email)
    visit(page, f"/admin/mailchimp/{exported.newsletter.id}/")
    archive = t(
        language,
        "Archive the contacts this list manages (those with its tag); contacts others added "
        "are never touched",
    )
    page.get_by_label(archive).check()
    follow(page, page.get_by_role("button", name=t(language, "Disconnect from Mailchimp")))

    started = t(
        language,
        "Archiving the contacts this list manages; the list is unlinked once they are all "
        "archived.",
    )
    expect(page.get_by_text(started)).to_be_visible()
    Worker([queue_state().queue], connection=queue_state().redis).work(burst=True)

    statuses = {m["status"] for m in sandbox.members(audience.audience_id)}
    assert statuses == {"archived"}
    db.session.expire_all()
    assert not db.session.get(MailingList, exported.newsletter.id).is_linked
    visit(page, f"/admin/exports/{exported.newsletter.id}/history")
    expect(page.get_by_text(t(language, "unlinking: managed contacts archived"))).to_be_visible()
