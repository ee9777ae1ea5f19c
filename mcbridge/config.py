"""Settings: embedded defaults, then the environment, then the mapping given to the factory.

Every setting has a default that works on a fresh machine, so `make run` needs no
configuration; production sets the environment variables listed in the README.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from mcbridge.encryption import write_private
from mcbridge.mail import check_mail_url

LANGUAGES = ("en", "fr", "de")

# Settings without a default, read from the environment too.
SECRETS_AND_URLS = (
    "SECRET_KEY",
    "MCBRIDGE_ENCRYPTION_KEYS",
    "MCBRIDGE_PUBLIC_URL",
    "PASSWORD_HASH_METHOD",
)


def defaults(instance_path: str) -> dict[str, Any]:
    """Settings that make a fresh checkout run: SQLite and the secret in the instance folder."""
    return {
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'mcbridge.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "MAILCHIMP_API_BASE_URL": "",
        "MCBRIDGE_TIMEZONE": "UTC",
        "MCBRIDGE_JOB_TIMEOUT": 4 * 3600,
        "MCBRIDGE_LOCK_SECONDS": 120,
        "MCBRIDGE_DAILY_SYNC_AT": "02:00",
        "MCBRIDGE_SCHEDULE_TICK": 300,
        "MAILCHIMP_MAX_CONNECTIONS": 10,
        "MAILCHIMP_TIMEOUT": 120,
        "MAILCHIMP_PAGE_SIZE": 1000,
        "MAILCHIMP_RETRY_ATTEMPTS": 8,
        "MAILCHIMP_RETRY_BASE": 0.5,
        "MAILCHIMP_RETRY_BUDGET": 300,
        "MAILCHIMP_BATCH_ARCHIVE_THRESHOLD": 200,
        "MAILCHIMP_BATCH_POLL": 5.0,
        "MAILCHIMP_BATCH_TIMEOUT": 1800,
        "MCBRIDGE_SIGN_IN_ACCOUNT_LIMITS": "10 per 15 minutes; 30 per day",
        "MCBRIDGE_SIGN_IN_ADDRESS_LIMITS": "30 per 15 minutes; 100 per day",
        "MCBRIDGE_PROXY_HOPS": 0,
        "MAIL_URL": "",
        "MAIL_FROM": "mcbridge <mcbridge@localhost>",
        "MCBRIDGE_INVITATION_HOURS": 7 * 24,
        "MCBRIDGE_RESET_HOURS": 2,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Zurich",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def database_uri(url: str) -> str:
    """SQLAlchemy URL for a DATABASE_URL, defaulting PostgreSQL URLs to the psycopg 3 driver.

    Hosting platforms hand out `postgres://` and `postgresql://` URLs; SQLAlchemy would pick
    psycopg2, which mcbridge does not install.
    """
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def instance_secret(instance_path: str) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts on a demo.

    Production sets SECRET_KEY; a secret hard-coded in the source would be public.
    """
    path = Path(instance_path) / "secret_key"
    write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def from_environment(key: str, default: Any) -> Any:
    """An environment variable, converted to the type of the setting's default."""
    value = os.environ[key]
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int | float):
        return type(default)(value)
    return value


def installation_queue(database_url: str) -> str:
    """The queue (and Redis key prefix) of one installation: named after its database, so
    two installations sharing a Redis never run each other's jobs, while the web app,
    workers and scheduler of one installation agree without configuration."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:8]
    return f"mcbridge-{digest}"


def check_api_base_url(url: str) -> None:
    """Fail at start-up, not in the middle of an export, on a URL mcbridge cannot use."""
    try:
        url.format(dc="us1")
    except (KeyError, IndexError, ValueError):
        raise ValueError(
            f"MAILCHIMP_API_BASE_URL {url!r}: the only placeholder allowed is {{dc}}"
        ) from None
    if url and not url.startswith(("http://", "https://")):
        raise ValueError(f"MAILCHIMP_API_BASE_URL {url!r} must start with http:// or https://")


def configure(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Apply defaults, environment and overrides, without clobbering a host app's settings.

    Every setting named in `defaults` (and the secrets) can come from the environment, so
    the web app, the workers and the scheduler of one installation share one configuration.
    """
    embedded = defaults(app.instance_path)
    for key, value in embedded.items():
        app.config.setdefault(key, value)
    scalars = [key for key, value in embedded.items() if isinstance(value, str | int | float)]
    for key in (*scalars, *SECRETS_AND_URLS, "MCBRIDGE_QUEUE"):
        if key in os.environ:
            app.config[key] = from_environment(key, embedded.get(key, ""))
    app.config.update(overrides or {})
    check_api_base_url(app.config["MAILCHIMP_API_BASE_URL"])
    check_mail_url(app.config["MAIL_URL"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", database_uri(app.config["DATABASE_URL"]))
    app.config.setdefault("MCBRIDGE_QUEUE", installation_queue(app.config["DATABASE_URL"]))
