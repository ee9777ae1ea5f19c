"""`flask mcbridge db …`: mcbridge's migrations for a host without Flask-Migrate.

They run mcbridge's own Alembic environment, which keeps mcbridge's version in its own
table (`<prefix>alembic_version`) next to whatever the host keeps in its database.
"""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config
from flask.cli import AppGroup

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


@schema_cli.command("upgrade")
@click.argument("revision", default="heads")
def upgrade_command(revision: str) -> None:
    """Create or upgrade mcbridge's tables."""
    upgrade(revision)


@schema_cli.command("current")
def current_command() -> None:
    """Show the revision of mcbridge's tables."""
    command.current(alembic_config())
