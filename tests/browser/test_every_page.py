"""Every page of mcbridge, for an administrator and for a leader, in English, French and
German: axe-core finds no violation at all (not even a minor one, which other tests allow),
and a French or German page shows no English the catalogs translate.

The pages come from the app's own routes (every GET route, and for each model view its
list, create and edit pages with a row the person may see), so a page added later is
visited without anyone remembering to list it here; a route this test cannot visit must be
named in NOT_PAGES, with the reason.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import PurePosixPath

import pytest
from flask import Flask, current_app, url_for
from flask_admin.model import BaseModelView
from flask_login import login_user
from playwright.sync_api import Page, expect
from rq import Worker
from werkzeug.routing import Rule

from mcbridge.extensions import db
from mcbridge.jobs import state as queue_state
from mcbridge.models import SyncRun, User
from mcbridge.password_links import RESET, password_link
from tests.browser.axe import describe
from tests.browser.helpers import check, english_on, sign_in, t, visit
from tests.helpers import process_env, wait_for

# Routes that are not pages a person opens (besides downloads, whose path ends in a file
# name: progress.json, subscribers.csv): files, JSON for monitoring, Mailchimp's callback.
NOT_PAGES = {
    "static": "files",
    "admin.static": "files",
    "mcbridge.static": "files",
    "mcbridge_health.health": "JSON for monitoring",
    "mcbridge_webhooks.receive": "Mailchimp's callback, no page",
}
NOT_PAGE_SUFFIXES = (".ajax_lookup", ".ajax_update", ".export")
# Error pages a person meets without any route of their own.
ERROR_PAGES = ("/admin/no-such-page/",)


def is_page(rule: Rule) -> bool:
    return (
        "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.endpoint.endswith(NOT_PAGE_SUFFIXES)
        and not PurePosixPath(rule.rule).suffix
    )


def model_views(app: Flask) -> Iterator[BaseModelView]:
    for admin in app.extensions["admin"]:
        yield from (view for view in admin._views if isinstance(view, BaseModelView))


def row_seen_by(view: BaseModelView, user: User | None) -> int | None:
    """The first row of the view that `user` may see, as its list page would show it."""
    if user is None:
        return None
    with view.admin.app.test_request_context():
        login_user(user)
        row = view.get_query().order_by(None).first()
        return None if row is None else row.id


def pages(app: Flask, user: User | None, values: dict[str, object]) -> list[str]:
    """Every page of the app, as `user` (None: signed out) would open it: the routes' own
    pages, with `values` for their arguments, and each model view's edit and details page
    on a row `user` may see (a leader meets refusals and 404s there too: pages as well)."""
    rows = {view.endpoint: row_seen_by(view, user) for view in model_views(app)}
    found = list(ERROR_PAGES)
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if not is_page(rule):
                continue
            missing = rule.arguments - values.keys()
            assert not missing, (
                f"{rule.rule}: no value for {missing}; add one or name it in NOT_PAGES"
            )
            arguments = {name: values[name] for name in rule.arguments}
            view, _, kind = rule.endpoint.rpartition(".")
            if kind in ("edit_view", "details_view"):
                row = rows.get(view)
                if row is None:
                    continue
                arguments["id"] = row
            found.append(url_for(rule.endpoint, **arguments))
    return found


def password_token(user: User) -> str:
    """The token of a password reset link to `user`, as the mail gives it."""
    with current_app.test_request_context():
        return password_link(user, RESET).rsplit("/", 1)[1]


def problems_on(page: Page, url: str, language: str) -> list[str]:
    """What is wrong with `url`: an answer of the server's own failure, axe's serious
    violations, English on a French or German page."""
    response = page.goto(url)
    assert response is not None
    if response.status >= 500:
        return [f"{url}: {response.status}"]
    try:
        milder = check(page)
    except AssertionError as failure:
        return [str(failure)]
    problems = [f"axe-core on {url} ({language}):\n{describe(milder)}"] if milder else []
    english = english_on(page, language) if language != "en" else []
    return problems + ([f"{url} ({language}) shows English: {english}"] if english else [])


@pytest.fixture
def worker(app: Flask) -> Iterator[None]:
    """A real worker waiting for jobs, which the Operations page lists with its state."""
    command = [sys.executable, "-m", "flask", "mcbridge", "worker"]
    process = subprocess.Popen(command, env=process_env(app), stdout=subprocess.DEVNULL)
    redis = queue_state().redis
    assert wait_for(lambda: Worker.all(connection=redis), timeout=60), "no worker started"
    yield
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.parametrize("who", ["admin", "leader", "nobody"])
def test_every_page_is_accessible_and_in_the_pages_language(
    page, app, exported, worker, language, who
):
    """Signed out ("nobody"), every page but the sign-in, password and error pages sends
    to the sign-in page; a reset link is opened signed out as well."""
    account = exported.leader if who == "leader" else exported.admin
    run = db.session.query(SyncRun).first()
    values = {
        "list_id": exported.newsletter.id,
        "run_id": run.id,
        "code": "en",
        "token": password_token(account),
    }
    if who != "nobody":
        sign_in(page, language, account.email)

    found = [
        problem
        for url in pages(app, account if who != "nobody" else None, values)
        for problem in problems_on(page, url, language)
    ]

    assert not found, "\n\n".join(found)


def test_select2_speaks_the_pages_language(page, club, language):
    """Select2 writes its own messages (nothing matches, keep typing): from our catalogs."""
    sign_in(page, language, club.leader.email)
    visit(page, "/admin/mailing-lists/new/")

    page.locator("#s2id_group").click()
    page.keyboard.type("Nowhere at all")

    expect(page.locator(".select2-no-results")).to_have_text(t(language, "Nothing matches."))
