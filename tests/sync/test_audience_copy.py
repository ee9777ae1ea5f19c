"""Reading the audience: in full the first time, then only what changed since."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import pytest

from mcbridge.extensions import db
from mcbridge.mailchimp import connect
from mcbridge.mailchimp.audience import MemberListing
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.messages import render
from mcbridge.models import AudienceMember, MailingList
from mcbridge.sync.bounces import cleaned_in
from mcbridge.sync.mirror import Mirror
from tests import factories as make
from tests.sync.conftest import link


def member_reads(club) -> list[dict]:
    path = f"/3.0/lists/{club.audience}/members"
    return [c for c in club.calls() if c["method"] == "GET" and c["path"] == path]


def query(call: dict) -> dict[str, list[str]]:
    raw = call["query"]
    return parse_qs(raw) if isinstance(raw, str) else {k: [v] for k, v in raw.items()}


def test_the_first_read_pages_the_whole_audience_with_only_the_needed_fields(club, app):
    for number in range(25):
        club.sandbox.simulate_signup(club.audience, f"reader{number}@news-mail.ch")
    club.join("Anna")
    app.config["MAILCHIMP_PAGE_SIZE"] = 10

    club.export()

    pages = [query(call) for call in member_reads(club) if "offset" in query(call)]
    default = [p for p in pages if "status" not in p]
    archived = [p for p in pages if p.get("status") == ["archived"]]
    assert sorted(int(p["offset"][0]) for p in default) == [0, 10, 20]
    assert [int(p["offset"][0]) for p in archived] == [0]  # archived contacts are read too
    assert all(p["count"] == ["10"] for p in pages)
    assert all("members.email_address" in p["fields"][0] for p in pages)
    assert all("since_last_changed" not in p for p in pages)
    assert db.session.query(AudienceMember).count() == 26


def test_later_reads_ask_only_for_changes_and_still_see_an_unsubscribe(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.export()
    club.sandbox.clear_requests()

    unchanged = club.export()
    reads = member_reads(club)
    assert unchanged.state == "unchanged"
    # audience, merge fields, then for both listings (default, archived): the total, the
    # changes, and the total again that proves the read complete
    assert unchanged.read_calls <= 8
    assert any("since_last_changed" in query(call) for call in reads)

    club.sandbox.simulate_unsubscribe(club.audience, anna.email)
    anna.first_name = "Anna-Maria"
    db.session.commit()
    after = club.export()
    assert (after.kept_unsubscribed, after.updated) == (1, 0)
    assert club.member(anna.email)["status"] == "unsubscribed"
    assert club.member(ben.email)["status"] == "subscribed"


def test_a_contact_deleted_in_mailchimp_is_noticed(club):
    anna = club.join("Anna")
    club.export()
    club.mailchimp().lists.members.delete_permanent(club.audience, subscriber_hash(anna.email))

    run = club.export()

    assert (run.state, run.refused) == ("partial", 1)
    assert "permanently deleted" in render(run.issues[0].message)
    assert club.export().state == "unchanged"


def test_a_new_installation_recognises_the_contacts_by_their_tag(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.export()
    db.session.delete(club.newsletter)  # the first installation is gone, with its database
    db.session.commit()
    restored = MailingList(
        group=club.club, name="Club news (restored)", mailchimp_tag="mcbridge: Club news"
    )
    link(restored, club.key, club.audience)
    make.person_rule(restored, anna)
    db.session.add(restored)
    db.session.commit()
    club.newsletter = restored

    run = club.export()

    assert (run.unchanged_members, run.archived, run.added) == (1, 1, 0)
    assert club.member(ben.email)["status"] == "archived"


def test_two_lists_sharing_an_audience_manage_only_their_contacts(club):
    anna, ben = club.join("Anna"), club.join("Ben")
    club.export()
    coaches = make.mailing_list(club.club, "Coaches")
    link(coaches, club.key, club.audience)
    make.person_rule(coaches, anna)
    db.session.commit()
    newsletter = club.newsletter
    club.newsletter = coaches
    assert club.export().state == "success"
    assert {t["name"] for t in club.member(anna.email)["tags"]} == {
        "mcbridge: Club news",
        "mcbridge: Coaches",
    }

    club.newsletter = newsletter
    make.person_rule(newsletter, anna, excluded=True)
    make.person_rule(newsletter, ben, excluded=True)
    db.session.commit()
    run = club.export()

    assert (run.archived, run.untagged) == (1, 1)
    assert club.member(ben.email)["status"] == "archived"
    anna_now = club.member(anna.email)
    assert anna_now["status"] == "subscribed"
    assert {t["name"] for t in anna_now["tags"]} == {"mcbridge: Coaches"}


def test_a_preview_computes_the_changes_and_writes_nothing(club):
    club.join("Anna", last_name="Muster")
    club.sandbox.clear_requests()
    bare = club.sandbox.add_audience(club.key, "Bare", default_merge_fields=False)
    club.newsletter.mailchimp_list_id = bare
    db.session.commit()

    run = club.export(dry_run=True)

    assert (run.state, run.added) == ("success", 1)
    assert run.preview["samples"]["added"][0]["name"] == "Anna Muster"
    assert "FNAME would be created" in render(run.message)
    assert club.write_calls() == []
    assert club.sandbox.members(bare) == []
    assert club.newsletter.last_sync_state is None


def test_reading_a_large_audience_stays_a_few_pages_ahead_of_a_slow_save(club, app):
    for number in range(40):
        club.sandbox.simulate_signup(club.audience, f"reader{number}@news-mail.ch")
    client = connect(club.key)
    club.sandbox.clear_requests()

    listing = MemberListing(client, club.audience, since=None, page_size=2, workers=2)
    listing.start()
    pages = listing.pages()
    for _ in range(3):
        next(pages)
        time.sleep(0.3)
    read_while_saving = len(member_reads(club))
    remaining = sum(1 for _ in pages)
    client.close()

    assert read_while_saving <= 2 + 3 + 2 * 2  # the first page of each listing, then ahead
    assert 3 + remaining == 21  # 20 pages of members, and the (empty) archived listing


def test_the_copy_is_read_in_code_point_order_without_sorting_it(club):
    """The export walks the copy by address in code-point order. PostgreSQL's own order
    follows the database's collation, so it would sort a list's whole copy (on disk for a
    large audience) unless an index gives that order: with sorting forbidden, the plan
    still has to read the copy in order."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's own order is by code point: no sort either way")
    club.join("Anna")
    club.export()
    mailing_list = db.session.get(MailingList, club.newsletter.id)
    statement = Mirror(mailing_list, ()).read_in_order()
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})

    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))

    assert "Sort" not in plan, plan
    assert "in_code_point_order" in plan, plan


def test_cleaned_members_are_found_without_reading_the_whole_copy(club):
    """Every export flags the addresses its audience reports as cleaned: a handful among
    a list's whole copy (a million members for a large one), found off an index of their
    own, on both databases, rather than by reading every member."""
    club.join("Anna")
    club.export()
    compiled = cleaned_in(club.newsletter.id).compile(
        db.engine, compile_kwargs={"literal_binds": True}
    )

    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        explain = f"EXPLAIN {compiled}"
    else:
        explain = f"EXPLAIN QUERY PLAN {compiled}"
    plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(explain))

    assert "audience_members_cleaned" in plan, plan
