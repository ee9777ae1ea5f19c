"""Fixtures shared by the whole suite, after Flask's tutorial: `app`, `client`, `runner`.

The database is real: SQLite by default, PostgreSQL when TEST_DATABASE_URL is set. Its
schema comes from the Alembic migrations (run once per session), so the tests also prove
the migrations; each test then starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from mcbridge_sandbox import SandboxControl, SandboxServer
from sqlalchemy import create_engine, make_url, text

from mcbridge import create_app
from mcbridge.config import database_uri
from mcbridge.extensions import db
from tests.helpers import TEST_REDIS_URL, RequestPerContextClient, empty_tables
from tests.mail_catcher import MailCatcher

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One Mailchimp sandbox for the session, on a free port; tests use fresh accounts."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxControl]:
    control = SandboxControl(sandbox_server.url)
    yield control
    control.clear_faults()
    control.resume_batches()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('database') / 'mcbridge-test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_database(database_url: str, sandbox_server: SandboxServer) -> str:
    """The test database, emptied and brought to the latest migration once per session."""
    app = create_app(base_config(database_url, sandbox_server))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind, apart from the session's: a file on SQLite, a
    schema of its own on PostgreSQL (dropped afterwards)."""
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    schema = f"fresh_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_uri(TEST_DATABASE_URL or ""))
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(database_uri(TEST_DATABASE_URL or ""))
    yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def base_config(database_url: str, sandbox_server: SandboxServer) -> dict[str, object]:
    """Real services, tuned for speed: cheap password hashing, short retry waits."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": "test-secret-key",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "MAILCHIMP_API_BASE_URL": sandbox_server.api_base_url,
        "MAILCHIMP_RETRY_BASE": 0.01,
        "MAILCHIMP_RETRY_BUDGET": 30,
        "MAILCHIMP_BATCH_POLL": 0.05,
        "MCBRIDGE_LOCK_SECONDS": 2,
        "MCBRIDGE_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
    }


@pytest.fixture
def app(migrated_database: str, sandbox_server: SandboxServer) -> Iterator[Flask]:
    app = create_app(base_config(migrated_database, sandbox_server))
    app.test_client_class = RequestPerContextClient
    app.extensions["mcbridge"].redis.flushdb()
    with app.app_context():
        yield app
        empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def mail_catcher() -> Iterator[MailCatcher]:
    with MailCatcher() as catcher:
        yield catcher


@pytest.fixture
def mailbox(app: Flask, mail_catcher: MailCatcher) -> MailCatcher:
    """The app sends its mail to the catcher, whose inbox starts empty."""
    app.config["MAIL_URL"] = mail_catcher.url
    mail_catcher.mails.clear()
    return mail_catcher
