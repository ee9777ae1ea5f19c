"""Every page of mcbridge, for an administrator and for a leader, in English, French and
German: axe-core finds no violation at all (not even a minor one, which other tests allow),
and a French or German page shows no English the catalogs translate.

The pages come from the app's own routes (every GET route, and for each model view its
list, create and edit pages with a row the person may see), so a page added later is
visited without anyone remembering to list it here; a route this test cannot visit must be
named in NOT_PAGES, with the reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath

import flask_admin
import pytest
import wtforms
from babel.messages.pofile import read_po
from flask import Flask, current_app, url_for
from flask_admin.model import BaseModelView
from flask_login import login_user
from playwright.sync_api import Page, expect
from rq import Worker
from werkzeug.routing import Rule

from mcbridge.extensions import db
from mcbridge.i18n import TRANSLATIONS
from mcbridge.jobs import state as queue_state
from mcbridge.models import SyncRun, User
from mcbridge.password_links import RESET, password_link
from tests.browser.axe import describe
from tests.browser.helpers import check, sign_in, t, visit
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
# English left on a page whatever the catalogs say: words of libraries that are not
# translated through them (Select2, Flask-Admin's page-size menu, e-mail validation).
ENGLISH = re.compile(
    r"\b(\d+ items?|No matches found|Please enter \d+ or more|breadcrumb|__None|idle"
    r"|Failed to (create|update|delete) record|@-sign|true|false|None)\b"
)
TEXT_AND_NAMES = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest('script, style, noscript, .inline-field-template')) {
      found.push(node.textContent);
    }
  }
  for (const element of document.querySelectorAll(
      '[aria-label], [title], [placeholder], [alt], input[type=submit], input[type=button]')) {
    for (const name of ['aria-label', 'title', 'placeholder', 'alt', 'value']) {
      if (element.hasAttribute(name)) found.push(element.getAttribute(name));
    }
  }
  found.push(document.title);
  return found;
}"""
SITE_PACKAGES_CATALOGS = {
    "admin": Path(flask_admin.__file__).parent / "translations",
    "wtforms": Path(wtforms.__file__).parent / "locale",
}


@cache
def translated_english(language: str) -> frozenset[str]:
    """Every English message the catalogs a page uses (mcbridge's, Flask-Admin's, WTForms')
    translate into `language` as something else: shown as is, it is English left behind."""
    catalogs = [TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"]
    catalogs += [
        folder / language / "LC_MESSAGES" / f"{domain}.po"
        for domain, folder in SITE_PACKAGES_CATALOGS.items()
    ]
    english = set()
    for path in catalogs:
        with path.open("rb") as file:
            for message in read_po(file):
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                english.update(i for i in ids if i and "%" not in i and i not in strings)
    return frozenset(english)


def english_on(page: Page, language: str) -> list[str]:
    """The texts and accessible names on the page that are still English."""
    texts = {" ".join(text.split()) for text in page.evaluate(TEXT_AND_NAMES)}
    catalogued = translated_english(language)
    return sorted(
        text for text in texts if text.rstrip(" *:") in catalogued or ENGLISH.search(text)
    )


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
