"""mcbridge mounted into host applications: one with only a Flask-Admin, and real ones with
their own database (and `users`, `groups`, `people` tables), sign-in and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask, redirect, render_template_string, request
from flask_admin import Admin, BaseView, expose
from flask_login import LoginManager, UserMixin, current_user, login_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, String, create_engine, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.wrappers import Response

from mcbridge import MCBridge
from mcbridge.config import database_uri
from mcbridge.extensions import db
from mcbridge.jobs import execute, ignore_progress, reserve
from mcbridge.models import AudienceMember, Group, MailingList, SyncRun
from mcbridge.models.base import TABLE_PREFIX, Base, table_name
from mcbridge.recipients import recipients_of
from mcbridge.schema import alembic_config
from tests import factories as make
from tests.conftest import base_config
from tests.helpers import (
    LiveServer,
    RequestPerContextClient,
    empty_tables,
    post_form,
    sign_in,
    wait_for,
)


class HostReports(BaseView):
    @expose("/")
    def index(self) -> str:
        return "host reports page"


def test_mcbridge_joins_the_hosts_admin_and_both_work(migrated_database):
    host = Flask("host_app")
    host.config.update(SECRET_KEY="host-secret", TESTING=True)
    host_admin = Admin(host, name="Host admin")
    host_admin.add_view(HostReports(name="Reports", endpoint="reports"))

    MCBridge().init_app(host, host_admin, DATABASE_URL=migrated_database)
    host.test_client_class = RequestPerContextClient
    client = host.test_client()

    with host.app_context():
        make.group("Federation")
        make.user("admin@club-mail.ch", admin=True)
        assert client.get("/admin/reports/").get_data(as_text=True) == "host reports page"
        sign_in(client, "admin@club-mail.ch", page="/admin/mcbridge/account/sign-in")
        groups = client.get("/admin/mcbridge/groups/")
        assert groups.status_code == 200
        assert "Federation" in groups.get_data(as_text=True)
        home = client.get("/admin/").get_data(as_text=True)
        assert "Host admin" in home
        assert "/admin/mcbridge/mailing-lists/" in home
        assert "/admin/reports/" in home
        empty_tables()


class HostBase(DeclarativeBase):
    pass


host_db = SQLAlchemy(model_class=HostBase)
HOST_PASSWORD = "host password"


class HostUser(UserMixin, host_db.Model):
    """The host's own users: staff administer mcbridge; some are a person in mcbridge."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    staff: Mapped[bool] = mapped_column(default=False)
    mcbridge_person_id: Mapped[int | None]


class HostGroup(host_db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))


class HostPerson(host_db.Model):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    nickname: Mapped[str] = mapped_column(String(100))


class HostIdentity:
    """The host's answers to mcbridge, from its own users."""

    def is_signed_in(self) -> bool:
        return current_user.is_authenticated

    def is_admin(self) -> bool:
        return current_user.staff

    def person_id(self) -> int | None:
        return current_user.mcbridge_person_id

    def label(self) -> str:
        return current_user.email


LOGIN_PAGE = """<form method="post">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<input name="email"><input name="password" type="password"></form>"""


def host_app(
    database_url: str,
    sandbox_server,
    migrations: Path | None = None,
    *,
    host_csrf: bool = False,
    **settings: object,
) -> Flask:
    """A host with its own database, sign-in, admin and a JSON API of its own (and
    Flask-Migrate if `migrations`, CSRFProtect if `host_csrf`), into which mcbridge is
    mounted as the README says."""
    host = Flask("host_app")
    host.config.update(SQLALCHEMY_DATABASE_URI=database_uri(database_url), **settings)
    host_db.init_app(host)
    if host_csrf:
        CSRFProtect(host)
    if migrations is not None:
        Migrate(host, host_db, directory=str(migrations))
    login_manager = LoginManager(host)
    login_manager.login_view = "login"
    login_manager.user_loader(lambda user_id: host_db.session.get(HostUser, int(user_id)))

    @host.route("/login", methods=["GET", "POST"])
    def login() -> str | Response:
        if request.method == "GET":
            return render_template_string(LOGIN_PAGE)
        user = host_db.session.scalar(select(HostUser).filter_by(email=request.form["email"]))
        if user is None or request.form["password"] != HOST_PASSWORD:
            return "wrong", 401
        login_user(user)
        return redirect(request.args.get("next") or "/")

    @host.post("/api/notes")
    def api_notes() -> dict[str, object]:
        return {"saved": request.get_json()["text"]}

    admin = Admin(host, name="Host admin")
    MCBridge(db=host_db, identity=HostIdentity()).init_app(
        host, admin, **base_config(database_url, sandbox_server)
    )
    host.test_client_class = RequestPerContextClient
    return host


@pytest.fixture
def host(migrated_database, sandbox_server) -> Iterator[Flask]:
    """The host on the suite's database, next to mcbridge's migrated tables."""
    app = host_app(migrated_database, sandbox_server)
    with app.app_context():
        host_db.create_all()
        yield app
        empty_tables()
        host_db.session.remove()
        host_db.drop_all()


def test_a_host_user_reaches_mcbridge_through_the_hosts_sign_in_with_their_scope(host):
    federation = make.group("Federation")
    club = make.group("Club", federation)
    lea = make.person("Lea")
    make.role(lea, club, make.role_type("Leader", manages=True))
    make.mailing_list(federation, "Federation news")
    make.mailing_list(club, "Club news")
    host_db.session.add_all(
        [
            HostUser(email="boss@host.example", staff=True),
            HostUser(email="lea@host.example", mcbridge_person_id=lea.id),
            HostGroup(title="Host's own group"),
            HostPerson(nickname="Host's own person"),
        ]
    )
    host_db.session.commit()
    client = host.test_client()

    for page in ("/admin/mcbridge/mailing-lists/", "/admin/mcbridge/account/sign-in"):
        stranger = client.get(page)
        assert stranger.status_code == 302
        assert stranger.headers["Location"].startswith("/login")

    sign_in(client, "lea@host.example", HOST_PASSWORD, page="/login")
    lists = client.get("/admin/mcbridge/mailing-lists/").get_data(as_text=True)
    assert "Club news" in lists
    assert "Federation news" not in lists  # she leads the club, not the federation
    assert client.get("/admin/mcbridge/connections/").status_code == 403  # admins only
    assert client.get("/admin/mcbridge/users/").status_code == 404  # the host's users

    sign_in(client, "boss@host.example", HOST_PASSWORD, page="/login")
    lists = client.get("/admin/mcbridge/mailing-lists/").get_data(as_text=True)
    assert "Club news" in lists
    assert "Federation news" in lists
    assert client.get("/admin/mcbridge/connections/").status_code == 200

    assert host_db.session.scalars(select(HostGroup.title)).all() == ["Host's own group"]
    assert db.session.scalars(select(Group.name).order_by(Group.id)).all() == ["Federation", "Club"]
    assert host_db.session.scalars(select(HostPerson.nickname)).all() == ["Host's own person"]


def test_on_the_hosts_engine_a_list_condition_ignores_case_beyond_ascii(host):
    club, member = make.group("Club"), make.role_type("Member")
    school = make.person("School")
    school.company = "ÉCOLE DU SPORT"
    make.role(school, club, member)
    make.role(make.person("Other"), club, member)
    pupils = make.mailing_list(club)
    make.role_rule(pupils, club, member)
    pupils.filter_field, pupils.filter_condition, pupils.filter_value = (
        "company",
        "is",
        "école du sport",
    )
    db.session.commit()

    assert [r.first_name for r in recipients_of(pupils).stream(db.session)] == ["School"]


def test_mounting_mcbridge_leaves_the_hosts_json_api_alone_and_guards_its_own_forms(host):
    club = make.group("Club")
    newsletter = make.mailing_list(club, "Club news")
    host_db.session.add(HostUser(email="boss@host.example", staff=True))
    host_db.session.commit()
    client = host.test_client()

    saved = client.post("/api/notes", json={"text": "AGM on Friday"})
    assert (saved.status_code, saved.get_json()) == (200, {"saved": "AGM on Friday"})

    sign_in(client, "boss@host.example", HOST_PASSWORD, page="/login")
    forged = client.post(f"/admin/mcbridge/exports/{newsletter.id}/start", data={})
    assert forged.status_code == 400
    assert db.session.scalars(select(SyncRun)).all() == []


def test_with_the_hosts_own_csrf_protection_mailchimps_webhook_still_delivers(
    migrated_database, sandbox_server, sandbox
):
    host = host_app(migrated_database, sandbox_server, host_csrf=True)
    with host.app_context(), LiveServer(host) as live:
        host.config["MCBRIDGE_PUBLIC_URL"] = live.url
        host_db.create_all()
        club = make.group("Club")
        member_type = make.role_type("Member")
        anna = make.person("Anna", email="anna@club-mail.ch")
        make.role(anna, club, member_type)
        newsletter = make.mailing_list(club, "Club news")
        make.role_rule(newsletter, club, member_type)
        host_db.session.add(HostUser(email="boss@host.example", staff=True))
        host_db.session.commit()
        key = sandbox.add_account()
        audience = sandbox.add_audience(key, "Club audience")
        granted = make.audience_of(key, audience, club)
        client = host.test_client()
        sign_in(client, "boss@host.example", HOST_PASSWORD, page="/login")
        page = f"/admin/mcbridge/mailchimp/{newsletter.id}/"
        linked = post_form(client, page, {"audience": str(granted.id), "consent": "y", "save": "1"})
        assert linked.status_code == 302
        run = reserve(db.session.get(MailingList, newsletter.id), "cli", None, False)
        execute(run, ignore_progress)

        sandbox.simulate_unsubscribe(audience, anna.email)

        assert wait_for(lambda: unsubscribed(anna.email))
        empty_tables()
        host_db.session.remove()
        host_db.drop_all()


def unsubscribed(email: str) -> bool:
    db.session.expire_all()
    member = db.session.scalar(select(AudienceMember).filter_by(email=email))
    return member is not None and member.status == "unsubscribed"


def test_a_host_users_consent_and_export_are_recorded_under_their_name(host, sandbox):
    club = make.group("Club")
    member = make.role_type("Member")
    make.role(make.person("Anna", email="anna@club-mail.ch"), club, member)
    newsletter = make.mailing_list(club, "Club news")
    make.role_rule(newsletter, club, member)
    host_db.session.add(HostUser(email="boss@host.example", staff=True))
    host_db.session.commit()
    key = sandbox.add_account()
    granted = make.audience_of(key, sandbox.add_audience(key, "Club audience"), club)
    client = host.test_client()
    sign_in(client, "boss@host.example", HOST_PASSWORD, page="/login")
    tab = f"/admin/mcbridge/mailchimp/{newsletter.id}/"
    post_form(client, tab, {"audience": str(granted.id), "consent": "y", "save": "1"})
    subscribers = f"/admin/mcbridge/subscribers/{newsletter.id}/"
    post_form(client, f"/admin/mcbridge/exports/{newsletter.id}/start", {}, subscribers)

    run_id = db.session.scalars(select(SyncRun.id)).one()
    history = client.get(f"/admin/mcbridge/exports/{newsletter.id}/history")
    run_page = client.get(f"/admin/mcbridge/exports/runs/{run_id}")
    assert "Consent given by boss@host.example" in client.get(tab).get_data(as_text=True)
    assert "Started by boss@host.example" in run_page.get_data(as_text=True)
    assert "boss@host.example" in history.get_data(as_text=True)


def test_a_host_identity_without_a_label_is_refused_at_start_up(migrated_database):
    class Unnamed:
        def is_signed_in(self) -> bool:
            return False

        def is_admin(self) -> bool:
            return False

        def person_id(self) -> int | None:
            return None

    host = Flask("host_app")
    with pytest.raises(ValueError, match="lacks label"):
        MCBridge(identity=Unnamed()).init_app(host, DATABASE_URL=migrated_database)


def test_a_host_without_flask_migrate_creates_mcbridges_tables_next_to_its_own(
    fresh_database, sandbox_server
):
    host = host_app(fresh_database, sandbox_server)
    with host.app_context():
        host_db.create_all()

        result = host.test_cli_runner().invoke(args=["mcbridge", "db", "upgrade"])

        assert result.exit_code == 0, result.output
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "groups", "people"} <= tables
        assert {table_name("users"), table_name("groups"), table_name("people")} <= tables
        assert "alembic_version" not in tables  # the host's to have, if it wants one
        versions = text(f"SELECT version_num FROM {table_name('alembic_version')}")
        assert db.session.scalars(versions).all() == [mcbridge_head()]
        host_db.session.remove()
        db.engine.dispose()


def mcbridge_head() -> str:
    """The latest revision of mcbridge's branch."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


HOST_REVISION = '''"""The host's own tables."""
from alembic import op
import sqlalchemy as sa

revision = "0a0b0c0d0e0f"
down_revision = None
branch_labels = ("host",)
depends_on = None


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("users")
'''


def test_a_host_with_flask_migrate_upgrades_both_branches_in_one_command(
    fresh_database, sandbox_server, tmp_path
):
    migrations = tmp_path / "migrations"
    host = host_app(fresh_database, sandbox_server, migrations)
    runner = host.test_cli_runner()
    with host.app_context():
        assert runner.invoke(args=["db", "init"]).exit_code == 0
        (migrations / "versions" / "0a0b0c0d0e0f_host.py").write_text(HOST_REVISION)

        refused = runner.invoke(args=["mcbridge", "db", "upgrade"])
        assert refused.exit_code != 0
        assert "flask db upgrade heads" in refused.output

        result = runner.invoke(args=["db", "upgrade", "heads"])

        assert result.exit_code == 0, result.output
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", table_name("users"), table_name("mailing_lists")} <= tables
        versions = text("SELECT version_num FROM alembic_version ORDER BY version_num")
        assert db.session.scalars(versions).all() == sorted(["0a0b0c0d0e0f", mcbridge_head()])

        result = runner.invoke(args=["db", "migrate", "--head", "host@head", "-m", "more"])

        assert result.exit_code == 0, result.output
        [written] = (migrations / "versions").glob("*_more.py")
        revision = written.read_text()
        assert "'groups'" in revision  # the host's own model, not in its database yet
        for name in (*Base.metadata.tables, table_name("alembic_version")):
            assert f"'{name}'" not in revision  # mcbridge's tables are no model of the host's
        host_db.session.remove()
        db.engine.dispose()


def foreign_keys_enforced(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())


def test_a_host_can_keep_mcbridge_in_a_database_of_its_own(tmp_path, sandbox_server):
    own_file = tmp_path / "mcbridge.sqlite3"
    host = host_app(
        f"sqlite:///{tmp_path / 'host.sqlite3'}",
        sandbox_server,
        SQLALCHEMY_BINDS={"mcbridge": f"sqlite:///{own_file}"},
        MCBRIDGE_BIND_KEY="mcbridge",
    )
    with host.app_context():
        host_db.create_all(bind_key=[None])
        assert host.test_cli_runner().invoke(args=["mcbridge", "db", "upgrade"]).exit_code == 0
        make.group("Federation")
        db.session.commit()

        host_tables = set(inspect(host_db.engine).get_table_names())
        own_tables = set(inspect(db.engine).get_table_names())
        assert host_tables == {"users", "groups", "people"}
        assert table_name("groups") in own_tables
        assert "users" not in own_tables
        assert db.session.scalars(select(Group.name)).all() == ["Federation"]
        assert foreign_keys_enforced(db.engine)  # mcbridge's own engine is set up for it
        assert not foreign_keys_enforced(host_db.engine)  # the host's is the host's
        assert own_file.stat().st_mode & 0o777 == 0o600
        host_db.session.remove()
        for engine in host_db.engines.values():
            engine.dispose()


def test_a_host_with_flask_migrate_and_a_bind_for_mcbridge_migrates_each_where_it_lives(
    tmp_path, sandbox_server
):
    migrations = tmp_path / "migrations"
    host = host_app(
        f"sqlite:///{tmp_path / 'host.sqlite3'}",
        sandbox_server,
        migrations,
        SQLALCHEMY_BINDS={"mcbridge": f"sqlite:///{tmp_path / 'mcbridge.sqlite3'}"},
        MCBRIDGE_BIND_KEY="mcbridge",
    )
    runner = host.test_cli_runner()
    with host.app_context():
        assert runner.invoke(args=["db", "init"]).exit_code == 0
        (migrations / "versions" / "0a0b0c0d0e0f_host.py").write_text(HOST_REVISION)

        hosts = runner.invoke(args=["db", "upgrade", "heads"])
        ours = runner.invoke(args=["mcbridge", "db", "upgrade"])

        assert hosts.exit_code == 0, hosts.output
        assert ours.exit_code == 0, ours.output
        assert set(inspect(host_db.engine).get_table_names()) == {"alembic_version", "users"}
        assert table_name("groups") in inspect(db.engine).get_table_names()
        make.group("Federation")
        db.session.commit()
        assert db.session.scalars(select(Group.name)).all() == ["Federation"]
        host_db.session.remove()
        for engine in host_db.engines.values():
            engine.dispose()


def test_mcbridge_leaves_the_processs_other_engines_alone(app):
    other = create_engine("sqlite://")
    assert not foreign_keys_enforced(other)
    other.dispose()


def test_a_table_prefix_set_too_late_is_refused(migrated_database, sandbox_server):
    host = Flask("host_app")
    settings = {**base_config(migrated_database, sandbox_server), "MCBRIDGE_TABLE_PREFIX": "x_"}
    with pytest.raises(ValueError, match="MCBRIDGE_TABLE_PREFIX") as refused:
        MCBridge().init_app(host, **settings)
    assert TABLE_PREFIX in str(refused.value)
