"""Test helpers that are not fixtures: counting SQL, signing in, reading CSRF tokens."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from mcbridge.extensions import db
from mcbridge.models import MailingList
from tests import factories
from tests.factories import PASSWORD


class RequestPerContextClient(FlaskClient):
    """Each request gets its own app context (its own `g` and session), as in production.

    Tests hold an app context for factories and assertions; without this, every request of
    a test would share that context's `g`, where Flask-Babel and mcbridge cache per-request
    state (the language, the user's scope).
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """Every SQL statement the block sends, to prove work is set-based and not per row."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def csrf_token(client: FlaskClient, page: str = "/admin/account/sign-in") -> str:
    """The CSRF token a browser would find in a page's forms."""
    match = TOKEN.search(client.get(page).get_data(as_text=True))
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def sign_in(
    client: FlaskClient,
    email: str,
    password: str = PASSWORD,
    page: str = "/admin/account/sign-in",
) -> None:
    response = client.post(
        page,
        data={"email": email, "password": password, "csrf_token": csrf_token(client, page)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    """POST like a browser: with the token of the page the form is on."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page or url)})


def link_on_page(client: FlaskClient, list_id: int, key: str, audience: str) -> Any:
    """Link a list as its leader does, once an administrator gave its group the audience
    through a connection: the Mailchimp tab, first names sent, consent given."""
    mailing_list = db.session.get(MailingList, list_id)
    granted = factories.audience_of(key, audience, mailing_list.group)
    return post_form(
        client,
        f"/admin/mailchimp/{list_id}/",
        {
            "audience": str(granted.id),
            "send_first_name": "y",
            "save": "1",
            "consent": "y",
        },
    )


def empty_tables() -> None:
    """Delete every row, so the next test starts from the migrated but empty schema."""
    db.session.rollback()
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


class LiveServer:
    """The app served over real HTTP on a free port, for callers outside the test (the
    sandbox delivering webhooks, a browser)."""

    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    """Poll until `condition()` is truthy (things delivered by other threads or processes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


PROCESS_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "MAILCHIMP_API_BASE_URL",
    "MCBRIDGE_ENCRYPTION_KEYS",
)


def process_env(app: Flask) -> dict[str, str]:
    """The environment of a `flask mcbridge …` process configured as the test app."""
    settings = {name: str(app.config[name]) for name in PROCESS_SETTINGS}
    return {**os.environ, "FLASK_APP": "wsgi", **settings}


def worker_processes(app: Flask, count: int = 1, timeout: float = 120) -> str:
    """Run the queued jobs in `count` real `flask mcbridge worker --burst` processes at
    once, configured as the test app through the environment; returns what they printed."""
    env = process_env(app)
    command = [sys.executable, "-m", "flask", "mcbridge", "worker", "--burst"]
    workers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(count)
    ]
    printed = [worker.communicate(timeout=timeout)[0] for worker in workers]
    for worker, output in zip(workers, printed, strict=True):
        assert worker.returncode == 0, output
    return "".join(printed)


def root_group(lookup: str) -> str:
    """The id of the tree's root among a group search's answers ([id, path] pairs), as an
    administrator's group field finds it."""
    return str(next(group_id for group_id, path in json.loads(lookup) if "›" not in path))
