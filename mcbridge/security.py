"""What a public admin needs on top of Flask: sign-in throttling."""

from __future__ import annotations

import hashlib
import math
import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from mcbridge.emails import normalize_email


class SignInThrottle:
    """Failed sign-ins counted per account and per client address, in moving windows kept in
    the installation's Redis (Flask-Limiter's storage and strategy).

    Once either count reaches a limit, every attempt is refused before any password is
    checked, right or wrong, until the window frees a slot. An unknown address is counted
    exactly like a real account, so neither the refusal nor its timing says who has one.
    """

    def __init__(self, limiter: Limiter, account_limits: str, address_limits: str) -> None:
        self.limiter = limiter
        self.account_limits = parse_many(account_limits)
        self.address_limits = parse_many(address_limits)

    def wait_seconds(self, email: str) -> int:
        """Seconds before this account and this address may try again; 0: they may now."""
        blocked = [
            self._reset_at(limit, keys)
            for limit, keys in self._counters(email)
            if not self.limiter.limiter.test(limit, *keys)
        ]
        return max((math.ceil(reset - time.time()) for reset in blocked), default=0)

    def failed(self, email: str) -> None:
        for limit, keys in self._counters(email):
            self.limiter.limiter.hit(limit, *keys)

    def succeeded(self, email: str) -> None:
        """The account's own count starts again; the address's stays, so that one good
        password does not open a new round of guesses at every other account."""
        for limit in self.account_limits:
            self.limiter.limiter.clear(limit, *account_keys(email))

    def _counters(self, email: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            *((limit, account_keys(email)) for limit in self.account_limits),
            *((limit, address_keys()) for limit in self.address_limits),
        ]

    def _reset_at(self, limit: RateLimitItem, keys: tuple[str, ...]) -> float:
        return self.limiter.limiter.get_window_stats(limit, *keys).reset_time


def account_keys(email: str) -> tuple[str, ...]:
    """The account's counter, by a digest: Redis holds no address in clear."""
    digest = hashlib.sha256((normalize_email(email) or "").encode()).hexdigest()
    return ("sign-in", "account", digest)


def address_keys() -> tuple[str, ...]:
    """The client's counter. Behind a proxy this is the proxy's address unless the host
    app trusts its forwarding headers (werkzeug's ProxyFix)."""
    return ("sign-in", "address", get_remote_address() or "unknown")


def init_throttle(app: Flask) -> None:
    """A limiter on the app's Redis, its keys under the installation's prefix (the queue
    name, see jobs.py), so installations sharing a Redis never count each other's attempts."""
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config["REDIS_URL"],
        storage_options={"key_prefix": f"{app.config['MCBRIDGE_QUEUE']}:limits"},
        strategy="moving-window",
    )
    limiter.init_app(app)
    app.extensions["mcbridge_sign_in_throttle"] = SignInThrottle(
        limiter,
        app.config["MCBRIDGE_SIGN_IN_ACCOUNT_LIMITS"],
        app.config["MCBRIDGE_SIGN_IN_ADDRESS_LIMITS"],
    )


def sign_in_throttle() -> SignInThrottle:
    return current_app.extensions["mcbridge_sign_in_throttle"]
