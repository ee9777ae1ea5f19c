"""Messages recorded now and read later, in the reader's language.

A run records its outcome in a worker, where there is no reader; the page that shows it
may be read in French, German or English. So runs store the message id (the English text,
marked for translation with `N_`) and its parameters, and translate when shown. Text that
comes from Mailchimp is stored as it came.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext


def N_(message: str) -> str:  # noqa: N802 (the conventional name for "translate later")
    """Marks a message for the translation catalogs without translating it now."""
    return message


@dataclass(frozen=True)
class Message:
    """A message id with its parameters, or (`raw`) text that is never translated."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)
    raw: bool = False

    def render(self) -> str:
        if self.raw:
            return self.text
        return gettext(self.text, **self.params)

    def dump(self) -> dict[str, Any]:
        return {"raw": self.text} if self.raw else {"id": self.text, "params": self.params}


def raw(text: str) -> Message:
    return Message(text, raw=True)


def dumps(messages: list[Message]) -> str | None:
    return json.dumps([message.dump() for message in messages]) if messages else None


def loads(stored: str | None) -> list[Message]:
    """Stored messages; anything not in this format reads back as raw text."""
    if not stored:
        return []
    try:
        items = json.loads(stored)
    except ValueError:
        return [raw(stored)]
    if not isinstance(items, list):
        return [raw(stored)]
    return [
        raw(item["raw"]) if "raw" in item else Message(item["id"], item.get("params") or {})
        for item in items
    ]


def render(stored: str | None) -> str:
    return "\n".join(message.render() for message in loads(stored))


# email-validator explains a refused address in English only. The sentences people meet
# when they mistype an address are said again in our catalogs, matched by their beginning
# (some end with the characters at fault); any other reads as the general sentence.
EMAIL_PROBLEMS = (
    ("An email address must have an @-sign.", N_("It has no @ sign.")),
    ("There must be something before the @-sign.", N_("Nothing comes before the @ sign.")),
    ("There must be something after the @-sign.", N_("Nothing comes after the @ sign.")),
    ("An email address cannot have two periods in a row.", N_("It has two dots in a row.")),
    ("An email address cannot start with a period.", N_("It starts with a dot.")),
    ("An email address cannot end with a period.", N_("It ends with a dot.")),
    (
        "An email address cannot have a period immediately before the @-sign.",
        N_("A dot comes just before the @ sign."),
    ),
    (
        "The part after the @-sign is not valid. It should have a period.",
        N_("The part after the @ sign has no dot (as in example.ch)."),
    ),
    (
        "The email address contains invalid characters before the @-sign",
        N_("It has a space or a character not allowed before the @ sign."),
    ),
    (
        "The part after the @-sign contains invalid characters",
        N_("It has a space or a character not allowed after the @ sign."),
    ),
    ("The email address is too long", N_("It is too long.")),
)
EMAIL_PROBLEM = N_("It is not a valid email address.")


def email_problem_text(problem: str) -> str:
    """email-validator's `problem` in the reader's language."""
    for english, ours in EMAIL_PROBLEMS:
        if problem.startswith(english.rstrip(".")):
            return gettext(ours)
    return gettext(EMAIL_PROBLEM)
