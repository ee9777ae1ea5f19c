"""What the log says when the database fails: enough to act on, never the data."""

from __future__ import annotations

from mcbridge.app import create_app
from tests.conftest import base_config
from tests.helpers import csrf_token


def test_a_database_error_is_logged_without_the_statements_parameters(
    tmp_path, sandbox_server, caplog
):
    """A database without mcbridge's tables (an empty SQLite file) fails the sign-in's
    query, whose parameters hold the typed address: the log names the error, not the
    address."""
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(base_config(empty, sandbox_server))
    client = app.test_client()
    token = csrf_token(client, "/admin/account/sign-in")

    response = client.post(
        "/admin/account/sign-in",
        data={"email": "anna@club-mail.ch", "password": "whatever", "csrf_token": token},
    )

    assert response.status_code == 503
    assert "OperationalError" in caplog.text
    assert "no such table" in caplog.text
    assert "anna@club-mail.ch" not in caplog.text
