"""Webhook validation and delivery, as Mailchimp does them: a GET to check the URL, then
form-encoded POSTs sent from a background thread, one event at a time, in order.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from mcbridge.sandbox.clock import Clock, webhook_time
from mcbridge.sandbox.events import MemberEvent
from mcbridge.sandbox.models import Audience, Member, Webhook
from mcbridge.sandbox.store import Store

log = logging.getLogger(__name__)

VALIDATOR_AGENT = "MailChimp.com WebHook Validator"
DELIVERY_AGENT = "MailChimp.com"
TIMEOUT_SECONDS = 5.0
KEEP_DELIVERIES = 1000

Form = list[tuple[str, str]]


@dataclass
class Delivery:
    webhook_id: str
    url: str
    type: str
    form: Form
    status: int | None = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "webhook_id": self.webhook_id,
            "url": self.url,
            "type": self.type,
            "data": dict(self.form),
            "status": self.status,
            "error": self.error,
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
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._done: deque[Delivery] = deque(maxlen=KEEP_DELIVERIES)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=TIMEOUT_SECONDS + 1)
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
        while (delivery := self._queue.get()) is not None:
            self._deliver(delivery)
            self._done.append(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        try:
            response = requests.post(
                delivery.url,
                data=delivery.form,
                headers={"User-Agent": DELIVERY_AGENT},
                timeout=TIMEOUT_SECONDS,
            )
            delivery.status = response.status_code
        except requests.RequestException as error:
            delivery.error = type(error).__name__
            log.info("webhook %s delivery failed: %s", delivery.webhook_id, delivery.error)


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
