"""The Mailchimp tab's choice about the contacts an audience already held: previewed,
decided on record, done by one export, asked again when the list moves."""

from __future__ import annotations

import re

from rq import Worker
from sqlalchemy import select

from mcbridge.extensions import db
from mcbridge.jobs import state as queue_state
from mcbridge.models import SyncRun
from tests import factories as make
from tests.admin.test_mailchimp_link import account, link_page, reloaded, save
from tests.helpers import post_form

__all__ = ["account"]  # the fixture, shared with the tab's other tests

READER = "reader@newspaper-mail.ch"


def work() -> None:
    """Run the queued jobs in a real RQ worker; the test's connection is given back first."""
    db.session.commit()
    Worker([queue_state().queue], connection=queue_state().redis).work(burst=True)


def post_and_follow(client, org, url: str) -> str:
    response = post_form(client, url, {}, page=link_page(org))
    return client.get(response.headers["Location"]).get_data(as_text=True)


def decide(client, org, decision: str) -> str:
    return post_and_follow(client, org, f"/admin/mailchimp/{org.north_list.id}/adoption/{decision}")


def decided_by(page: str, email: str, outcome: str) -> bool:
    """The page names who decided, when, and what follows."""
    return re.search(rf"Decided by {re.escape(email)} on [^<]+?: {outcome}", page) is not None


def linked_with_strangers(client, org, account, sandbox) -> None:
    """Alice (a recipient) and a reader (not one) signed up before the list was linked."""
    sandbox.simulate_signup(account.audience, org.alice.email, {"FNAME": "Al"})
    sandbox.simulate_signup(account.audience, READER)
    save(client, org, audience=account.granted.id, consent="y")


def list_tags(sandbox, account, email: str) -> set[str]:
    return {tag["name"] for tag in sandbox.member(account.audience, email)["tags"]}


def test_a_preview_shows_whom_the_choice_concerns_and_writes_nothing(
    as_leader, org, account, sandbox
):
    linked_with_strangers(as_leader, org, account, sandbox)
    tab = as_leader.get(link_page(org)).get_data(as_text=True)
    assert "Contacts already in the audience" in tab
    assert "Not decided yet: until then, exports leave them alone." in tab

    preview = post_form(
        as_leader, f"/admin/exports/{org.north_list.id}/preview", {}, page=link_page(org)
    )
    work()

    run_page = as_leader.get(preview.headers["Location"]).get_data(as_text=True)
    assert 'data-counter="adopted">1<' in run_page
    assert "would be adopted (1)" in run_page
    assert org.alice.email in run_page
    assert READER not in run_page
    tab = as_leader.get(link_page(org)).get_data(as_text=True)
    assert "The latest preview found 1 contact to adopt." in tab
    assert f'href="{preview.headers["Location"]}"' in tab
    assert list_tags(sandbox, account, org.alice.email) == set()


def test_adopting_is_recorded_done_by_the_next_export_and_then_closed(
    as_leader, org, account, sandbox
):
    linked_with_strangers(as_leader, org, account, sandbox)

    page = decide(as_leader, org, "adopt")

    assert "The next export adopts the contacts already in the audience." in page
    assert decided_by(page, org.leader.email, "the next export adopts them.")
    decided = reloaded(org)
    assert (decided.adoption, decided.adoption_by_label) == ("adopt", org.leader.email)
    assert decided.adoption_at is not None

    post_and_follow(as_leader, org, f"/admin/exports/{org.north_list.id}/start")
    work()

    run = db.session.scalars(select(SyncRun).where(SyncRun.dry_run.is_(False))).one()
    tab = as_leader.get(link_page(org)).get_data(as_text=True)
    assert f"1 contact was adopted by export #{run.id} on" in tab
    assert f'href="/admin/exports/runs/{run.id}"' in tab
    assert "/adoption/" not in tab  # the choice is no longer offered
    assert list_tags(sandbox, account, org.alice.email) == {"mcbridge: North news"}
    assert list_tags(sandbox, account, READER) == set()
    assert "no longer open" in decide(as_leader, org, "leave")
    assert reloaded(org).adoption == "adopted"


def test_leaving_them_is_recorded_and_can_still_be_changed(as_leader, org, account, sandbox):
    linked_with_strangers(as_leader, org, account, sandbox)

    page = decide(as_leader, org, "leave")

    assert decided_by(page, org.leader.email, "exports leave them alone.")
    assert "Not decided yet" not in page
    assert f'action="/admin/mailchimp/{org.north_list.id}/adoption/adopt"' in page
    assert reloaded(org).adoption == "leave"


def test_linking_another_audience_asks_again(as_leader, org, account, sandbox):
    linked_with_strangers(as_leader, org, account, sandbox)
    decide(as_leader, org, "adopt")
    other = make.audience_of(account.key, sandbox.add_audience(account.key, "Second"), org.north)

    save(as_leader, org, audience=other.id)

    moved = reloaded(org)
    assert (moved.adoption, moved.adoption_by_label, moved.adoption_at) == (None, None, None)


def test_only_lists_in_the_leaders_scope_and_only_the_two_choices(as_leader, org, account):
    save(as_leader, org, audience=account.granted.id, consent="y")
    other_group = f"/admin/mailchimp/{org.south_list.id}/adoption/adopt"
    unknown = f"/admin/mailchimp/{org.north_list.id}/adoption/delete"

    for url in (other_group, unknown):
        assert post_form(as_leader, url, {}, page=link_page(org)).status_code == 404
    assert db.session.get(type(org.south_list), org.south_list.id).adoption is None
    assert reloaded(org).adoption is None
