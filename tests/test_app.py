"""The standalone application: where its settings come from, and what a user sees on errors."""

from __future__ import annotations

import pytest

from mcbridge import create_app
from mcbridge.extensions import db
from tests.conftest import base_config
from tests.helpers import RequestPerContextClient


def test_settings_come_from_defaults_then_the_environment_then_the_mapping(
    monkeypatch, migrated_database, sandbox_server
):
    monkeypatch.setenv("MAILCHIMP_PAGE_SIZE", "250")
    monkeypatch.setenv("MCBRIDGE_DAILY_SYNC_AT", "03:30")
    config = {**base_config(migrated_database, sandbox_server), "MCBRIDGE_DAILY_SYNC_AT": "04:15"}

    app = create_app(config)

    assert app.config["MAILCHIMP_TIMEOUT"] == 120
    assert app.config["MAILCHIMP_PAGE_SIZE"] == 250
    assert app.config["MCBRIDGE_DAILY_SYNC_AT"] == "04:15"


@pytest.fixture
def failing_app(migrated_database, sandbox_server):
    app = create_app(base_config(migrated_database, sandbox_server))
    app.test_client_class = RequestPerContextClient

    @app.route("/broken")
    def broken() -> str:
        raise RuntimeError("secret internals")

    with app.app_context():
        yield app
        db.session.remove()


def test_an_unknown_page_and_a_crash_are_plain_pages_without_internals(failing_app):
    client = failing_app.test_client()

    missing = client.get("/admin/no-such-page/")
    crashed = client.get("/broken")

    assert missing.status_code == 404
    assert "This page does not exist, or you may not see it." in missing.get_data(as_text=True)
    assert crashed.status_code == 500
    page = crashed.get_data(as_text=True)
    assert "Something went wrong on our side." in page
    assert "secret internals" not in page
    assert "Traceback" not in page
