"""Everything one running sandbox shares: store, clock, limiter and background workers."""

from __future__ import annotations

from collections.abc import Sequence

from mcbridge_sandbox.batches import BatchProcessor
from mcbridge_sandbox.clock import Clock
from mcbridge_sandbox.concurrency import InFlightLimiter
from mcbridge_sandbox.scheduled import ScheduledSimulations
from mcbridge_sandbox.store import Store
from mcbridge_sandbox.webhooks import RETRY_DELAYS, WebhookDispatcher


class SandboxRuntime:
    """`webhook_retry_delays`: seconds before each further attempt of a webhook delivery
    that was not answered with a 2xx."""

    def __init__(
        self,
        data: str = ":memory:",
        public_url: str = "",
        *,
        webhook_retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.store = Store(data)
        self.clock = Clock()
        self.limiter = InFlightLimiter()
        self.webhooks = WebhookDispatcher(self.store, self.clock, webhook_retry_delays)
        self.batches = BatchProcessor(self)
        self.scheduled = ScheduledSimulations()
        self.public_url = public_url

    def start(self) -> None:
        self.webhooks.start()
        self.batches.start()

    def stop(self) -> None:
        self.batches.stop()
        self.webhooks.stop()
        self.store.close()
