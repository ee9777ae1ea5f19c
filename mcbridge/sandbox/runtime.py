"""Everything one running sandbox shares: store, clock, limiter and background workers."""

from __future__ import annotations

from mcbridge.sandbox.batches import BatchProcessor
from mcbridge.sandbox.clock import Clock
from mcbridge.sandbox.concurrency import InFlightLimiter
from mcbridge.sandbox.store import Store
from mcbridge.sandbox.webhooks import WebhookDispatcher


class SandboxRuntime:
    def __init__(self, data: str = ":memory:", public_url: str = "") -> None:
        self.store = Store(data)
        self.clock = Clock()
        self.limiter = InFlightLimiter()
        self.webhooks = WebhookDispatcher(self.store, self.clock)
        self.batches = BatchProcessor(self)
        self.public_url = public_url

    def start(self) -> None:
        self.webhooks.start()
        self.batches.start()

    def stop(self) -> None:
        self.batches.stop()
        self.webhooks.stop()
        self.store.close()
