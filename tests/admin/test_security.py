"""What every page of the standalone admin sends: security headers, a Content-Security-Policy
its pages live within (no inline script without the request's nonce, no inline handler it
cannot replace, no inline style), and cookies kept to this site."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask_admin import Admin

from mcbridge import MCBridge, create_app
from mcbridge.extensions import db
from mcbridge.models import SyncRun
from tests.admin.conftest import Organisation
from tests.admin.test_sessions import remembered_sign_in
from tests.conftest import base_config
from tests.helpers import RequestPerContextClient, sign_in

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'")


def main_pages(org: Organisation) -> list[str]:
    """The dashboard, each model's list, create and edit views, and mcbridge's own pages."""
    queued = export_run(org, state="queued")
    failed = export_run(org, state="failed", message="Mailchimp refused the key.\nAgain.")
    models = {
        "groups": org.north.id,
        "people": org.alice.id,
        "roles": org.alice_role.id,
        "mailing-lists": org.north_list.id,
        "role-types": org.member_type.id,
        "users": org.leader.id,
    }
    return [
        "/admin/",
        *(page for slug, row in models.items() for page in model_pages(slug, row)),
        "/admin/groups/?flt0_0=1",
        f"/admin/subscribers/{org.north_list.id}/",
        f"/admin/mailchimp/{org.north_list.id}/",
        f"/admin/exports/{org.north_list.id}/history",
        f"/admin/exports/runs/{queued}",
        f"/admin/exports/runs/{failed}",
        "/admin/operations/",
        "/admin/no-such-page/",
    ]


def model_pages(slug: str, row: int) -> list[str]:
    return [f"/admin/{slug}/", f"/admin/{slug}/new/", f"/admin/{slug}/edit/?id={row}"]


def export_run(org: Organisation, state: str, message: str | None = None) -> int:
    run = SyncRun(
        mailing_list_id=org.north_list.id,
        trigger="manual",
        triggered_by_id=org.admin.id,
        state=state,
        message=message,
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )
    db.session.add(run)
    db.session.commit()
    return run.id


class InlineCode(HTMLParser):
    """Scripts, event handlers and style attributes a page carries in its markup."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        self.handlers += [f"{name}={value}" for name, value in attrs if name.startswith("on")]
        if "style" in attributes:
            self.styles.append(f"<{tag} style={attributes['style']}>")


def inline_code(page: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(page)
    return parser


def assert_security_headers(response, url: str) -> str:
    """The headers every response carries; returns the request's script nonce."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (url, name)
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy, url
    assert "'unsafe-eval'" not in policy, url
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in policy, (url, directive)
    nonce = NONCE.search(policy)
    assert nonce, (url, policy)
    return nonce.group(1)


def test_every_main_page_sends_the_security_headers(client, org):
    anonymous = client.get("/admin/account/sign-in")
    assert anonymous.status_code == 200
    assert_security_headers(anonymous, "sign-in")
    assert "Strict-Transport-Security" not in anonymous.headers
    sign_in(client, org.admin.email)

    for url in main_pages(org):
        response = client.get(url)
        assert response.status_code == (404 if "no-such-page" in url else 200), url
        assert_security_headers(response, url)


def test_no_page_holds_a_script_the_policy_would_refuse(client, org):
    pages = ["/admin/account/sign-in"]
    sign_in(client, org.admin.email)
    pages += main_pages(org)

    for url in pages:
        response = client.get(url)
        nonce = assert_security_headers(response, url)
        found = inline_code(response.get_data(as_text=True))
        for script in found.scripts:
            assert script.get("src") or script.get("nonce") == nonce, (url, script)
        assert found.handlers == [], url
        assert found.styles == [], url


def test_flask_admins_inline_handlers_become_data_for_the_layouts_script(client, org):
    """Flask-Admin's list and inline-list macros wrote onclick handlers; mcbridge's copies
    carry data attributes that static/inline-handlers.js acts on."""
    sign_in(client, org.admin.email)
    people = client.get("/admin/people/").get_data(as_text=True)
    person = client.get(f"/admin/people/edit/?id={org.alice.id}").get_data(as_text=True)

    assert 'data-confirm="Are you sure you want to delete this record?"' in people
    assert 'data-action="delete"' in people
    assert 'data-inline-field="additional_emails"' in person
    assert "/mcbridge-static/inline-handlers.js" in people
    script = client.get("/mcbridge-static/inline-handlers.js").get_data(as_text=True)
    for attribute in ("data-confirm", "data-action", "data-inline-field"):
        assert attribute in script


def test_each_response_has_its_own_nonce(client):
    nonces = {
        assert_security_headers(client.get("/admin/account/sign-in"), "sign-in") for _ in range(3)
    }
    assert len(nonces) == 3


def served_at(public_url: str, migrated_database, sandbox_server):
    served = create_app(
        {**base_config(migrated_database, sandbox_server), "MCBRIDGE_PUBLIC_URL": public_url}
    )
    served.test_client_class = RequestPerContextClient
    return served.test_client()


def set_cookies(response) -> dict[str, str]:
    return {value.split("=", 1)[0]: value for value in response.headers.getlist("Set-Cookie")}


@pytest.mark.parametrize("public_url", ["https://mcbridge.example.org", "http://127.0.0.1:5000"])
def test_cookies_stay_on_this_site_and_behind_https_on_https_only(
    app, org, migrated_database, sandbox_server, public_url
):
    client = served_at(public_url, migrated_database, sandbox_server)
    https = public_url.startswith("https://")

    cookies = set_cookies(remembered_sign_in(client, org.admin.email))

    assert set(cookies) == {"session", "remember_token"}
    for cookie in cookies.values():
        assert "SameSite=Lax" in cookie
        assert "HttpOnly" in cookie
        assert ("; Secure" in cookie) is https
    page = client.get("/admin/")
    assert_security_headers(page, "dashboard")
    if https:
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    else:
        assert "Strict-Transport-Security" not in page.headers


def test_inside_a_host_app_its_headers_and_cookies_stay_the_hosts(migrated_database):
    """The policy fits mcbridge's layout; a host's admin has its own scripts and policy."""
    host = Flask("host_app")
    host.config.update(SECRET_KEY="host-secret", TESTING=True)
    MCBridge().init_app(host, Admin(host, name="Host admin"), DATABASE_URL=migrated_database)

    response = host.test_client().get("/admin/")

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response.headers
    assert host.config["SESSION_COOKIE_SAMESITE"] is None
