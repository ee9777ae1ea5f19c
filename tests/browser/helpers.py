"""What browser tests do with a page: load it or follow a link or a button to it, and have
axe-core check every document they reach; the interface's words in each language.

Tests find things as people do, by role and visible name, in the page's language: `t()` is
mcbridge's catalog, `ta()` Flask-Admin's, so a journey reads the same in every language.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import flask_admin
import wtforms
from babel.messages.pofile import read_po
from babel.support import Translations
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import ConsoleMessage, Locator, Page, Response

from mcbridge.i18n import TRANSLATIONS
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD

LANGUAGES = ("en", "fr", "de")


class Watcher:
    """The documents a page loaded, and whether each was checked before the next one came.

    A test that clicks through to a page and never looks at it would leave it unchecked:
    `assert_all_checked` fails it at the end. Script errors and refusals by the
    Content-Security-Policy (Chromium reports them on the console) fail it too.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.unchecked: list[str] = []
        self.errors: list[str] = []
        page.on("response", self.response)
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))

    def response(self, response: Response) -> None:
        """A document the page loads (a link, a form's answer, a reload); not a redirect on
        the way, nor a move within the page (#), which load no document."""
        request = response.request
        if (
            request.is_navigation_request()
            and request.frame == self.page.main_frame
            and not 300 <= response.status < 400
        ):
            self.unchecked.append(response.url)

    def console(self, message: ConsoleMessage) -> None:
        # The browser asks for /favicon.ico on its own; the admin has none. An error page
        # (404, 403) is reported on the console as a resource that failed: the document
        # itself, which the test opened on purpose.
        url = message.location["url"]
        if message.type != "error" or url.endswith("/favicon.ico"):
            return
        if url == self.page.url and message.text.startswith("Failed to load resource"):
            return
        self.errors.append(f"console: {message.text} ({url})")

    def checked(self) -> None:
        skipped, self.unchecked = self.unchecked[:-1], []
        assert not skipped, f"pages loaded but never checked with axe: {skipped}"

    def assert_no_errors(self) -> None:
        errors, self.errors = self.errors, []
        assert not errors, f"on {self.page.url}:\n" + "\n".join(errors)

    def assert_all_checked(self) -> None:
        self.assert_no_errors()
        assert not self.unchecked, f"pages loaded but never checked with axe: {self.unchecked}"


_watchers: WeakKeyDictionary[Page, Watcher] = WeakKeyDictionary()


def watch(page: Page) -> Watcher:
    _watchers[page] = watcher = Watcher(page)
    return watcher


def check(page: Page) -> list[dict[str, Any]]:
    """axe-core on the document the page shows now: serious or critical violations fail;
    the milder ones are returned, for a test that allows none."""
    page.wait_for_load_state("load")
    watcher = _watchers[page]
    watcher.assert_no_errors()
    milder = assert_accessible(page)
    watcher.checked()
    return milder


def visit(page: Page, url: str) -> None:
    """Load `url` (relative to the live server) and check it."""
    response = page.goto(url)
    assert response is not None
    assert response.ok, f"{url}: {response.status}"
    check(page)


def follow(page: Page, target: Locator) -> None:
    """Click a link or a button that loads another page, and check that page."""
    with page.expect_navigation():
        target.click()
    check(page)


def t(language: str, message: str, **variables: Any) -> str:
    """mcbridge's `message` as a page in `language` shows it."""
    with force_locale(language):
        return gettext(message, **variables)


def tn(language: str, singular: str, plural: str, num: int, **variables: Any) -> str:
    with force_locale(language):
        return ngettext(singular, plural, num, **variables)


def ta(language: str, message: str) -> str:
    """Flask-Admin's own `message` (its list, create and edit views) in `language`."""
    return admin_catalog(language).gettext(message)


@cache
def admin_catalog(language: str) -> Translations:
    """Flask-Admin's catalog as mcbridge's admin reads it: compiled afresh from the .po files
    Flask-Admin ships (see the Makefile), then its own .mo files. Read here rather than
    through Flask-Admin's domain, whose cache would keep whatever a test read first."""
    catalog = Translations()
    for folder in (TRANSLATIONS, SITE_PACKAGES_CATALOGS["admin"]):
        catalog.merge(Translations.load(str(folder), [language], "admin"))
    return catalog


def sign_in(page: Page, language: str, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in page, as a person types it; lands on the dashboard."""
    visit(page, "/admin/account/sign-in")
    page.get_by_label(t(language, "Email")).fill(email)
    page.get_by_label(t(language, "Password")).fill(password)
    follow(page, page.get_by_role("button", name=t(language, "Sign in"), exact=True))
    assert page.get_by_text(t(language, "Welcome, you are signed in.")).is_visible()


def label_text(label: str) -> re.Pattern[str]:
    """A field's label, whether Flask-Admin marks it required (" *") or not."""
    return re.compile(rf"^\s*{re.escape(label)}\s*(\*\s*)?$")


def labelled(page: Page, label: str) -> Locator:
    return page.get_by_label(label_text(label))


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in a Select2 field (Flask-Admin's multiple choices): type, then click
    the suggestion, as a person does."""
    field = page.get_by_role("textbox", name=label_text(label))  # Select2's own input
    field.click()
    field.press_sequentially(option[:6])
    page.locator(".select2-result-label").filter(has_text=option).first.click()


# English left on a page whatever the catalogs say: words of libraries that no catalog
# translates (Select2, Flask-Admin's page-size menu, e-mail validation, RQ's worker states,
# WTForms' empty choice).
ENGLISH = re.compile(
    r"\b(\d+ items?|No matches found|Please enter \d+ or more|breadcrumb|__None|idle"
    r"|Failed to (create|update|delete) record|@-sign|true|false|None)\b"
)
TEXT_AND_NAMES = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    // Text marked as another language (the language menu's own names) is meant as it is.
    const marked = element.closest('[lang]');
    const ownLanguage = !marked || marked === document.documentElement;
    if (ownLanguage && !element.closest('script, style, noscript, .inline-field-template')) {
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
