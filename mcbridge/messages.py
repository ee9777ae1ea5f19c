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
