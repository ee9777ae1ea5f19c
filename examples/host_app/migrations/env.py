"""Alembic environment of the host: Flask-Migrate's, for the app running `flask db …`."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate = current_app.extensions["migrate"]
config.set_main_option(
    "sqlalchemy.url",
    migrate.db.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)


def run_migrations_online() -> None:
    with migrate.db.engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=migrate.db.metadata, **migrate.configure_args
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
