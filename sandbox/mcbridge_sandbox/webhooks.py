"""Webhook validation and delivery, as Mailchimp does them: a GET to check the URL, then
form-encoded POSTs sent from a background thread, one event at a time, in order. An answer
that is not a 2xx, or none within Mailchimp's 10 seconds, is tried again later with
growing delays (Mailchimp keeps trying for 75 minutes; the sandbox's delays are short and
set per runtime), while later events go out meanwhile.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from mcbridge_sandbox.clock import Clock, webhook_time
from mcbridge_sandbox.events import MemberEvent
from mcbridge_sandbox.models import Audience, Member, Webhook
from mcbridge_sandbox.store import Store

log = logging.getLogger(__name__)

VALIDATOR_AGENT = "MailChimp.com WebHook Validator"
DELIVERY_AGENT = "MailChimp.com"
TIMEOUT_SECONDS = 10.0
RETRY_DELAYS = (1.0, 4.0, 16.0)
KEEP_DELIVERIES = 1000

Form = list[tuple[str, str]]


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery: the status it was answered with, or the error instead."""

    at: str
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Delivery:
    """One event for one webhook; `status` and `error` are those of its latest attempt, and
    `retrying` says another attempt is due."""

    webhook_id: str
    url: str
    type: str
    form: Form
    attempts: list[Attempt] = field(default_factory=list)
    retrying: bool = False

    def as_dict(self) -> dict[str, Any]:
        attempts = list(self.attempts)
        latest = attempts[-1]
        return {
            "webhook_id": self.webhook_id,
            "url": self.url,
            "type": self.type,
            "data": dict(self.form),
            "status": latest.status,
            "error": latest.error,
            "attempts": [vars(a) for a in attempts],
            "retrying": self.retrying,
        }


def url_answers(url: str) -> bool:
    """Mailchimp refuses to register a URL that does not answer its GET with a 2xx."""
    try:
        response = requests.get(
            url, headers={"User-Agent": VALIDATOR_AGENT}, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException:
        return False
    return 200 <= response.status_code < 300


class WebhookDispatcher:
    """`retry_delays`: seconds before each further attempt of a failed delivery."""

    def __init__(
        self, store: Store, clock: Clock, retry_delays: Sequence[float] = RETRY_DELAYS
    ) -> None:
        self.store = store
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.timeout = TIMEOUT_SECONDS  # tests shorten it to see a timeout quickly
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._retries: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._done: deque[Delivery] = deque(maxlen=KEEP_DELIVERIES)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=self.timeout + 1)
            self._thread = None

    def publish(self, audience: Audience, source: str, events: Iterable[MemberEvent]) -> None:
        """Queue one POST per event and per webhook that wants that event from that source."""
        pending = list(events)
        if not pending:
            return
        hooks = self.store.webhooks.of_audience(audience.pk)
        fired_at = webhook_time(self.clock.now())
        for event in pending:
            for hook in hooks:
                if _wants(hook, event.type, source):
                    form = payload(event, audience.id, fired_at)
                    self._queue.put(Delivery(hook.id, hook.url, event.type, form))

    def deliveries(self) -> list[dict[str, Any]]:
        return [d.as_dict() for d in list(self._done)]

    def clear(self) -> None:
        self._done.clear()

    def _run(self) -> None:
        """New events as they come; a retry whenever the earliest one is due."""
        while True:
            try:
                delivery = self._queue.get(timeout=self._until_next_retry())
            except queue.Empty:
                delivery = heapq.heappop(self._retries)[2]
            if delivery is None:
                return
            self._attempt(delivery)

    def _until_next_retry(self) -> float | None:
        if not self._retries:
            return None
        return max(self._retries[0][0] - time.monotonic(), 0.0)

    def _attempt(self, delivery: Delivery) -> None:
        attempt = self._post(delivery)
        delivery.attempts.append(attempt)
        retries_done = len(delivery.attempts) - 1
        delivery.retrying = not attempt.ok and retries_done < len(self.retry_delays)
        if delivery.retrying:
            due = time.monotonic() + self.retry_delays[retries_done]
            heapq.heappush(self._retries, (due, next(self._order), delivery))
        if not retries_done:
            self._done.append(delivery)

    def _post(self, delivery: Delivery) -> Attempt:
        at = self.clock.iso_now()
        try:
            response = requests.post(
                delivery.url,
                data=delivery.form,
                headers={"User-Agent": DELIVERY_AGENT},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            log.info("webhook %s delivery failed: %s", delivery.webhook_id, error)
            return Attempt(at, None, type(error).__name__)
        return Attempt(at, response.status_code)


def _wants(hook: Webhook, event_type: str, source: str) -> bool:
    return bool(hook.events.get(event_type)) and bool(hook.sources.get(source))


def payload(event: MemberEvent, audience_id: str, fired_at: str) -> Form:
    """The PHP-style nested form fields Mailchimp posts (`data[merges][FNAME]=...`)."""
    form: Form = [("type", event.type), ("fired_at", fired_at)]
    data = _event_data(event, audience_id)
    form.extend(_flatten("data", data))
    return form


def _event_data(event: MemberEvent, audience_id: str) -> dict[str, Any]:
    member = event.member
    if event.type == "upemail":
        return {
            "list_id": audience_id,
            "new_id": event.details["new_id"],
            "new_email": event.details["new_email"],
            "old_email": event.details["old_email"],
        }
    if event.type == "cleaned":
        return {
            "list_id": audience_id,
            "campaign_id": "",
            "reason": event.details.get("reason", "hard"),
            "email": member.email,
        }
    data = _profile_data(member, audience_id)
    if event.type == "unsubscribe":
        data.update(
            action=event.details.get("action", "unsub"),
            reason=event.details.get("reason", "manual"),
            campaign_id="",
        )
    return data


def _profile_data(member: Member, audience_id: str) -> dict[str, Any]:
    return {
        "id": member.hash,
        "email": member.email,
        "email_type": member.email_type,
        "ip_opt": member.ip_opt,
        "ip_signup": member.ip_signup,
        "web_id": str(member.web_id),
        "list_id": audience_id,
        "merges": {"EMAIL": member.email, **member.merge_fields},
    }


def _flatten(prefix: str, value: Any) -> Form:
    if isinstance(value, Mapping):
        return [pair for key, item in value.items() for pair in _flatten(f"{prefix}[{key}]", item)]
    return [(prefix, "" if value is None else str(value))]
