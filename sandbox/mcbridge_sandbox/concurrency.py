"""Mailchimp's cap of 10 simultaneous connections per API key."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from mcbridge_sandbox import problems

MAX_IN_FLIGHT = 10


class InFlightLimiter:
    def __init__(self, limit: int = MAX_IN_FLIGHT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._in_flight: Counter[int] = Counter()

    @contextmanager
    def slot(self, account_id: int) -> Iterator[None]:
        """Hold one of the account's slots for the whole request, or refuse with a 429."""
        with self._lock:
            if self._in_flight[account_id] >= self.limit:
                raise problems.too_many_requests(
                    f"You have exceeded the limit of {self.limit} simultaneous connections."
                )
            self._in_flight[account_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[account_id] -= 1
