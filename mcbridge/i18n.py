"""Language and time zone of each request, and where mcbridge's catalogs live.

Users speak French, German and English: the choice follows the user's saved preference,
then the language picked in the menu, then the browser, then English.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.dates import get_day_names, get_month_names
from flask import Flask, current_app, has_request_context, request, session
from flask_admin.model import typefmt
from flask_babel import format_date, format_datetime, format_decimal, get_locale, gettext
from flask_login import current_user
from markupsafe import Markup

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


def page_language() -> str:
    """The page's language without its region: a host application may choose fr_CH, which
    writes dates and splits spreadsheets as French does."""
    locale = get_locale()
    return locale.language if locale else "en"


def select_timezone() -> str:
    """Times are shown in the installation's zone (BABEL_DEFAULT_TIMEZONE), not UTC."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def when(value: datetime | str | None) -> str:
    """A moment, in the user's language and the installation's time zone, which it names:
    stored times are UTC, and a bare "14:05" leaves a reader guessing which clock it is.
    Mailchimp's times arrive as text ("2026-03-15 14:05:07", UTC); text that is no time is
    shown as it came."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value is None:
        return ""
    return f"{format_datetime(value, 'medium')} ({format_datetime(value, 'v')})"


def day(value: date | None) -> str:
    """A calendar day in the user's language, with the month written out where it is."""
    return format_date(value, "medium") if value is not None else ""


def number(value: float | None) -> str:
    """A count with the user's digit grouping (1,234 / 1 234 / 1’234)."""
    return format_decimal(value) if value is not None else ""


def admin_day(_view: Any, value: date, _name: str) -> str:
    return day(value)


def admin_when(_view: Any, value: datetime, _name: str) -> str:
    return when(value)


def admin_yes_no(_view: Any, value: bool, _name: str) -> Markup:
    """A yes/no column: Flask-Admin titles its icon "manages: true", in English and with the
    column's attribute name; here the icon is decoration and the word is what is read."""
    word = gettext("yes") if value else gettext("no")
    icon = "fa-check-circle" if value else "fa-minus-circle"
    return Markup(
        '<span class="fa {}" title="{}" aria-hidden="true"></span><span class="sr-only">{}</span>'
    ).format(icon, word, word)


# Flask-Admin's lists show dates and times through these (its own print them raw, down to
# the microsecond), and yes/no in the page's language. It takes the first type the value is
# an instance of: a datetime is a date too, so it comes first.
ADMIN_TYPE_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    bool: admin_yes_no,
    datetime: admin_when,
    date: admin_day,
}


def date_picker_locale() -> dict[str, Any]:
    """The date picker's words and first weekday in the page's language, taken from Babel's
    CLDR data (moment.js, which the picker uses, ships English only)."""
    code = str(get_locale() or "en")
    locale = Locale.parse(code)
    weekdays = [get_day_names("wide", locale=locale)[index] for index in SUNDAY_FIRST]
    weekdays_short = [get_day_names("abbreviated", locale=locale)[index] for index in SUNDAY_FIRST]
    weekdays_min = [get_day_names("short", locale=locale)[index] for index in SUNDAY_FIRST]
    return {
        "name": f"mcbridge-{code}",
        "months": list(get_month_names("wide", locale=locale).values()),
        "monthsShort": list(get_month_names("abbreviated", locale=locale).values()),
        "weekdays": weekdays,
        "weekdaysShort": weekdays_short,
        "weekdaysMin": weekdays_min,
        # Babel counts weekdays from Monday (0), moment.js from Sunday (0).
        "week": {"dow": (locale.first_week_day + 1) % 7, "doy": 4},
        # The picker's own words, which it keeps in English unless given them.
        "labels": {
            "applyLabel": gettext("Apply"),
            "cancelLabel": gettext("Cancel"),
            "fromLabel": gettext("From"),
            "toLabel": gettext("To"),
            "weekLabel": gettext("Wk"),
            "customRangeLabel": gettext("Custom range"),
        },
    }


SUNDAY_FIRST = (6, 0, 1, 2, 3, 4, 5)  # Babel's weekday numbers, in moment.js's order


def template_context() -> dict[str, object]:
    """The language menu's entries and the page's language, for every template."""
    return {
        "mcbridge_languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "current_language": str(get_locale() or "en"),
        "date_picker_locale": date_picker_locale,
    }


def init_i18n(app: Flask) -> None:
    """Register mcbridge's catalogs, next to the host's own when it already uses Babel.

    A host with Flask-Babel (initialised before mcbridge) keeps its own locale and time zone
    selectors; mcbridge's pages then speak the host's choice. A host without Babel gets
    Flask-Babel initialised by mcbridge, with mcbridge's selectors (saved preference, menu
    choice, browser, English; BABEL_DEFAULT_TIMEZONE) for the whole app: Babel has one
    selector per app, and the host had none to keep. README's "Add mcbridge to your Flask
    application" says so."""
    app.context_processor(template_context)
    app.add_template_filter(render_messages, "messages")
    app.add_template_filter(when, "when")
    app.add_template_filter(day, "day")
    app.add_template_filter(number, "number")
    if "babel" in app.extensions:
        app.extensions["babel"].translation_directories.append(str(TRANSLATIONS))
        return
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
