"""What a public admin needs on top of Flask: sign-in throttling, cookie flags and headers.

Throttling always applies to mcbridge's own sign-in. Cookie flags and headers are the
standalone application's: inside a host's admin the layout, its scripts and so the policy
that fits them are the host's, and mcbridge leaves them alone.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from pathlib import Path

import flask_admin
from flask import Flask, current_app, g
from flask_admin import Admin
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PrefixLoader
from limits import RateLimitItem, parse_many
from werkzeug.wrappers import Response

from mcbridge.emails import normalize_email
from mcbridge.resources import TEMPLATES

HSTS_SECONDS = 365 * 24 * 3600
# The standalone admin's layout: it loads the script that stands in for Flask-Admin's inline
# event handlers, which the policy below refuses to run.
MCBRIDGE_LAYOUT = "mcbridge/admin/base.html"
CSP_TEMPLATES = TEMPLATES / "csp"


class SignInThrottle:
    """Failed sign-ins counted per account and per client address, in moving windows kept in
    the installation's Redis (Flask-Limiter's storage and strategy).

    Once either count reaches a limit, every attempt is refused before any password is
    checked, right or wrong, until the window frees a slot. An unknown address is counted
    exactly like a real account, so neither the refusal nor its timing says who has one.
    """

    def __init__(
        self, limiter: Limiter, account_limits: str, address_limits: str, kind: str = "sign-in"
    ) -> None:
        self.limiter = limiter
        self.kind = kind
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
            self.limiter.limiter.clear(limit, *account_keys(self.kind, email))

    def _counters(self, email: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            *((limit, account_keys(self.kind, email)) for limit in self.account_limits),
            *((limit, address_keys(self.kind)) for limit in self.address_limits),
        ]

    def _reset_at(self, limit: RateLimitItem, keys: tuple[str, ...]) -> float:
        return self.limiter.limiter.get_window_stats(limit, *keys).reset_time


def account_keys(kind: str, email: str) -> tuple[str, ...]:
    """The account's counter, by a digest: Redis holds no address in clear."""
    digest = hashlib.sha256((normalize_email(email) or "").encode()).hexdigest()
    return (kind, "account", digest)


def address_keys(kind: str) -> tuple[str, ...]:
    """The client's counter. Behind a proxy this is the proxy's address unless the host
    app trusts its forwarding headers (werkzeug's ProxyFix)."""
    return (kind, "address", get_remote_address() or "unknown")


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
    for kind in ("sign-in", "password-reset"):
        app.extensions[f"mcbridge_{kind}_throttle"] = SignInThrottle(
            limiter,
            app.config["MCBRIDGE_SIGN_IN_ACCOUNT_LIMITS"],
            app.config["MCBRIDGE_SIGN_IN_ADDRESS_LIMITS"],
            kind,
        )


def sign_in_throttle() -> SignInThrottle:
    return current_app.extensions["mcbridge_sign-in_throttle"]


def password_reset_throttle() -> SignInThrottle:
    """Reset mails asked for, counted like failed sign-ins but apart from them: asking for
    links cannot lock an account's sign-in, nor sign-ins use up its resets."""
    return current_app.extensions["mcbridge_password-reset_throttle"]


def csp_nonce() -> str:
    """One random nonce per request: the inline scripts Flask-Admin writes carry it, and no
    script injected into a page can guess it."""
    if "mcbridge_csp_nonce" not in g:
        g.mcbridge_csp_nonce = secrets.token_urlsafe(16)
    return g.mcbridge_csp_nonce


def content_security_policy(nonce: str) -> str:
    """Scripts only from this site or with the request's nonce, never inline handlers;
    no framing, no plugins, forms posting only here. Bootstrap's icons are data: images."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def serves_https(app: Flask) -> bool:
    return str(app.config.get("MCBRIDGE_PUBLIC_URL") or "").startswith("https://")


def secure_cookies(app: Flask) -> None:
    """SameSite=Lax keeps the cookies off cross-site POSTs, a second fence behind CSRF
    tokens; behind https they are never sent over plain http either."""
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    if serves_https(app):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def csp_safe_loader(app: Flask, admin: Admin) -> BaseLoader:
    """Templates first from templates/csp: Flask-Admin's few macros that write inline event
    handlers, rewritten with data attributes that static/inline-handlers.js reads. They
    reach the originals' other macros under `flask_admin/`."""
    upstream = Path(flask_admin.__file__).parent / "templates" / admin.theme.folder
    loaders = [
        FileSystemLoader(CSP_TEMPLATES),
        PrefixLoader({"flask_admin": FileSystemLoader(upstream)}),
    ]
    return ChoiceLoader([*loaders, *([app.jinja_loader] if app.jinja_loader else [])])


def security_headers(https: bool) -> dict[str, str]:
    """Headers for every response; Referrer-Policy keeps the Referer on same-site requests,
    which Flask-WTF's CSRF check demands over https."""
    headers = {
        "Content-Security-Policy": content_security_policy(csp_nonce()),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
    return headers


def init_security(app: Flask, admin: Admin) -> None:
    """Throttle the sign-in; when the admin is mcbridge's own (its layout), also set the
    cookie flags, the headers and the nonce Flask-Admin's templates put on inline scripts."""
    init_throttle(app)
    if getattr(admin.theme, "base_template", None) != MCBRIDGE_LAYOUT:
        return
    secure_cookies(app)
    admin.csp_nonce_generator = csp_nonce
    app.jinja_loader = csp_safe_loader(app, admin)
    https = serves_https(app)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in security_headers(https).items():
            response.headers.setdefault(name, value)
        return response
