"""The Flask plugin: one `init_app` registers mcbridge into a host app.

Host interface
--------------
A host application passes what it already has::

    db = SQLAlchemy(app)                      # the host's Flask-SQLAlchemy
    migrate = Migrate(app, db)                # optional: the host's Flask-Migrate
    admin = Admin(app)                        # the host's Flask-Admin
    login_manager.init_app(app)               # the host's Flask-Login
    MCBridge(db=db, identity=HostIdentity()).init_app(app, admin)

- `db`: mcbridge's tables join the host's database, on its default engine, or on the
  engine of the bind named by the setting MCBRIDGE_BIND_KEY (one of SQLALCHEMY_BINDS).
  Without `db`, mcbridge makes its own instance from DATABASE_URL. The bind key is kept on
  the metadata of mcbridge's models, which is one per process (Flask-SQLAlchemy routes the
  models by it): every app of one process must use the same MCBRIDGE_BIND_KEY.
- Table names: every table (and index and constraint) of mcbridge starts with the
  environment variable MCBRIDGE_TABLE_PREFIX, read when mcbridge's models are first
  imported (default `mcbridge_`), so a host's own `users`, `groups` or `people` stay its
  own. Set it in the environment of every process, never only in the app's config.
- `identity`: an object with four methods (see `mcbridge.auth.Identity`), asked during
  each request: `is_signed_in()`, `is_admin()` (sees and changes everything in mcbridge),
  `person_id()` (the id of the user's row in mcbridge's people table: the user leads
  the groups where that person holds a managing role) and `label()` (how records of who
  gave consent or started an export name the user). Strangers are sent to the host's
  login view. Without `identity`, mcbridge signs users in itself, with its own accounts
  and sign-in page; a host with its own Flask-Login must pass one.
- `admin`: mcbridge's views join the host's admin under an "mcbridge" menu, at
  /admin/mcbridge/…; without one, mcbridge creates its own admin.
- Migrations: mcbridge's schema is the Alembic branch `mcbridge`. A host using
  Flask-Migrate (initialised before mcbridge) gets mcbridge's versions directory added to
  its own, and runs `flask db upgrade heads` (both branches) or `flask db upgrade
  mcbridge@head`; its `flask db migrate` leaves mcbridge's tables out (with two heads it
  needs `--head <its branch>@head`). A host without Flask-Migrate runs `flask mcbridge db
  upgrade`, which keeps mcbridge's version in its own table, `<prefix>alembic_version`.
  With MCBRIDGE_BIND_KEY, mcbridge's versions stay out of the host's Flask-Migrate and
  `flask mcbridge db upgrade` migrates the bind.
- CSRF: mcbridge's own views refuse a POST without the CSRF token; the host's views keep
  the host's choice. A host's CSRFProtect (initialised before mcbridge) exempts mcbridge's
  webhook.
- SQLite: on mcbridge's own engine (its instance or its bind) mcbridge switches foreign
  keys, WAL and a busy timeout on and creates the file 0600; a host's engine it shares
  keeps the host's settings, and mcbridge needs foreign keys on there.
"""

from __future__ import annotations

import os
from typing import Any

from alembic.config import Config
from flask import Blueprint, Flask, request
from flask_admin import Admin
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import generate_csrf
from redis import Redis

from mcbridge.admin import create_admin, register_views
from mcbridge.auth import Identity, OwnAccounts, init_login
from mcbridge.cli import mcbridge_cli
from mcbridge.config import configure
from mcbridge.extensions import Database, csrf, prepare_engine
from mcbridge.i18n import init_i18n
from mcbridge.jobs import QueueState, init_queue
from mcbridge.models.base import TABLE_PREFIX, Base, table_name
from mcbridge.models.unmodelled import is_unmodelled
from mcbridge.resources import MIGRATIONS, STATIC, TEMPLATES
from mcbridge.schema import schema_cli
from mcbridge.security import init_security
from mcbridge.webhooks import blueprint as webhooks
from mcbridge.webhooks.receive import receive as webhook_view

blueprint = Blueprint(
    "mcbridge",
    __name__,
    template_folder=str(TEMPLATES),
    static_folder=str(STATIC),
    static_url_path="/mcbridge-static",
)
mcbridge_cli.add_command(schema_cli)


class MCBridge:
    """mcbridge as an extension, following Flask's `init_app` pattern (see the module's
    docstring for what a host passes)."""

    def __init__(
        self,
        app: Flask | None = None,
        admin: Admin | None = None,
        *,
        db: SQLAlchemy | None = None,
        identity: Identity | None = None,
    ) -> None:
        self.host_db = db
        self.host_identity = identity
        self.database: Database | None = None
        self.identity: Identity | None = None
        self.admin: Admin | None = None
        self.queue_state: QueueState | None = None
        if app is not None:
            self.init_app(app, admin)

    def init_app(self, app: Flask, admin: Admin | None = None, **config: Any) -> Admin:
        configure(app, config)
        check_table_prefix(app)
        app.extensions["mcbridge"] = self
        self.database = init_database(app, self.host_db)
        init_migrations(app, self.database, own_database=self.host_db is None)
        self.identity = init_login(app, self.host_identity)
        init_i18n(app)
        app.register_blueprint(blueprint)
        app.register_blueprint(webhooks)
        app.cli.add_command(mcbridge_cli)
        own_accounts = isinstance(self.identity, OwnAccounts)
        if admin is None:
            admin = create_admin(app)
            register_views(admin, self.database, own_accounts=own_accounts)
            init_csrf(app, own_endpoints={admin.endpoint})
        else:
            register_views(admin, self.database, "mcbridge/", own_accounts=own_accounts)
            init_csrf(app, own_endpoints=set())
        init_security(app, admin)
        self.queue_state = init_queue(app)
        self.admin = admin
        return admin

    @property
    def redis(self) -> Redis:
        assert self.queue_state is not None
        return self.queue_state.redis


def check_table_prefix(app: Flask) -> None:
    """The table prefix is fixed when the models are imported; an app configured with
    another one would read and write tables that are not there."""
    configured = app.config.get("MCBRIDGE_TABLE_PREFIX", TABLE_PREFIX)
    if configured != TABLE_PREFIX:
        raise ValueError(
            f"MCBRIDGE_TABLE_PREFIX is {configured!r} in the app's settings but "
            f"{TABLE_PREFIX!r} for mcbridge's models: set it in the environment, "
            "before mcbridge is imported, for every process of the installation."
        )


def init_csrf(app: Flask, *, own_endpoints: set[str]) -> None:
    """mcbridge's forms and buttons refuse a POST without the session's CSRF token; the host's
    own views keep whatever the host decided (a JSON API of the host's is never switched to
    CSRF checks by mounting mcbridge). Mailchimp's webhook deliveries carry no token: they are
    exempt on the host's CSRFProtect, if it has one (initialise it before mcbridge).

    `own_endpoints`: blueprints of mcbridge's besides the `mcbridge…` ones (the admin's home,
    when mcbridge made the admin)."""
    for name, value in CSRF_DEFAULTS.items():
        app.config.setdefault(name, value)
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)
    host_csrf = app.extensions.get("csrf")
    if host_csrf is not None:
        host_csrf.exempt(webhook_view)

    def protect_mcbridge_views() -> None:
        blueprint_name = request.blueprint or ""
        ours = blueprint_name.startswith("mcbridge") or blueprint_name in own_endpoints
        if ours and blueprint_name != webhooks.name and app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()

    app.before_request(protect_mcbridge_views)


# What Flask-WTF's CSRFProtect.init_app would set: its check and mcbridge's FlaskForms read
# them. setdefault keeps a host's own choices.
CSRF_DEFAULTS: dict[str, Any] = {
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_METHODS": {"POST", "PUT", "PATCH", "DELETE"},
    "WTF_CSRF_FIELD_NAME": "csrf_token",
    "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
    "WTF_CSRF_TIME_LIMIT": 3600,
    "WTF_CSRF_SSL_STRICT": True,
}


def init_database(app: Flask, host_db: SQLAlchemy | None) -> Database:
    """The host's Flask-SQLAlchemy instance, or mcbridge's own on DATABASE_URL; connection
    settings and the after-fork reset go on mcbridge's engine only."""
    if host_db is None and "sqlalchemy" in app.extensions:
        raise ValueError(
            "The host app has its own Flask-SQLAlchemy instance: pass it as MCBridge(db=...)."
        )
    bind_key = app.config.get("MCBRIDGE_BIND_KEY") or None
    sqlalchemy = host_db or SQLAlchemy()
    if host_db is None:
        sqlalchemy.init_app(app)
    Base.metadata.info["bind_key"] = bind_key
    with app.app_context():
        if bind_key not in sqlalchemy.engines:
            raise ValueError(f"MCBRIDGE_BIND_KEY {bind_key!r} names no entry of SQLALCHEMY_BINDS.")
        engine = sqlalchemy.engines[bind_key]
    owned = host_db is None or bind_key is not None
    prepare_engine(engine, owned=owned)
    if not owned and engine.dialect.name == "sqlite":
        app.logger.warning(
            "mcbridge shares the host's SQLite engine and leaves its connection settings "
            "alone: without PRAGMA foreign_keys=ON there, deleting a group or a list leaves "
            "its rows behind. Switch it on, or give mcbridge a bind (MCBRIDGE_BIND_KEY)."
        )
    return Database(sqlalchemy, bind_key)


def init_migrations(app: Flask, database: Database, *, own_database: bool) -> None:
    """The host's Flask-Migrate also finds mcbridge's versions (branch `mcbridge`);
    standalone, `flask db` is mcbridge's own; otherwise `flask mcbridge db upgrade`.

    With a bind (MCBRIDGE_BIND_KEY) the host's `flask db upgrade` would run mcbridge's
    revisions on the host's default engine: mcbridge's versions then stay out of the host's
    and `flask mcbridge db upgrade` migrates the bind's database."""
    if "migrate" in app.extensions:
        if database.bind_key is None:
            app.extensions["migrate"].migrate.configure(with_mcbridge_versions)
        leave_out_of_host_autogenerate(app.extensions["migrate"].configure_args)
    elif own_database:
        Migrate(app, database.sqlalchemy, directory=str(MIGRATIONS), render_as_batch=True)


def leave_out_of_host_autogenerate(configure_args: dict[str, Any]) -> None:
    """The host's `flask db migrate` compares the host's models with the database, where
    mcbridge's tables are no model of the host's: it must not write their removal. The
    host's own `include_name` filter, if any, still decides about everything else."""
    host_filter = configure_args.get("include_name")
    ours = {*Base.metadata.tables, table_name("alembic_version")}

    def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        if (type_ == "table" and name in ours) or is_unmodelled(name, type_):
            return False
        return host_filter(name, type_, parent_names) if host_filter else True

    configure_args["include_name"] = include_name


def with_mcbridge_versions(config: Config) -> Config:
    """Flask-Migrate's configure callback: the host's version locations plus mcbridge's."""
    locations = config.get_version_locations_list() or [
        os.path.join(config.get_main_option("script_location") or "", "versions")
    ]
    ours = str(MIGRATIONS / "versions")
    if ours not in locations:
        locations.append(ours)
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config
