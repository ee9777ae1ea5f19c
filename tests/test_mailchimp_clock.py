"""Mailchimp's clock, read from its answers' Date header: exports read what changed since
it, so a header that is not a time with its zone must not be taken for it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mcbridge.mailchimp.client import server_date


def test_mailchimps_date_is_its_clock() -> None:
    assert server_date("Tue, 01 Dec 2026 15:49:26 GMT") == datetime(
        2026, 12, 1, 15, 49, 26, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "yesterday",
        # Two Date headers, joined by the HTTP client: parsed, it is a time without its zone.
        "Tue, 01 Dec 2026 15:49:26 GMT, Tue, 01 Dec 2026 15:49:27 GMT",
    ],
)
def test_a_date_that_is_not_a_time_with_its_zone_is_not_taken(header: str | None) -> None:
    assert server_date(header) is None
