"""Which Mailchimp merge fields a list fills, and with what.

Both sides of the diff reduce a member to the same canonical string of these values, so
"did anything change?" is one string comparison, whether the values come from the
organisation's data or from Mailchimp.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcbridge.recipients import Recipient

TEXT_LIMIT = 255


@dataclass(frozen=True)
class FieldSpec:
    """One merge field mcbridge fills: its tag, how to create it, where its value comes from."""

    tag: str
    name: str
    type: str
    value: Callable[[Recipient], str]

    def creation(self) -> dict[str, Any]:
        return {"tag": self.tag, "name": self.name, "type": self.type, "public": False}


DEFAULT_FIELDS = (
    FieldSpec("FNAME", "First Name", "text", lambda recipient: recipient.first_name or ""),
    FieldSpec("LNAME", "Last Name", "text", lambda recipient: recipient.last_name or ""),
)


def fields_of(_mailing_list: Any) -> tuple[FieldSpec, ...]:
    """The fields a list fills (the same for every list until field mapping exists)."""
    return DEFAULT_FIELDS


def signature(specs: tuple[FieldSpec, ...]) -> str:
    """Identifies the set of fields, so a mirror read with other fields is read again."""
    return ",".join(spec.tag for spec in specs)


def canonical(values: Mapping[str, str]) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def clean(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return text[:TEXT_LIMIT]


def wanted_values(specs: tuple[FieldSpec, ...], recipient: Recipient) -> dict[str, str]:
    return {spec.tag: clean(spec.value(recipient)) for spec in specs}


def audience_values(
    specs: tuple[FieldSpec, ...], merge_fields: Mapping[str, Any]
) -> dict[str, str]:
    return {spec.tag: clean(merge_fields.get(spec.tag)) for spec in specs}
