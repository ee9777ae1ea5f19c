"""A list's condition on one person field ("company contains Migros"), as set-based SQL.

One condition per list (MailingList.filter_field, filter_condition, filter_value), on a
text field or the birthday. It joins the list's other filters (`mcbridge.recipients.
list_filters`), so every reader of the recipients (export, subscriber view, CSV, CLI,
"Why (not)?") applies it.

Text is compared without case by Unicode's rules on both databases (`UnicodeLower`):
"ÉCOLE" is "école" on SQLite as on PostgreSQL. What the leader typed is literal text:
a % or _ in it matches itself, never "anything".

A field left empty (no value, or an empty text) is empty. The negative conditions, "is
not" and "does not contain", keep the people whose field is empty: they are not that
value and do not contain it. The plain words on the subscriber view say so ("… or is
empty"). The positive ones, and a birthday before or after a day, leave them out, as the
age filters leave out people without a birthday.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import ColumnElement, literal, or_
from sqlalchemy.orm import InstrumentedAttribute

from mcbridge.models import MailingList, Person
from mcbridge.sql import UnicodeLower

BIRTHDAY = "birthday"
FIELDS: dict[str, InstrumentedAttribute[Any]] = {
    "first_name": Person.first_name,
    "last_name": Person.last_name,
    "nickname": Person.nickname,
    "company": Person.company,
    "email": Person.email,
    BIRTHDAY: Person.birthday,
}
# As they read inside a sentence: "whose company contains …".
FIELD_NAMES = {
    "first_name": lazy_gettext("first name"),
    "last_name": lazy_gettext("last name"),
    "nickname": lazy_gettext("nickname"),
    "company": lazy_gettext("company"),
    "email": lazy_gettext("main e-mail address"),
    BIRTHDAY: lazy_gettext("birthday"),
}
CONDITION_NAMES = {
    "is": lazy_gettext("is"),
    "is_not": lazy_gettext("is not"),
    "contains": lazy_gettext("contains"),
    "not_contains": lazy_gettext("does not contain"),
    "starts_with": lazy_gettext("starts with"),
    "before": lazy_gettext("before"),
    "after": lazy_gettext("after"),
    "empty": lazy_gettext("is empty"),
    "not_empty": lazy_gettext("is not empty"),
}
TEXT_CONDITIONS = ("is", "is_not", "contains", "not_contains", "starts_with", "empty", "not_empty")
DATE_CONDITIONS = ("before", "after", "empty", "not_empty")
WITHOUT_VALUE = ("empty", "not_empty")
LIKE_ESCAPE = "/"


def conditions_for(field: str) -> tuple[str, ...]:
    return DATE_CONDITIONS if field == BIRTHDAY else TEXT_CONDITIONS


def field_condition(mailing_list: MailingList) -> ColumnElement[bool] | None:
    """The list's condition on a person field, or None when it has none."""
    field, condition = mailing_list.filter_field, mailing_list.filter_condition
    if not field or not condition:
        return None
    if field == BIRTHDAY:
        return date_condition(condition, mailing_list.filter_value)
    return text_condition(FIELDS[field], condition, mailing_list.filter_value or "")


def date_condition(condition: str, value: str | None) -> ColumnElement[bool]:
    """The birthday before or after a day (stored as ISO text), or (not) empty."""
    column = Person.birthday
    if condition == "empty":
        return column.is_(None)
    if condition == "not_empty":
        return column.is_not(None)
    day = date.fromisoformat(value or "")
    return column < day if condition == "before" else column > day


def text_condition(
    column: InstrumentedAttribute[Any], condition: str, value: str
) -> ColumnElement[bool]:
    """A text field compared without case; the negations keep the empty field."""
    empty = or_(column.is_(None), column == "")
    if condition == "empty":
        return empty
    if condition == "not_empty":
        return ~empty
    lowered = UnicodeLower(column)
    if condition in ("is", "is_not"):
        same = lowered == UnicodeLower(literal(value))
        return same if condition == "is" else or_(empty, ~same)
    pattern = escape_like(value) + "%"
    if condition != "starts_with":
        pattern = "%" + pattern
    matches = lowered.like(UnicodeLower(literal(pattern)), escape=LIKE_ESCAPE)
    return matches if condition != "not_contains" else or_(empty, ~matches)


def escape_like(value: str) -> str:
    """The text as a LIKE pattern that matches it literally: % and _ typed by the leader
    are letters, not wildcards."""
    for special in (LIKE_ESCAPE, "%", "_"):
        value = value.replace(special, LIKE_ESCAPE + special)
    return value
