"""Date fields that read dates the way people type them in their language.

A Swiss leader types a birthday as 15.03.1990, whatever the page's language; the ISO form
(1990-03-15) is what the date picker used to write and stays accepted everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_admin.form import DatePickerWidget
from flask_admin.model.form import converts
from flask_babel import LazyString, gettext
from markupsafe import Markup
from wtforms import Field
from wtforms.fields import DateField

from mcbridge.admin.choices import BlankChoiceConverter
from mcbridge.i18n import page_language

EXAMPLE = date(1990, 3, 15)

DAY_MONTH_YEAR = re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})")
DAY_MONTH_YEAR_SLASHES = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})")
ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
SHORT_YEAR = re.compile(r"\d{1,2}[./]\d{1,2}[./]\d{2}")


@dataclass(frozen=True)
class DateStyle:
    """How one language writes a date: shown in the field, by the picker, and read back.
    Slashes are read as day/month only in French (in English they could be month/day)."""

    shown: str
    picker: str
    readable: tuple[re.Pattern[str], ...]


DOTTED = DateStyle("%d.%m.%Y", "DD.MM.YYYY", (DAY_MONTH_YEAR, ISO))
STYLES = {
    "fr": DateStyle("%d.%m.%Y", "DD.MM.YYYY", (DAY_MONTH_YEAR, DAY_MONTH_YEAR_SLASHES, ISO)),
    "de": DOTTED,
    "en": DateStyle("%Y-%m-%d", "YYYY-MM-DD", (ISO, DAY_MONTH_YEAR)),
}


def date_style() -> DateStyle:
    return STYLES.get(page_language(), STYLES["en"])


def format_hint() -> str:
    """The expected form, spelled with this language's letters for day, month and year."""
    if date_style().picker == "DD.MM.YYYY":
        return gettext("DD.MM.YYYY")
    return gettext("YYYY-MM-DD")


def example() -> str:
    return EXAMPLE.strftime(date_style().shown)


def parse_date(text: str) -> date:
    """The date typed, or a ValueError whose message says what is wrong with it."""
    for pattern in date_style().readable:
        found = pattern.fullmatch(text)
        if found:
            return calendar_day(text, found)
    if SHORT_YEAR.fullmatch(text):
        raise ValueError(
            gettext(
                "“%(value)s”: write the year with its four digits, for example %(example)s.",
                value=text,
                example=example(),
            )
        )
    raise ValueError(
        gettext(
            "“%(value)s” is not a date: write it as %(format)s, for example %(example)s.",
            value=text,
            format=format_hint(),
            example=example(),
        )
    )


def calendar_day(text: str, found: re.Match[str]) -> date:
    try:
        return date(int(found["year"]), int(found["month"]), int(found["day"]))
    except ValueError:
        raise ValueError(gettext("“%(value)s” is not a day of the calendar.", value=text)) from None


class LocaleDatePickerWidget(DatePickerWidget):
    """Flask-Admin's date picker, writing dates in the page's language's form."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("data-date-format", date_style().picker)
        kwargs.setdefault("placeholder", format_hint())
        return super().__call__(field, **kwargs)


def field_hint() -> str:
    return gettext("For example %(example)s.", example=example())


class LocaleDateField(DateField):
    """A date typed in the user's language's form or as ISO, refused with a message naming
    the problem; what was typed stays in the field to be corrected."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", LocaleDatePickerWidget())
        kwargs.setdefault("description", LazyString(field_hint))
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = parse_date(text) if text else None

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(str(value) for value in self.raw_data)
        return self.data.strftime(date_style().shown) if self.data else ""


class LocaleModelConverter(BlankChoiceConverter):
    """Flask-Admin's form builder, with date columns read by LocaleDateField."""

    @converts("Date")
    def convert_date(self, field_args: dict[str, Any], **_extra: Any) -> LocaleDateField:
        return LocaleDateField(**field_args)
