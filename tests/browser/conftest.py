"""Pages as people use them: the app on a live server, Debian's Chromium driven by Playwright,
one browser page per language, and a club whose leader and administrator sign in.

Chromium is Debian's (`apt-get install chromium`, which `make test` does when it is
missing), never a browser Playwright downloads. Without it every test here fails, saying so:
a browser suite that skips itself would pass while testing nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from mcbridge_sandbox import SandboxControl
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from mcbridge.connections import add_connection, read_audiences
from mcbridge.extensions import db
from mcbridge.jobs import execute, ignore_progress, reserve
from mcbridge.models import ConnectionAudience, Group, MailingList, Person, SyncRun, User
from tests import factories as make
from tests.browser import axe
from tests.browser.helpers import LANGUAGES, Watcher, watch
from tests.helpers import LiveServer, post_form
from tests.helpers import sign_in as sign_in_client

CHROMIUM = Path(os.environ.get("MCBRIDGE_TEST_CHROMIUM", "/usr/bin/chromium"))
# As root Chromium needs --no-sandbox; the tests talk to this machine only, so the browser
# calls nowhere else (background networking, component updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The browser's own language, sent as Accept-Language: what picks the interface's language
# for an account that chose none.
BROWSER_LOCALES = {"en": "en-GB", "fr": "fr-CH", "de": "de-CH"}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: the browser tests need Debian's package "
            "(`apt-get install -y chromium`, which `make test` runs when it is missing).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live(app: Flask) -> Iterator[LiveServer]:
    """The app over HTTP on a free port; webhooks registered from its pages point here."""
    # Static files kept by the browser, as a production server would let it: fewer requests
    # to the single-process test server between two pages.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    with LiveServer(app) as server:
        app.config["MCBRIDGE_PUBLIC_URL"] = server.url
        yield server


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Each phase's report on the test, for the page fixture to know whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    """A fresh browser profile speaking `language`, its pages watched: every document it
    loads must go through axe (see helpers.check) and none may break the page's policy."""
    return open_page(DESKTOP)


@pytest.fixture
def phone(open_page: Callable[..., Page]) -> Page:
    """The same, on a phone's screen (375 CSS pixels wide, touch): what a leader on the
    way sees."""
    return open_page(PHONE, is_mobile=True, has_touch=True)


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest,
    chromium: Browser,
    live: LiveServer,
    language: str,
    tmp_path: Path,
) -> Iterator[Callable[..., Page]]:
    """Opens watched pages of a given screen size; at the end, each is closed and must have
    had every document it loaded checked (a failed test leaves a screenshot instead)."""
    opened: list[tuple[BrowserContext, Page, Watcher]] = []

    def open_one(viewport: dict[str, int], **device: bool) -> Page:
        context = chromium.new_context(
            base_url=live.url, locale=BROWSER_LOCALES[language], viewport=viewport, **device
        )
        context.set_default_timeout(TIMEOUT_MS)
        axe.install(context)
        one = context.new_page()
        opened.append((context, one, watch(one)))
        return one

    yield open_one
    failed = getattr(request.node, "report_call", None)
    for context, one, watcher in opened:
        if failed is not None and failed.failed:
            # What the browser showed when the test failed, for whoever reads the report.
            shot = tmp_path / f"failure-{id(one)}.png"
            one.screenshot(path=shot, full_page=True)
            print(f"screenshot of {one.url}: {shot}")
            context.close()
            continue
        context.close()
        watcher.assert_all_checked()


@dataclass
class Club:
    federation: Group
    club: Group
    leader: User
    admin: User
    leader_person: Person
    people: list[Person]
    newsletter: MailingList


@pytest.fixture
def club(app: Flask) -> Club:
    """A federation and one of its clubs: a leader, three members and the club's newsletter
    (every member), an administrator; nobody chose a language, the browser's counts."""
    federation = make.group("Swiss Rowing")
    club = make.group("Rowing Club Basel", federation)
    leader_type = make.role_type("Leader", manages=True)
    member_type = make.role_type("Member")
    leader_person = make.person("Lea", "Keller", email="lea.keller@club-mail.ch")
    make.role(leader_person, club, leader_type)
    people = [
        make.person("Anna", "Meier", email="anna.meier@club-mail.ch"),
        make.person("Ben", "Favre", email="ben.favre@club-mail.ch"),
        make.person("Carla", "Rossi", email="carla.rossi@club-mail.ch"),
    ]
    for person in people:
        make.role(person, club, member_type)
    newsletter = make.mailing_list(club, "Club news")
    make.role_rule(newsletter, club, member_type)
    db.session.commit()
    admin = make.user("admin@swiss-rowing.ch", admin=True)
    leader = make.user(leader_person.email, holder=leader_person)
    return Club(federation, club, leader, admin, leader_person, people, newsletter)


@dataclass
class Audience:
    key: str
    audience_id: str
    name: str
    granted: ConnectionAudience

    @property
    def choice(self) -> str:
        """The audience as the list's Mailchimp page offers it."""
        return f"{self.granted.connection.name} › {self.name} ({self.audience_id})"


@pytest.fixture
def audience(club: Club, sandbox: SandboxControl) -> Audience:
    """A sandbox audience an administrator gave the federation (so every club below it)
    through a connection, as the Mailchimp connections page does."""
    key = sandbox.add_account()
    audience_id = sandbox.add_audience(key, "Rowing news")
    connection = add_connection("Federation account", key, [club.federation], read_audiences(key))
    db.session.commit()
    return Audience(key, audience_id, "Rowing news", connection.audiences[0])


@pytest.fixture
def exported(club: Club, audience: Audience, client: FlaskClient, live: LiveServer) -> Club:
    """The newsletter linked by its leader on its Mailchimp page (so Mailchimp's webhook
    reaches the live server) and exported once."""
    sign_in_client(client, club.leader.email)
    page = f"/admin/mailchimp/{club.newsletter.id}/"
    fields = {"audience": str(audience.granted.id), "send_first_name": "y", "consent": "y"}
    assert post_form(client, page, {**fields, "save": "1"}).status_code == 302
    db.session.expire_all()
    assert club.newsletter.webhook_id, club.newsletter.webhook_error
    export_now(club.newsletter)
    return club


def export_now(mailing_list: MailingList) -> SyncRun:
    """An export run here, as `flask mcbridge sync` does: what happened before the test."""
    run = reserve(mailing_list, "cli", None, False)
    execute(run, ignore_progress)
    return run
