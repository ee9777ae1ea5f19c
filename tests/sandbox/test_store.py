"""The SQLite store under concurrent writers, and its bulk pre-fill."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mcbridge_sandbox import rules
from mcbridge_sandbox.models import STATUSES
from mcbridge_sandbox.problems import ApiError
from mcbridge_sandbox.store import Store
from mcbridge_sandbox.store.schema import ADDED_COLUMNS

from tests.sandbox.conftest import Sandbox
from tests.sandbox.helpers import Api, address


def test_concurrent_batch_subscribes_lose_nothing(
    sandbox: Sandbox, account_key: str, audience_id: str
) -> None:
    def subscribe(chunk: int) -> int:
        members = [
            {"email_address": address(chunk * 100 + n), "status": "subscribed"} for n in range(100)
        ]
        response = sandbox.api(account_key).post(f"lists/{audience_id}", json={"members": members})
        return int(response.json()["total_created"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(subscribe, range(16))) == 1600
    audience = sandbox.api(account_key).get(f"lists/{audience_id}").json()
    assert audience["stats"]["member_count"] == 1600


def test_counts_follow_every_status_change(sandbox: Sandbox, api: Api, audience_id: str) -> None:
    for n in range(6):
        api.subscribe(audience_id, address(n))
    sandbox.control.simulate_unsubscribe(audience_id, address(0))
    sandbox.control.simulate_bounce(audience_id, address(1))
    api.delete(f"lists/{audience_id}/members/{address(2)}")
    api.post(f"lists/{audience_id}/members/{address(3)}/actions/delete-permanent")
    actual: dict[str, int] = {}
    for member in sandbox.control.members(audience_id):
        actual[member["status"]] = actual.get(member["status"], 0) + 1
    for status in STATUSES:
        listed = api.get(f"lists/{audience_id}/members", params={"status": status}).json()
        assert listed["total_items"] == actual.get(status, 0), status
    everyone_but_archived = sum(n for status, n in actual.items() if status != "archived")
    assert api.get(f"lists/{audience_id}/members").json()["total_items"] == everyone_but_archived
    assert everyone_but_archived == 4


def test_bulk_load_members_with_tags_and_statuses() -> None:
    store = Store()
    account = store.accounts.create("0" * 32 + "-us1", "2026-01-01T00:00:00+00:00")
    audience = store.audiences.create(account.id, "Big", "2026-01-01T00:00:00+00:00")
    rows = (
        {
            "email_address": address(n),
            "status": "subscribed" if n % 4 else "unsubscribed",
            "merge_fields": {"FNAME": f"P{n}"},
            "tags": ["managed"],
        }
        for n in range(2000)
    )
    assert store.bulk_load_members(audience.id, rows) == 2000
    assert store.members.status_counts(audience.pk) == {"subscribed": 1500, "unsubscribed": 500}
    last = store.members.page(audience.pk, offset=1999, count=1).members
    assert [(m.email, m.merge_fields) for m in last] == [(address(1999), {"FNAME": "P1999"})]
    managed = store.segments.by_name(audience.pk, "managed")
    assert managed is not None
    assert store.segments.member_count(managed.id) == 2000


def test_bulk_load_refuses_an_address_already_present() -> None:
    store = Store()
    account = store.accounts.create("0" * 32 + "-us1", "2026-01-01T00:00:00+00:00")
    audience = store.audiences.create(account.id, "Big", "2026-01-01T00:00:00+00:00")
    store.bulk_load_members(audience.id, [{"email_address": address(1)}])
    repeated = [{"email_address": address(2)}, {"email_address": address(1)}]
    with pytest.raises(ValueError, match="repeat an address"):
        store.bulk_load_members(audience.id, repeated)
    assert store.members.status_counts(audience.pk) == {"subscribed": 1}


def test_a_data_file_from_before_the_added_columns_keeps_working(tmp_path: Path) -> None:
    """Columns are added on opening; cleaned members were always in a compliance state, and
    older unsubscribed ones count as unsubscribed by an admin."""
    data = str(tmp_path / "old.sqlite3")
    store = Store(data)
    account = store.accounts.create("0" * 32 + "-us1", "2026-01-01T00:00:00+00:00")
    audience = store.audiences.create(account.id, "Old", "2026-01-01T00:00:00+00:00")
    rows = [
        {"email_address": address(1), "status": "cleaned"},
        {"email_address": address(2), "status": "unsubscribed"},
    ]
    store.bulk_load_members(audience.id, rows)
    store.close()
    with sqlite3.connect(data) as old:
        for table, column, _definition, _fill in ADDED_COLUMNS:
            old.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

    reopened = Store(data)
    cleaned, unsubscribed = reopened.members.all(audience.pk)
    with pytest.raises(ApiError, match="Compliance State"):
        rules.check_status_change(cleaned, "subscribed")
    rules.check_status_change(unsubscribed, "subscribed")
    assert reopened.faults.all() == []
    reopened.close()
