"""The sandbox's notion of "now".

Tests of "only on changes" or `since_last_changed` would need to sleep for whole seconds
(Mailchimp timestamps have second precision); an adjustable clock lets them move time
forward instead.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock UTC time plus an offset that the control API can advance."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return (datetime.now(UTC) + offset).replace(microsecond=0)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def iso_now(self) -> str:
        return iso(self.now())


def iso(moment: datetime) -> str:
    """Mailchimp's timestamp form: ISO 8601, seconds, explicit +00:00 offset."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime:
    """Accept what clients send for `since_last_changed`; naive times are taken as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def webhook_time(moment: datetime) -> str:
    """Webhook `fired_at` is not ISO 8601 but `YYYY-MM-DD HH:MM:SS` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
