"""The sandbox's state in SQLite: one `Store` with a repository per kind of record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from mcbridge_sandbox.store.accounts import Accounts, Audiences
from mcbridge_sandbox.store.batches import Batches
from mcbridge_sandbox.store.consent_ledger import ConsentLedger
from mcbridge_sandbox.store.database import Database
from mcbridge_sandbox.store.faults import Faults
from mcbridge_sandbox.store.members import MemberPage, Members
from mcbridge_sandbox.store.merge_fields import MergeFields
from mcbridge_sandbox.store.request_log import RequestLog
from mcbridge_sandbox.store.segments import Segments
from mcbridge_sandbox.store.suppressions import Suppressions
from mcbridge_sandbox.store.webhooks import Webhooks

__all__ = ["MemberPage", "Store"]


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self.db = Database(path)
        self.accounts = Accounts(self.db)
        self.audiences = Audiences(self.db)
        self.members = Members(self.db)
        self.merge_fields = MergeFields(self.db)
        self.segments = Segments(self.db)
        self.suppressions = Suppressions(self.db)
        self.webhooks = Webhooks(self.db)
        self.batches = Batches(self.db)
        self.request_log = RequestLog(self.db)
        self.faults = Faults(self.db)
        self.consent_ledger = ConsentLedger(self.db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.transaction():
            yield

    def bulk_load_members(
        self, audience_id: str, rows: Iterable[Mapping[str, Any]], now: str = ""
    ) -> int:
        """Pre-fill an audience for benchmarks; see `Members.bulk_load` for the row shape."""
        audience = self.audiences.get(audience_id)
        if audience is None:
            raise LookupError(f"no audience {audience_id}")
        return self.members.bulk_load(audience.pk, rows, now or audience.date_created)

    def close(self) -> None:
        self.db.close()
