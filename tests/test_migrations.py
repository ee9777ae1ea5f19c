"""The Alembic migrations build exactly the schema the models describe, and upgrading an
installation keeps its links working: nobody types a key again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from mcbridge import create_app
from mcbridge.encryption import encrypt
from mcbridge.extensions import db
from mcbridge.models import MailchimpConnection, MailingList
from tests.conftest import base_config


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


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
        upgrade(revision=BEFORE_CONNECTIONS)
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
