"""Sign-in throttling: failed attempts counted per account and per client address in the
installation's Redis, a translated 429 in the admin's layout, and no way to tell from the
answers (or their timing) whether an account exists."""

from __future__ import annotations

import re

import pytest
from werkzeug import security

from mcbridge import create_app
from mcbridge.models import users
from tests import factories as make
from tests.conftest import base_config
from tests.factories import PASSWORD
from tests.helpers import RequestPerContextClient, csrf_token, post_form

SIGN_IN = "/admin/account/sign-in"
LIMITED = "Too many failed sign-ins for this account or from this network."
WRONG = "Wrong email or password."


@pytest.fixture
def limited(app, migrated_database, sandbox_server):
    """The app with small limits: 3 failures per account, 5 per address, a minute each."""
    config = {
        **base_config(migrated_database, sandbox_server),
        "MCBRIDGE_SIGN_IN_ACCOUNT_LIMITS": "3 per minute",
        "MCBRIDGE_SIGN_IN_ADDRESS_LIMITS": "5 per minute",
    }
    served = create_app(config)
    served.test_client_class = RequestPerContextClient
    return served


def attempt(client, email: str, password: str = "wrong password", address: str = "192.0.2.1"):
    return client.post(
        SIGN_IN,
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def signed_in(client) -> bool:
    return client.get("/admin/groups/").status_code == 200


def test_forty_wrong_passwords_lock_the_account_even_against_the_right_one(limited):
    make.user("admin@club-mail.ch", admin=True)
    client = limited.test_client()

    answers = [attempt(client, "admin@club-mail.ch", address=f"192.0.2.{n}") for n in range(40)]

    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert all(WRONG in answer.get_data(as_text=True) for answer in answers[:3])
    assert {answer.status_code for answer in answers[3:]} == {429}
    right = attempt(client, "admin@club-mail.ch", PASSWORD, address="198.51.100.7")
    assert right.status_code == 429
    assert not signed_in(client)


def test_the_refusal_is_a_page_of_the_admin_with_a_clear_message(limited):
    make.user("admin@club-mail.ch", admin=True)
    client = limited.test_client()
    for _ in range(3):
        attempt(client, "admin@club-mail.ch")

    refused = attempt(client, "admin@club-mail.ch")

    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert LIMITED in page
    assert "Please try again in 1 minute." in page
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert 'class="navbar' in page
    assert 'name="password"' in page


def test_one_address_trying_many_accounts_is_stopped(limited):
    client = limited.test_client()

    tried = [attempt(client, f"guess{n}@club-mail.ch").status_code for n in range(5)]
    refused = attempt(client, "someone.else@club-mail.ch")
    elsewhere = attempt(client, "someone.else@club-mail.ch", address="198.51.100.7")

    assert tried == [200] * 5
    assert refused.status_code == 429
    assert elsewhere.status_code == 200


def test_a_good_sign_in_starts_the_accounts_count_again(limited):
    make.user("admin@club-mail.ch", admin=True)
    client = limited.test_client()

    for round_ in range(3):
        for _ in range(2):
            wrong = attempt(client, "admin@club-mail.ch", address=f"192.0.2.{round_}")
            assert wrong.status_code == 200
        good = attempt(client, "admin@club-mail.ch", PASSWORD, address=f"192.0.2.{round_}")
        assert good.status_code == 302
        client.delete_cookie("session")


def comparable(response) -> str:
    """The page without what changes on every request (the CSRF token, the script nonce)."""
    page = response.get_data(as_text=True)
    return re.sub(r'(value|nonce)="[^"]*"', r'\1=""', page)


def test_an_unknown_address_gets_the_same_answers_as_a_real_account(limited, monkeypatch):
    make.user("admin@club-mail.ch", admin=True)
    checks: list[str] = []
    real_check = security.check_password_hash

    def counted(pwhash: str, password: str) -> bool:
        checks.append(password)
        return real_check(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counted)
    monkeypatch.setattr("mcbridge.admin.account.check_password_hash", counted)

    def answers(email: str, address: str) -> tuple[list[int], list[str], int]:
        checks.clear()
        client = limited.test_client()
        responses = [attempt(client, email, address=address) for _ in range(5)]
        return [r.status_code for r in responses], [comparable(r) for r in responses], len(checks)

    real = answers("admin@club-mail.ch", "192.0.2.1")
    unknown = answers("nobody@club-mail.ch", "192.0.2.2")

    assert real[0] == unknown[0] == [200, 200, 200, 429, 429]
    assert real[1] == unknown[1]
    assert real[2] == unknown[2] == 3, "one password hash checked per attempt let through"


def test_counts_live_in_the_installations_namespace_without_addresses(limited):
    client = limited.test_client()

    attempt(client, "Private.Person@club-mail.ch")

    redis = limited.extensions["mcbridge"].redis
    keys = [key.decode() for key in redis.keys("*")]
    prefix = f"{limited.config['MCBRIDGE_QUEUE']}:limits:"
    limit_keys = [key for key in keys if "sign-in" in key]
    assert len(limit_keys) == 2
    assert all(key.startswith(prefix) for key in limit_keys)
    assert not any("private.person" in key.lower() for key in keys)


def test_without_redis_sign_in_is_paused_not_a_crash(org, migrated_database, sandbox_server):
    """Attempts that cannot be counted are not allowed: a clear 503, nobody signed in."""
    settings = base_config(migrated_database, sandbox_server)
    broken = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0"})
    client = broken.test_client()

    response = post_form(
        client, "/admin/account/sign-in", {"email": org.leader.email, "password": PASSWORD}
    )

    assert response.status_code == 503
    assert "Sign-in is paused" in response.get_data(as_text=True)
    assert client.get("/admin/groups/").status_code == 302


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(
    org, migrated_database, sandbox_server
):
    settings = base_config(migrated_database, sandbox_server)
    limits = {"MCBRIDGE_SIGN_IN_ADDRESS_LIMITS": "2 per minute", "MCBRIDGE_PROXY_HOPS": 1}
    proxied = create_app({**settings, **limits})
    client = proxied.test_client()
    page = "/admin/account/sign-in"

    def attempt(address: str) -> int:
        data = {"email": f"nobody{address}@club-mail.ch", "password": "wrong"}
        headers = {"X-Forwarded-For": address}
        data["csrf_token"] = csrf_token(client, page)
        return client.post(page, data=data, headers=headers).status_code

    attacker = [attempt("198.51.100.7") for _ in range(3)]
    assert attacker == [200, 200, 429]
    assert attempt("198.51.100.8") == 200  # another client behind the same proxy
