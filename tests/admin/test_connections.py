"""Mailchimp connections, an administrator's: keys checked and kept secret, audiences read
from Mailchimp, given to groups; leaders never reach them."""

from __future__ import annotations

from mcbridge.extensions import db
from mcbridge.models import ConnectionAudience, MailchimpConnection
from tests import factories as make
from tests.helpers import post_form


def add(client, **fields):
    page = "/admin/connections/new/"
    return post_form(client, page, {"name": "Federation account", **fields}, page=page)


def test_a_connection_is_checked_saved_encrypted_and_its_audiences_read(as_admin, org, sandbox):
    key = sandbox.add_account()
    audience = sandbox.add_audience(key, "Federation news")

    response = add(as_admin, new_key=key, groups=[str(org.north.id)])

    assert response.status_code == 302
    connection = db.session.query(MailchimpConnection).one()
    assert (connection.api_key, [g.name for g in connection.groups]) == (key, ["North"])
    assert [(a.audience_id, a.name) for a in connection.audiences] == [
        (audience, "Federation news")
    ]
    listing = as_admin.get("/admin/connections/").get_data(as_text=True)
    assert key not in listing
    assert key[28:32] in listing


def test_a_bad_or_refused_key_is_a_form_error_and_nothing_is_saved(as_admin, org):
    for key, message in (
        ("not-a-key", "This is not an API key"),
        ("0" * 32 + "-us1", "Mailchimp refused this API key."),
        ("", "A new connection needs an API key."),
    ):
        page = add(as_admin, new_key=key).get_data(as_text=True)
        assert message in page, key
    assert db.session.query(MailchimpConnection).count() == 0


def test_an_audience_is_given_to_groups_and_then_offered_to_their_lists(
    as_admin, org, sandbox, client
):
    key = sandbox.add_account()
    sandbox.add_audience(key, "Regional news")
    add(as_admin, new_key=key, groups=[str(org.federation.id)])
    audience = db.session.query(ConnectionAudience).one()
    assert audience.groups == []

    edit = f"/admin/audiences/edit/?id={audience.id}"
    post_form(as_admin, edit, {"groups": [str(org.north.id)]})

    db.session.expire_all()
    assert [g.name for g in db.session.get(ConnectionAudience, audience.id).groups] == ["North"]


def test_a_new_key_that_would_strand_a_list_is_refused(as_admin, org, sandbox):
    key = sandbox.add_account()
    audience = sandbox.add_audience(key, "Club news")
    granted = make.audience_of(key, audience, org.north)
    org.north_list.connection = granted.connection
    org.north_list.mailchimp_list_id = audience
    db.session.commit()
    other_key = sandbox.add_account()
    sandbox.add_audience(other_key, "Elsewhere")

    edit = f"/admin/connections/edit/?id={granted.connection_id}"
    page = post_form(as_admin, edit, {"name": "Renamed", "new_key": other_key}).get_data(
        as_text=True
    )

    assert "This key does not reach the audience of: North news" in page
    db.session.expire_all()
    assert db.session.get(MailchimpConnection, granted.connection_id).api_key == key


def test_leaders_never_reach_connections_or_audiences(as_leader, org):
    for page in ("/admin/connections/", "/admin/audiences/", "/admin/connections/new/"):
        assert as_leader.get(page).status_code == 403, page


def test_leaders_cannot_change_or_delete_a_connection(as_leader, org, sandbox):
    key = sandbox.add_account()
    granted = make.audience_of(key, sandbox.add_audience(key, "Club news"), org.north)
    connection_id = granted.connection_id
    listing = "/admin/mailing-lists/"
    for url, data in (
        (f"/admin/connections/edit/?id={connection_id}", {"name": "Mine", "new_key": key}),
        ("/admin/connections/delete/", {"id": str(connection_id)}),
        (f"/admin/audiences/edit/?id={granted.id}", {"groups": [str(org.south.id)]}),
    ):
        assert post_form(as_leader, url, data, page=listing).status_code == 403, url
    db.session.expire_all()
    connection = db.session.get(MailchimpConnection, connection_id)
    assert connection.name.startswith("Connection")
    assert [g.name for g in db.session.get(ConnectionAudience, granted.id).groups] == ["North"]
