"""`flask mcbridge db …`: mcbridge's migrations for a host without Flask-Migrate.

They run mcbridge's own Alembic environment, which keeps mcbridge's version in its own
table (`<prefix>alembic_version`) next to whatever the host keeps in its database.
"""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext

from mcbridge.resources import MIGRATIONS

schema_cli = AppGroup("db", help="mcbridge's database schema (for hosts without Flask-Migrate).")


def alembic_config() -> Config:
    """mcbridge's Alembic configuration, wherever mcbridge is installed."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(revision: str = "heads") -> None:
    """Bring mcbridge's tables to `revision` (the latest by default)."""
    command.upgrade(alembic_config(), revision)


def refuse_under_host_migrations() -> None:
    """A host with Flask-Migrate keeps mcbridge's version in its own version table: run
    apart, mcbridge's environment would not find it and create the tables a second time.
    With a bind of its own, mcbridge's schema is not the host's to migrate: allowed."""
    migrate = current_app.extensions.get("migrate")
    hosted = migrate is not None and Path(migrate.directory).resolve() != MIGRATIONS.resolve()
    if hosted and current_app.extensions["mcbridge"].database.bind_key is None:
        raise click.UsageError(
            gettext("This app migrates with Flask-Migrate: run “flask db upgrade heads”.")
        )


@schema_cli.command("upgrade")
@click.argument("revision", default="heads")
def upgrade_command(revision: str) -> None:
    """Create or upgrade mcbridge's tables."""
    refuse_under_host_migrations()
    upgrade(revision)


@schema_cli.command("current")
def current_command() -> None:
    """Show the revision of mcbridge's tables."""
    command.current(alembic_config())
