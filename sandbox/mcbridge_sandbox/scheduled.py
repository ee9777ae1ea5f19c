"""Simulations that wait for an account's next write request: "a contact unsubscribed
while the export ran". The export read the audience, someone changed it, and the export's
next write meets the changed contact; run from the gateway just before that write is
processed.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.models import Audience
from mcbridge_sandbox.simulate import simulation

if TYPE_CHECKING:
    from mcbridge_sandbox.runtime import SandboxRuntime

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PENDING, RUNNING, DONE = "pending", "running", "done"


@dataclass
class ScheduledSimulation:
    """`outcome`: pending, running, done, or why the simulation was refused when it ran."""

    id: int
    audience: Audience
    action: str
    body: dict[str, Any]
    outcome: str = PENDING

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "audience_id": self.audience.id,
            "action": self.action,
            "body": self.body,
            "outcome": self.outcome,
        }


class ScheduledSimulations:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[ScheduledSimulation] = []
        self._ids = itertools.count(1)

    def add(self, audience: Audience, action: str, body: Mapping[str, Any]) -> ScheduledSimulation:
        simulation(action)
        with self._lock:
            item = ScheduledSimulation(next(self._ids), audience, action, dict(body))
            self._items.append(item)
        return item

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [item.as_dict() for item in self._items]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def run_before_write(self, runtime: SandboxRuntime, account_id: int, method: str) -> None:
        """Run, in the order they were scheduled, those waiting for this account's next
        write; a refusal (an unknown address, say) is kept as the outcome."""
        if method not in WRITE_METHODS:
            return
        for item in self._take(account_id):
            try:
                simulation(item.action)(runtime, item.audience, item.body)
            except problems.ApiError as problem:
                item.outcome = str(problem)
            else:
                item.outcome = DONE

    def _take(self, account_id: int) -> list[ScheduledSimulation]:
        with self._lock:
            due = [
                item
                for item in self._items
                if item.outcome == PENDING and item.audience.account_id == account_id
            ]
            for item in due:
                item.outcome = RUNNING
        return due
