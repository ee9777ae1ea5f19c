"""Language and time zone of each request, and where mcbridge's catalogs live.

Users speak French, German and English: the choice follows the user's saved preference,
then the language picked in the menu, then the browser, then English.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from mcbridge.config import LANGUAGES
from mcbridge.extensions import babel
from mcbridge.messages import render as render_messages
from mcbridge.resources import TRANSLATIONS

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch"}


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user_choice = getattr(current_user, "locale", None) if current_user else None
    for choice in (user_choice, session.get("locale")):
        if choice in LANGUAGES:
            return choice
    return request.accept_languages.best_match(LANGUAGES) or "en"


def select_timezone() -> str:
    return current_app.config["MCBRIDGE_TIMEZONE"]


def template_context() -> dict[str, object]:
    """The language menu's entries and the page's language, for every template."""
    return {
        "mcbridge_languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "current_language": str(get_locale() or "en"),
    }


def init_i18n(app: Flask) -> None:
    """Register mcbridge's catalogs, next to the host's own when it already uses Babel."""
    app.context_processor(template_context)
    app.add_template_filter(render_messages, "messages")
    if "babel" in app.extensions:
        app.extensions["babel"].translation_directories.append(str(TRANSLATIONS))
        return
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
