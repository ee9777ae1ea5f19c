"""API keys are encrypted at rest and appear nowhere: database, Redis, logs, pages, jobs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from mcbridge.extensions import db
from mcbridge.jobs import enqueue_sync
from mcbridge.jobs import state as queue_state
from mcbridge.models import ConnectionAudience, MailchimpConnection, MailingList, SyncRun
from tests import factories as make
from tests.helpers import link_on_page, sign_in, worker_processes


def everything_in_redis(redis) -> bytes:
    """Every key and value of the test Redis database, whatever their types."""
    dump = b""
    for key in redis.scan_iter():
        dump += key
        kind = redis.type(key)
        if kind == b"string":
            dump += redis.get(key) or b""
        elif kind == b"hash":
            dump += b"".join(k + v for k, v in redis.hgetall(key).items())
        elif kind == b"list":
            dump += b"".join(redis.lrange(key, 0, -1))
        elif kind == b"set":
            dump += b"".join(redis.smembers(key))
        elif kind == b"zset":
            dump += b"".join(member for member, _ in redis.zrange(key, 0, -1, withscores=True))
    return dump


def database_bytes(database_url: str) -> bytes:
    path = Path(database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.fixture
def linked(app, client, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    club = make.group("Club")
    leader_type, member_type = make.role_type("Leader", manages=True), make.role_type("Member")
    leader = make.person("Lea", "Leader", email="lea@club-mail.ch")
    make.role(leader, club, leader_type)
    make.role(make.person("Anna"), club, member_type)
    newsletter = make.mailing_list(club, "Club news")
    make.role_rule(newsletter, club, member_type)
    db.session.commit()
    sign_in(client, make.user(leader.email, holder=leader).email)
    key = sandbox.add_account()
    audience = sandbox.add_audience(key, "Club audience")
    response = link_on_page(client, newsletter.id, key, audience)
    assert response.status_code == 302
    return key, newsletter.id


def test_the_key_is_stored_encrypted_and_read_back(linked, app):
    key, list_id = linked
    stored = db.session.execute(
        text(
            f"SELECT api_key FROM {MailchimpConnection.__tablename__} WHERE id = "
            f"(SELECT connection_id FROM {MailingList.__tablename__} WHERE id = :id)"
        ),
        {"id": list_id},
    ).scalar_one()
    assert stored.startswith("gAAAAA")
    assert key not in stored
    assert db.session.get(MailingList, list_id).mailchimp_api_key == key


def test_the_key_appears_in_no_page_log_job_redis_key_or_database_file(
    linked, app, client, caplog, database_url
):
    key, list_id = linked
    enqueue_sync(db.session.get(MailingList, list_id), trigger="manual")
    worker_log = worker_processes(app)
    failing = db.session.get(MailingList, list_id)
    failing.mailchimp_list_id = "0000000000"
    db.session.commit()
    enqueue_sync(failing, trigger="manual")
    worker_log += worker_processes(app)
    db.session.expire_all()
    runs = db.session.query(SyncRun).order_by(SyncRun.id).all()
    assert [run.state for run in runs] == ["success", "failed"]

    pages = [
        f"/admin/mailchimp/{list_id}/",
        f"/admin/subscribers/{list_id}/",
        "/admin/mailing-lists/",
        f"/admin/mailing-lists/edit/?id={list_id}",
        f"/admin/exports/{list_id}/history",
        *(f"/admin/exports/runs/{run.id}" for run in runs),
    ]
    for page in pages:
        assert key not in client.get(page).get_data(as_text=True), page
    sign_in(client, make.user("admin@club-mail.ch", admin=True).email)
    for page in ("/admin/connections/", "/admin/audiences/", "/admin/connections/edit/?id=1"):
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert key not in answer.get_data(as_text=True), page
        assert key[28:32] in client.get("/admin/connections/").get_data(as_text=True)
    assert key not in caplog.text
    assert "sync_job" in worker_log
    assert key not in worker_log
    assert key.encode() not in everything_in_redis(queue_state().redis)
    if database_url.startswith("sqlite"):
        db.session.execute(text("PRAGMA wal_checkpoint(FULL)"))
        assert key.encode() not in database_bytes(database_url)
    else:
        for model in (MailingList, MailchimpConnection, ConnectionAudience):
            table = model.__tablename__
            rows = db.session.execute(text(f"SELECT * FROM {table}")).all()
            assert key not in repr(rows), table


def test_rotating_the_encryption_key_keeps_keys_readable(linked, app, runner):
    key, list_id = linked
    old = app.config["MCBRIDGE_ENCRYPTION_KEYS"]
    new = Fernet.generate_key().decode()
    app.config["MCBRIDGE_ENCRYPTION_KEYS"] = f"{new},{old}"

    result = runner.invoke(args=["mcbridge", "rotate-encryption-key"])

    assert result.exit_code == 0, result.output
    assert "1 secret(s) re-encrypted" in result.output
    app.config["MCBRIDGE_ENCRYPTION_KEYS"] = new
    db.session.expire_all()
    assert db.session.get(MailingList, list_id).mailchimp_api_key == key
