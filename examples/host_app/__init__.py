"""An example host application: a rowing club's own Flask app, with its own database,
tables, users, sign-in, admin and migrations, that mounts mcbridge into all of these.

Configured from the environment: `DATABASE_URL` and `SECRET_KEY` (both required); mcbridge
reads its own settings (`REDIS_URL`, `MAILCHIMP_API_BASE_URL`, …) from there too.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate

from mcbridge import MCBridge

from .accounts import HostIdentity, accounts, create_user, login_manager
from .admin import create_admin
from .models import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

migrate = Migrate()


def setting(name: str) -> str:
    """A required setting from the environment; without it the app does not start, and says
    which one is missing."""
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"Set {name} in the environment (see host_app/__init__.py).")
    return value


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = setting("SECRET_KEY")
    app.config["SQLALCHEMY_DATABASE_URI"] = setting("DATABASE_URL")
    db.init_app(app)
    # Before mcbridge, which adds its own migrations to the host's (`flask db upgrade heads`).
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    login_manager.init_app(app)
    app.register_blueprint(accounts)
    app.cli.add_command(create_user)
    admin = create_admin()
    admin.init_app(app)
    MCBridge(db=db, identity=HostIdentity()).init_app(app, admin)
    return app
