"""Sessions the server can take back: signing out or changing a password revokes the
session and remember-me cookies (copies included), and where sign-in sends you next."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask_login.utils import encode_cookie
from werkzeug.test import TestResponse

from mcbridge.extensions import db
from mcbridge.models import User
from tests.factories import PASSWORD
from tests.helpers import csrf_token, post_form

SIGN_IN = "/admin/account/sign-in"
PAGE = "/admin/groups/"


def remembered_sign_in(client, email: str) -> TestResponse:
    """Sign in with "keep me signed in"."""
    response = client.post(
        SIGN_IN,
        data={
            "email": email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    return response


def copied_cookies(client) -> dict[str, str]:
    """The session and remember-me cookies a thief could copy."""
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")}


def holding(app, cookies: dict[str, str]):
    """Another browser holding copies of these cookies and nothing else."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def opens(client) -> bool:
    response = client.get(PAGE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_signing_out_revokes_the_session_and_remember_cookies_and_their_copies(app, client, org):
    remembered_sign_in(client, org.admin.email)
    cookies = copied_cookies(client)
    assert opens(holding(app, cookies))
    assert opens(holding(app, {"remember_token": cookies["remember_token"]}))

    post_form(client, "/admin/account/sign-out", {}, page=PAGE)

    assert not opens(client)
    assert not opens(holding(app, cookies))
    assert not opens(holding(app, {"session": cookies["session"]}))
    assert not opens(holding(app, {"remember_token": cookies["remember_token"]}))


def test_a_password_change_signs_out_every_other_session(app, client, org):
    remembered_sign_in(client, org.admin.email)
    cookies = copied_cookies(client)
    elsewhere = holding(app, cookies)
    assert opens(elsewhere)

    changed = post_form(
        client,
        f"/admin/users/edit/?id={org.admin.id}",
        {"email": org.admin.email, "new_password": "a brand new passphrase", "is_admin": "y",
         "active": "y", "locale": ""},
    )  # fmt: skip

    assert changed.status_code == 302
    assert opens(client), "the browser that changed the password stays signed in"
    assert not opens(elsewhere)
    assert not opens(holding(app, {"remember_token": cookies["remember_token"]}))
    kept = {"remember_token": client.get_cookie("remember_token").value}
    assert opens(holding(app, kept)), "its remember-me cookie is issued again"


def test_an_administrator_changing_a_password_signs_that_account_out(app, client, org):
    leader = app.test_client()
    remembered_sign_in(leader, org.leader.email)
    leader_cookies = copied_cookies(leader)
    remembered_sign_in(client, org.admin.email)
    assert opens(leader)

    changed = post_form(
        client,
        f"/admin/users/edit/?id={org.leader.id}",
        {"email": org.leader.email, "new_password": "a brand new passphrase", "active": "y",
         "locale": ""},
    )  # fmt: skip

    assert changed.status_code == 302
    assert db.session.get(User, org.leader.id).active
    assert not opens(leader)
    assert not opens(holding(app, leader_cookies))
    assert opens(client)


def test_a_remember_cookie_from_before_session_tokens_names_nobody(app, org):
    """Issued by the previous version, it signed a bare user id."""
    old_cookie = encode_cookie(str(org.admin.id))

    assert not opens(holding(app, {"remember_token": old_cookie}))


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\\/evil.example/",
        "/\t/evil.example/",
        "/admin/\r\nSet-Cookie: stolen=1",
        "javascript:alert(1)",
        "http:/evil.example",
        "//[",
        "evil.example",
    ],
)
def test_next_outside_this_site_or_malformed_leads_to_the_dashboard(client, org, target):
    page = f"{SIGN_IN}?{urlencode({'next': target})}"
    response = client.post(
        page,
        data={"email": org.admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_next_on_this_site_is_followed(client, org):
    page = f"{SIGN_IN}?{urlencode({'next': '/admin/people/?search=Alice'})}"
    response = client.post(
        page,
        data={"email": org.admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )

    assert response.headers["Location"] == "/admin/people/?search=Alice"
