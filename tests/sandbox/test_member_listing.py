"""GET /lists/{id}/members: paging, projections, filters, and cost that does not grow
with the offset."""

from __future__ import annotations

import pytest
from mailchimp3 import MailChimp

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address


@pytest.fixture
def filled_audience(sandbox: Sandbox, audience_id: str) -> str:
    """25 members: every 5th unsubscribed, loaded through the store's bulk pre-fill."""
    rows = [
        {
            "email_address": address(n),
            "status": "unsubscribed" if n % 5 == 0 else "subscribed",
            "merge_fields": {"FNAME": f"P{n}"},
        }
        for n in range(25)
    ]
    assert sandbox.server.runtime.store.bulk_load_members(audience_id, rows) == 25
    return audience_id


def emails(page: dict) -> list[str]:
    return [m["email_address"] for m in page["members"]]


def test_default_page_is_ten_members(api: Api, filled_audience: str) -> None:
    page = api.get(f"lists/{filled_audience}/members").json()
    assert emails(page) == [address(n) for n in range(10)]
    assert page["total_items"] == 25
    assert page["list_id"] == filled_audience
    assert page["_links"][0]["rel"] == "self"


def test_count_above_1000_is_silently_capped(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    rows = ({"email_address": address(n)} for n in range(1005))
    sandbox.server.runtime.store.bulk_load_members(audience_id, rows)
    page = api.get(f"lists/{audience_id}/members", params={"count": 5000}).json()
    assert len(page["members"]) == 1000
    assert page["total_items"] == 1005


def test_pages_are_stable_and_add_up_to_total(api: Api, filled_audience: str) -> None:
    seen: list[str] = []
    for offset in range(0, 25, 7):
        page = api.get(
            f"lists/{filled_audience}/members", params={"count": 7, "offset": offset}
        ).json()
        assert page["total_items"] == 25
        seen += emails(page)
    assert seen == [address(n) for n in range(25)]


def test_status_filter_pages_and_counts(api: Api, filled_audience: str) -> None:
    page = api.get(
        f"lists/{filled_audience}/members",
        params={"status": "unsubscribed", "count": 2, "offset": 3},
    ).json()
    assert emails(page) == [address(15), address(20)]
    assert page["total_items"] == 5


def test_mailchimp3_get_all_reads_every_page(mc: MailChimp, filled_audience: str) -> None:
    everything = mc.lists.members.all(
        filled_audience, get_all=True, count=10, fields="members.email_address"
    )
    assert emails(everything) == [address(n) for n in range(25)]
    assert everything["total_items"] == 25


def test_fields_projection(api: Api, filled_audience: str) -> None:
    page = api.get(
        f"lists/{filled_audience}/members",
        params={"fields": "members.email_address,members.status,total_items", "count": 2},
    ).json()
    assert page == {
        "members": [
            {"email_address": address(0), "status": "unsubscribed"},
            {"email_address": address(1), "status": "subscribed"},
        ],
        "total_items": 25,
    }


def test_exclude_fields_projection(api: Api, filled_audience: str) -> None:
    page = api.get(
        f"lists/{filled_audience}/members",
        params={"exclude_fields": "members.merge_fields,members.tags,_links", "count": 1},
    ).json()
    member = page["members"][0]
    assert "merge_fields" not in member
    assert "tags" not in member
    assert member["email_address"] == address(0)
    assert page["total_items"] == 25


def test_since_last_changed(sandbox: Sandbox, api: Api, filled_audience: str) -> None:
    sandbox.control.advance_clock(120)
    before = sandbox.control.now()
    sandbox.control.advance_clock(60)
    api.patch(
        f"lists/{filled_audience}/members/{address(3)}", json={"merge_fields": {"FNAME": "X"}}
    )
    page = api.get(f"lists/{filled_audience}/members", params={"since_last_changed": before}).json()
    assert emails(page) == [address(3)]
    assert page["total_items"] == 1


def test_deep_offset_costs_no_more_than_the_first_page(sandbox: Sandbox, audience_id: str) -> None:
    """A naive OFFSET walks every skipped row; 40,000 rows make that many times costlier."""
    store = sandbox.server.runtime.store
    size = 40_000
    store.bulk_load_members(audience_id, ({"email_address": address(n)} for n in range(size)))
    audience = store.audiences.get(audience_id)
    assert audience is not None
    with store.db.counting_steps() as first:
        store.members.page(audience.pk, offset=0, count=500)
    with store.db.counting_steps() as deep:
        page = store.members.page(audience.pk, offset=size - 1000, count=500)
    assert [m.email for m in page.members][:2] == [address(size - 1000), address(size - 999)]
    assert page.total == size
    assert deep[0] <= first[0] * 2 + 20


def test_reading_back_a_large_change_costs_no_more_deep_than_at_first(
    sandbox: Sandbox, audience_id: str
) -> None:
    """After an export wrote every member, the next read asks for everything changed since
    it began, page by page: each page must not count and skip all earlier matches again."""
    store = sandbox.server.runtime.store
    size = 40_000
    rows = (
        {"email_address": address(n), "last_changed": "2026-06-01T00:00:00+00:00"}
        for n in range(size)
    )
    store.bulk_load_members(audience_id, rows)
    audience = store.audiences.get(audience_id)
    assert audience is not None
    since = "2026-05-31T00:00:00+00:00"
    read: list[str] = []
    steps: list[int] = []
    for offset in range(0, size, 1000):
        with store.db.counting_steps() as cost:
            page = store.members.page(audience.pk, since=since, offset=offset, count=1000)
        read.extend(member.email for member in page.members)
        steps.append(cost[0])
        assert page.total == size

    assert read == [address(n) for n in range(size)]
    assert max(steps[1:]) <= steps[1] * 2 + 20


def test_a_change_between_two_pages_is_seen_by_the_next_page(
    sandbox: Sandbox, api: Api, filled_audience: str
) -> None:
    listing = f"lists/{filled_audience}/members"
    since = {"since_last_changed": "2000-01-01T00:00:00+00:00", "count": 10}
    first = api.get(listing, params=since).json()
    assert api.post(f"{listing}/{address(12)}/actions/delete-permanent").status_code == 204

    second = api.get(listing, params={**since, "offset": 10}).json()

    assert first["total_items"] == 25
    assert second["total_items"] == 24
    assert emails(second) == [address(n) for n in (10, 11, *range(13, 21))]


def test_default_listing_leaves_archived_members_out(
    sandbox: Sandbox, api: Api, filled_audience: str
) -> None:
    """Unverified on Mailchimp; leaving them out shows an export that never reads
    status=archived. The sandbox's own member list keeps everyone."""
    listing = f"lists/{filled_audience}/members"
    for n in (1, 2):
        assert api.delete(f"{listing}/{address(n)}").status_code == 204
    everyone = api.get(listing, params={"count": 100}).json()
    assert address(1) not in emails(everyone)
    assert everyone["total_items"] == 23
    archived = api.get(listing, params={"status": "archived"}).json()
    assert (emails(archived), archived["total_items"]) == ([address(1), address(2)], 2)
    since = {"since_last_changed": "2000-01-01T00:00:00+00:00", "count": 100}
    changed = api.get(listing, params=since).json()
    assert (len(changed["members"]), changed["total_items"]) == (23, 23)
    changed_archived = api.get(listing, params={**since, "status": "archived"}).json()
    assert changed_archived["total_items"] == 2
    assert len(sandbox.control.members(filled_audience)) == 25


def test_default_listing_of_a_large_audience_pages_as_fast_without_archived(
    sandbox: Sandbox, audience_id: str
) -> None:
    """Leaving archived members out must not cost a sort: deep pages stay as cheap."""
    store = sandbox.server.runtime.store
    size = 40_000
    rows = (
        {"email_address": address(n), "status": "archived" if n % 10 == 0 else "subscribed"}
        for n in range(size)
    )
    store.bulk_load_members(audience_id, rows)
    audience = store.audiences.get(audience_id)
    assert audience is not None
    with store.db.counting_steps() as first:
        store.members.page(audience.pk, offset=0, count=500, include_archived=False)
    with store.db.counting_steps() as deep:
        page = store.members.page(audience.pk, offset=35_000, count=500, include_archived=False)
    assert page.total == 36_000
    assert page.members[0].email == address(35_000 * 10 // 9 + 1)
    assert deep[0] <= first[0] * 2 + 20
