"""The files a fresh installation writes hold secrets and personal data: its owner's alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from mcbridge import MCBridge
from mcbridge.encryption import add_instance_key, configured_keys
from mcbridge.extensions import db
from tests.helpers import TEST_REDIS_URL


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Files are created as most systems do by default: readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def fresh_installation(tmp_path: Path, usual_umask: None) -> Iterator[Flask]:
    """An app as on a first start: SQLite, secret key and encryption keys in its instance
    folder, nothing configured."""
    instance = tmp_path / "instance"
    app = Flask("fresh", instance_path=str(instance))
    MCBridge().init_app(
        app,
        DATABASE_URL=f"sqlite:///{instance / 'mcbridge.sqlite3'}",
        REDIS_URL=TEST_REDIS_URL,
        SECRET_KEY="",
        MCBRIDGE_ENCRYPTION_KEYS="",
    )
    with app.app_context():
        yield app
        db.engine.dispose()


def test_the_database_and_the_secrets_are_created_for_their_owner_alone(fresh_installation):
    instance = Path(fresh_installation.instance_path)

    upgrade()
    configured_keys()

    created = sorted(path.name for path in instance.iterdir())
    assert {"mcbridge.sqlite3", "secret_key", "encryption_keys"} <= set(created)
    assert {name: oct(mode(instance / name)) for name in created} == {
        name: oct(0o600) for name in created
    }
    assert mode(instance) == 0o700


def test_a_new_encryption_key_leaves_the_keys_file_private(fresh_installation):
    keys_file = Path(fresh_installation.instance_path) / "encryption_keys"
    old_keys = configured_keys()
    keys_file.chmod(0o644)  # as an older version left it

    add_instance_key()

    assert mode(keys_file) == 0o600
    assert configured_keys()[1:] == old_keys


def test_an_existing_secret_key_is_kept(fresh_installation, tmp_path):
    secret = Path(fresh_installation.instance_path) / "secret_key"
    kept = secret.read_text()

    again = Flask("again", instance_path=fresh_installation.instance_path)
    MCBridge().init_app(again, DATABASE_URL="sqlite://", REDIS_URL=TEST_REDIS_URL, SECRET_KEY="")

    assert again.config["SECRET_KEY"] == kept == fresh_installation.config["SECRET_KEY"]
