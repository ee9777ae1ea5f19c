"""mailchimp3 with what production needs: one session, timeouts, retries, the connection cap.

mailchimp3 sends each call with a bare `requests.request` (no pooling, no timeout, no retry)
and logs payloads; `_make_request` is its single seam, so replacing it gives every entity
method (`client.lists.members.all`, `client.lists.update_members`, …) the same behaviour.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from mailchimp3 import MailChimp
from requests.adapters import HTTPAdapter

from mcbridge.mailchimp.errors import MailchimpError, UnavailableError, from_response
from mcbridge.mailchimp.keys import datacenter
from mcbridge.mailchimp.slots import ConnectionSlots

DROPPED = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring Retry-After, bounded in tries and time."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    budget: float = 300.0

    def delay(self, attempt: int, retry_after: str | None, elapsed: float) -> float | None:
        """Seconds to wait before try number `attempt + 1`, or None to give up."""
        if attempt + 1 >= self.attempts:
            return None
        wait = random.uniform(0, min(self.cap, self.base * 2**attempt))
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, min(float(retry_after), self.cap * 4))
        if elapsed + wait > self.budget:
            return None
        return wait


@dataclass
class CallCounter:
    """Requests by kind, for run records and benchmarks (write calls are the expensive ones)."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str) -> None:
        with self.lock:
            self.counts["write" if method in WRITE_METHODS else "read"] += 1
            self.counts[method] += 1

    @property
    def reads(self) -> int:
        return self.counts["read"]

    @property
    def writes(self) -> int:
        return self.counts["write"]


class Client(MailChimp):
    """A mailchimp3 client bound to one API key, safe to share between threads."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        slots: ConnectionSlots,
        retry: RetryPolicy,
        timeout: tuple[float, float] = (10.0, 120.0),
    ) -> None:
        super().__init__(mc_api=api_key, timeout=timeout)
        if base_url:
            self.base_url = base_url.format(dc=datacenter(api_key)).rstrip("/") + "/"
        self.slots = slots
        self.retry = retry
        self.calls = CallCounter()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=slots.capacity)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._local = threading.local()

    def _make_request(self, **kwargs: Any) -> requests.Response:
        method = kwargs["method"]
        started = time.monotonic()
        attempt = 0
        while True:
            response, failure = self._send(kwargs)
            if not (failure is not None or is_passing(response)):
                return self._accept(method, response)
            if getattr(self._local, "single_attempt", False):
                raise self._give_up(response, failure)
            retry_after = response.headers.get("Retry-After") if response is not None else None
            wait = self.retry.delay(attempt, retry_after, time.monotonic() - started)
            if wait is None:
                raise self._give_up(response, failure)
            time.sleep(wait)
            attempt += 1

    @contextmanager
    def single_attempt(self) -> Iterator[None]:
        """Calls in this block are never sent twice: for a write that is not idempotent
        (a POST /batches) a dropped answer may hide work Mailchimp did; the caller looks
        for it before sending again."""
        self._local.single_attempt = True
        try:
            yield
        finally:
            self._local.single_attempt = False

    def _send(self, kwargs: dict[str, Any]) -> tuple[Any, Exception | None]:
        self.calls.record(kwargs["method"])
        try:
            with self.slots.slot():
                return self.session.request(**kwargs), None
        except DROPPED as error:
            return None, error

    def _accept(self, method: str, response: requests.Response) -> requests.Response:
        """Check a final answer; errors become mcbridge's exceptions here, once.

        The body is decoded here, once: mailchimp3 decodes it again otherwise, and large
        answers (a batch subscribe's members) make JSON decoding the export's main cost.
        An answer that is not JSON becomes a MailchimpError instead of a crash.
        """
        self._remember_server_time(response)
        body = json_or_none(response)
        if response.status_code >= 400:
            raise from_response(response.status_code, body)
        if response.status_code != 204 and response.content and body is None:
            raise MailchimpError(
                response.status_code,
                "Invalid answer",
                f"the answer to a {method} was not JSON",
            )
        response.json = lambda **_options: body  # type: ignore[method-assign]
        return response

    @staticmethod
    def _give_up(response: Any, failure: Exception | None) -> MailchimpError:
        if response is None:
            return UnavailableError(None, "Connection failed", type(failure).__name__)
        error = from_response(response.status_code, json_or_none(response))
        return (
            error
            if isinstance(error, UnavailableError)
            else UnavailableError(response.status_code, error.title, error.detail)
        )

    def _remember_server_time(self, response: requests.Response) -> None:
        at = server_date(response.headers.get("Date"))
        if at is not None:
            self._local.server_time = at

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """A POST without the entity classes' own checks (see register_webhook)."""
        return self._post(url=path, data=body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self._patch(url=path, data=body)

    def server_time(self) -> datetime | None:
        """Mailchimp's clock at this thread's last answer (to read changes since then)."""
        return getattr(self._local, "server_time", None)

    def close(self) -> None:
        self.session.close()


def server_date(header: str | None) -> datetime | None:
    """Mailchimp's clock from a Date header, or None for one that is not a time with its
    zone (missing, malformed, two joined into one): a read since that time would then miss
    or repeat hours, so the export keeps its own clock instead (with its margin)."""
    try:
        at = parsedate_to_datetime(header or "")
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else None


def is_passing(response: requests.Response) -> bool:
    """An answer worth trying again: whatever `from_response` calls unavailable (429, 5xx,
    a 403 without a body), so retrying and reporting follow one rule."""
    if response.status_code < 400:
        return False
    error = from_response(response.status_code, json_or_none(response))
    return isinstance(error, UnavailableError)


def json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
