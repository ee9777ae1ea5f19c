"""The session-token migration on a database that already has accounts."""

from __future__ import annotations

from sqlalchemy import text

from mcbridge import create_app
from mcbridge.extensions import db
from tests.conftest import base_config
from tests.test_migrations import upgrade_unprefixed

BEFORE = "3f1c2a9b7d44"
SESSION_TOKENS = "a1b2c3d4e5f6"


def test_each_existing_account_gets_its_own_session_token(tmp_path, sandbox_server):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'before.sqlite3'}", sandbox_server))
    with app.app_context():
        upgrade_unprefixed(BEFORE)
        for email in ("ada@club-mail.ch", "ben@club-mail.ch"):
            db.session.execute(
                text(
                    "INSERT INTO users (email, password_hash, is_admin, active) "
                    "VALUES (:email, 'hash', false, true)"
                ),
                {"email": email},
            )
        db.session.commit()

        upgrade_unprefixed(SESSION_TOKENS)

        tokens = db.session.scalars(text("SELECT session_token FROM users")).all()
        db.engine.dispose()
    assert len(tokens) == 2
    assert len(set(tokens)) == 2
    assert all(len(token) >= 40 for token in tokens)
