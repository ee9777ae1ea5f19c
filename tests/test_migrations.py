"""The Alembic migrations build exactly the schema the models describe, and upgrading an
installation keeps its data and links working: nobody types a key again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect, select, text
from werkzeug.security import generate_password_hash

from mcbridge import create_app
from mcbridge.encryption import encrypt
from mcbridge.extensions import db
from mcbridge.models import Group, MailchimpConnection, MailingList
from mcbridge.models.base import table_name
from mcbridge.models.unmodelled import is_unmodelled
from mcbridge.schema import alembic_config
from tests import factories as make
from tests.conftest import base_config
from tests.helpers import RequestPerContextClient, sign_in


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": table_name("alembic_version"),
                "include_name": lambda name, type_, _parents: not is_unmodelled(name, type_),
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def mcbridge_head() -> str:
    """The newest revision: what an upgraded installation records, whoever adds the next."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def upgrade_unprefixed(revision: str) -> None:
    """An installation from before the table prefix, at `revision`, as mcbridge then made it:
    the old revisions on unprefixed tables, their version in `alembic_version`."""
    config = alembic_config()
    script = ScriptDirectory.from_config(config)

    def steps(current: tuple[str, ...], _context: MigrationContext) -> list:
        return script._upgrade_revs(revision, current)

    with (
        db.engine.begin() as connection,
        EnvironmentContext(config, script, fn=steps, destination_rev=revision) as environment,
    ):
        environment.configure(
            connection=connection,
            version_table="alembic_version",
            render_as_batch=True,
            mcbridge_unprefixed=True,
        )
        environment.run_migrations()


BEFORE_CONNECTIONS = "3f1c2a9b7d44"
KEY_A = "a" * 32 + "-us1"
KEY_B = "b" * 32 + "-us6"


def insert_list(list_id: int, group_id: int, key: str | None, audience: str, tag: str) -> None:
    db.session.execute(
        text(
            "INSERT INTO mailing_lists (id, group_id, name, mailchimp_api_key, "
            "mailchimp_list_id, mailchimp_audience_name, mailchimp_tag, role_tags, "
            "sync_all_delivery_addresses, failure_streak, consent_at) VALUES (:id, :g, :name, "
            ":key, :audience, :audience_name, :tag, false, false, 0, :now)"
        ),
        {
            "id": list_id,
            "g": group_id,
            "name": f"List {list_id}",
            "key": encrypt(key) if key else None,
            "audience": audience,
            "audience_name": f"Audience {audience}",
            "tag": tag,
            "now": datetime.now(UTC).replace(tzinfo=None),
        },
    )


def test_linked_lists_move_to_connections_without_retyping_a_key(tmp_path, sandbox_server):
    app = create_app(base_config(f"sqlite:///{tmp_path / 'old.sqlite3'}", sandbox_server))
    with app.app_context():
        upgrade_unprefixed(BEFORE_CONNECTIONS)
        db.session.execute(
            text("INSERT INTO groups (id, name) VALUES (1, 'Federation'), (2, 'Club')")
        )
        insert_list(1, 1, KEY_A, "aud1", "mcbridge: One")
        insert_list(2, 2, KEY_A, "aud2", "mcbridge: Two")
        insert_list(3, 2, KEY_B, "aud1", "mcbridge: One")  # the same audience and tag
        insert_list(4, 2, None, "", "mcbridge: Four")
        db.session.commit()

        upgrade()

        connections = db.session.query(MailchimpConnection).order_by(MailchimpConnection.id).all()
        assert [c.api_key for c in connections] == [KEY_A, KEY_B]
        assert [sorted(g.name for g in c.groups) for c in connections] == [
            ["Club", "Federation"],
            ["Club"],
        ]
        lists = {ml.id: ml for ml in db.session.query(MailingList).all()}
        assert [lists[n].mailchimp_api_key for n in (1, 2, 3, 4)] == [KEY_A, KEY_A, KEY_B, None]
        assert lists[1].is_linked
        assert not lists[4].is_linked
        first = {a.audience_id: [g.name for g in a.groups] for a in connections[0].audiences}
        assert first == {"aud1": ["Federation"], "aud2": ["Club"]}
        assert (lists[1].mailchimp_tag, lists[3].mailchimp_tag) == (
            "mcbridge: One",
            "mcbridge: One #3",
        )
        db.session.remove()
        db.engine.dispose()


BEFORE_PREFIX = "c4d5e6f7a8b9"
UNPREFIXED_ROWS = (
    "INSERT INTO groups (id, name, parent_id) VALUES (1, 'Federation', NULL), (2, 'Club', 1)",
    "INSERT INTO people (id, first_name, last_name, email) "
    "VALUES (1, 'Lea', 'Leader', 'lea@club-mail.ch')",
    "INSERT INTO role_types (id, name, manages) VALUES (1, 'Leader', true)",
    "INSERT INTO roles (id, person_id, group_id, role_type_id) VALUES (1, 1, 2, 1)",
    "INSERT INTO users (id, email, password_hash, is_admin, active, person_id, session_token) "
    "VALUES (1, 'lea@club-mail.ch', :hash, false, true, 1, 'token-of-lea')",
    "INSERT INTO mailing_lists (id, group_id, name, role_tags, sync_all_delivery_addresses, "
    "failure_streak) VALUES (1, 1, 'Federation news', false, false, 0), "
    "(2, 2, 'Club news', false, false, 0)",
)


def test_an_installation_from_before_the_prefix_upgrades_with_its_data(
    fresh_database, sandbox_server
):
    app = create_app(base_config(fresh_database, sandbox_server))
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        upgrade_unprefixed(BEFORE_PREFIX)
        password_hash = generate_password_hash(make.PASSWORD, app.config["PASSWORD_HASH_METHOD"])
        for statement in UNPREFIXED_ROWS:
            db.session.execute(text(statement), {"hash": password_hash})
        db.session.commit()

        upgrade()

        tables = set(inspect(db.engine).get_table_names())
        assert not tables & {"alembic_version", "groups", "people", "users", "mailing_lists"}
        version = db.session.execute(
            text(f"SELECT version_num FROM {table_name('alembic_version')}")
        )
        assert version.scalars().all() == [mcbridge_head()]
        assert make.group("Region", db.session.get(Group, 1)).id == 3  # ids continue
        db.session.commit()
        assert [g.path for g in db.session.scalars(select(Group).order_by(Group.id))] == [
            "Federation",
            "Federation / Club",
            "Federation / Region",
        ]
        client = app.test_client()
        sign_in(client, "lea@club-mail.ch")
        lists = client.get("/admin/mailing-lists/").get_data(as_text=True)
        assert "Club news" in lists
        assert "Federation news" not in lists  # her scope: the club she leads, not above
        db.session.remove()
        db.engine.dispose()
