"""`SandboxData`: the sandbox's data file opened without a server.

The public way to prepare state the API would take too long to build (a million members
for a benchmark) before a server opens the file, or to add accounts and audiences from
another process while one runs: nothing in the store is cached, so the server sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from mcbridge_sandbox.control_api import create_account, create_audience
from mcbridge_sandbox.runtime import SandboxRuntime


class SandboxData:
    def __init__(self, path: str) -> None:
        self._runtime = SandboxRuntime(path)

    def __enter__(self) -> SandboxData:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def add_account(self, dc: str = "us1") -> str:
        """A new account; returns its API key."""
        return create_account(self._runtime, dc).api_key

    def add_audience(self, api_key: str, name: str) -> str:
        """A new audience with Mailchimp's default merge fields (and the account, for a
        new well-formed key); returns its id."""
        return create_audience(self._runtime, api_key, name).id

    def bulk_load_members(self, audience_id: str, members: Iterable[Mapping[str, Any]]) -> int:
        """New members, fast; returns how many. Each carries `email_address`, optional
        `status` (default subscribed), `merge_fields` and `tags` (names); all addresses must
        be new to the audience. Cleaned ones are in a compliance state, unsubscribed ones
        count as unsubscribed by an admin."""
        return self._runtime.store.bulk_load_members(audience_id, members)

    def close(self) -> None:
        self._runtime.store.close()
