"""The Flask plugin: one `init_app` registers mcbridge into a host app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from flask_admin import Admin
from redis import Redis

from mcbridge.admin import create_admin, register_views
from mcbridge.auth import init_login
from mcbridge.cli import mcbridge_cli
from mcbridge.config import configure
from mcbridge.extensions import csrf, db, migrate, start_fresh_after_fork
from mcbridge.i18n import init_i18n
from mcbridge.jobs import QueueState, init_queue
from mcbridge.security import init_security
from mcbridge.webhooks import blueprint as webhooks

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"

blueprint = Blueprint(
    "mcbridge",
    __name__,
    template_folder=str(ROOT / "templates"),
    static_folder=str(ROOT / "static"),
    static_url_path="/mcbridge-static",
)


class MCBridge:
    """mcbridge as an extension, following Flask's `init_app` pattern.

    Given a host's Flask-Admin, mcbridge's views join it under an "mcbridge" menu category;
    without one, mcbridge creates its own admin with its dashboard as home page.
    """

    def __init__(self, app: Flask | None = None, admin: Admin | None = None) -> None:
        self.admin: Admin | None = None
        self.queue_state: QueueState | None = None
        if app is not None:
            self.init_app(app, admin)

    def init_app(self, app: Flask, admin: Admin | None = None, **config: Any) -> Admin:
        configure(app, config)
        db.init_app(app)
        with app.app_context():
            start_fresh_after_fork(db.engines.values())
        migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
        init_login(app)
        init_i18n(app)
        if "csrf" not in app.extensions:
            csrf.init_app(app)
        app.register_blueprint(blueprint)
        app.register_blueprint(webhooks)
        app.cli.add_command(mcbridge_cli)
        if admin is None:
            admin = create_admin(app)
            register_views(admin)
        else:
            register_views(admin, url_prefix="mcbridge/")
        init_security(app, admin)
        self.queue_state = init_queue(app)
        app.extensions["mcbridge"] = self
        self.admin = admin
        return admin

    @property
    def redis(self) -> Redis:
        assert self.queue_state is not None
        return self.queue_state.redis
