"""The Mailchimp adapter: the only part of mcbridge that talks to Mailchimp."""

from __future__ import annotations

from flask import current_app

from mcbridge.mailchimp.client import Client, RetryPolicy
from mcbridge.mailchimp.slots import ConnectionSlots


def connect(api_key: str) -> Client:
    """A client for one key, configured from the app: base URL, connection cap, retries.

    With MAILCHIMP_API_BASE_URL set (the sandbox), every call goes there; `{dc}` in it is
    replaced by the key's data centre, as in Mailchimp's own addresses.
    """
    config = current_app.config
    capacity = int(config["MAILCHIMP_MAX_CONNECTIONS"])
    timeout = (10.0, float(config["MAILCHIMP_TIMEOUT"]))
    return Client(
        api_key.strip(),
        base_url=config["MAILCHIMP_API_BASE_URL"],
        slots=ConnectionSlots(
            current_app.extensions["mcbridge"].redis,
            api_key.strip(),
            capacity=capacity,
            lease_seconds=timeout[1] * 2,
        ),
        retry=RetryPolicy(
            attempts=int(config["MAILCHIMP_RETRY_ATTEMPTS"]),
            base=float(config["MAILCHIMP_RETRY_BASE"]),
            budget=float(config["MAILCHIMP_RETRY_BUDGET"]),
        ),
        timeout=timeout,
    )
