"""Which Mailchimp merge fields a list fills, from which person field, in which format.

Email is fixed. By default FNAME ← first name and LNAME ← last name; each can be turned off
and more can be added ("Add attribute"). A value that does not fit its Mailchimp field
(a text in a number field, a value outside a dropdown's choices) is left out for that
person and reported, never sent.

The contact's own Mailchimp `language` travels as one more value after the list's fields
(under a key no merge field tag can have), so the diff, the audience copy and the writes
treat a changed language exactly like a changed field: a PATCH without a status.

Both sides of the diff reduce a member to the same string of these values, in the list's
field order, so "did anything change?" is usually one string comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from operator import attrgetter
from typing import Any

from flask_babel import lazy_gettext

from mcbridge.messages import N_, Message
from mcbridge.models import GENDERS, LANGUAGES
from mcbridge.recipients import Recipient

TEXT_LIMIT = 255
TAG_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")
# A field the leader chose to empty: every export writes it blank for the list's
# recipients. Removing a field only stops writing it; emptying is asked for, never implied.
EMPTIED = "emptied"
# The key of the contact's language among the values sent: lower case, so never a merge
# field's tag (TAG_PATTERN), and the name of the member's attribute in Mailchimp.
CONTACT_LANGUAGE = "language"


@dataclass(frozen=True)
class Source:
    """A person field that can fill a merge field, and the field mcbridge creates for it."""

    label: Any
    tag: str
    type: str
    value: Callable[[Recipient], Any]
    choices: tuple[str, ...] = ()


SOURCES: dict[str, Source] = {
    "first_name": Source(lazy_gettext("First name"), "FNAME", "text", attrgetter("first_name")),
    "last_name": Source(lazy_gettext("Last name"), "LNAME", "text", attrgetter("last_name")),
    "nickname": Source(lazy_gettext("Nickname"), "NICKNAME", "text", attrgetter("nickname")),
    "gender": Source(lazy_gettext("Gender"), "GENDER", "dropdown", attrgetter("gender"), GENDERS),
    "birthday": Source(lazy_gettext("Birthday"), "BIRTHDAY", "birthday", attrgetter("birthday")),
    "company": Source(lazy_gettext("Company"), "COMPANY", "text", attrgetter("company")),
    "language": Source(
        lazy_gettext("Language"), "LANGUAGE", "dropdown", attrgetter("language"), LANGUAGES
    ),
    "groups": Source(
        lazy_gettext("Groups within this list's reach"),
        "GROUPS",
        "text",
        lambda r: ", ".join(r.group_names),
    ),
    EMPTIED: Source(
        lazy_gettext("Nothing: empty the field in Mailchimp"), "", "any", lambda _recipient: None
    ),
}
DEFAULT_MAP = ({"source": "first_name", "tag": "FNAME"}, {"source": "last_name", "tag": "LNAME"})
CREATION_NAMES = {"FNAME": "First Name", "LNAME": "Last Name"}


class InvalidValueError(ValueError):
    """A value that does not fit its merge field; `message` says why."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.text)
        self.message = message


@dataclass(frozen=True)
class FieldSpec:
    """One merge field mcbridge fills: the audience's tag and type, and the source."""

    tag: str
    source: str
    type: str
    choices: tuple[str, ...] = field(default=())

    @property
    def origin(self) -> Source:
        return SOURCES[self.source]

    @cached_property
    def is_merge_field(self) -> bool:
        """False for the contact's language, which Mailchimp keeps beside the merge fields."""
        return self.tag != CONTACT_LANGUAGE

    def creation(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "tag": self.tag,
            "name": CREATION_NAMES.get(self.tag, str(self.origin.label)),
            "type": self.type,
            "public": False,
        }
        if self.choices:
            spec["options"] = {"choices": list(self.choices)}
        return spec

    @cached_property
    def format(self) -> Callable[[Recipient], str | None]:
        """The value for a recipient as Mailchimp wants it for this field's type, or
        InvalidValueError. None leaves it out: a person without a language leaves their
        contact's language as Mailchimp has it (set by a sign-up form, say) rather than
        erasing it.

        Made once per field, a function of the recipient alone: an export formats every
        field of a million recipients, and looking up the field's source and kind each
        time doubled the cost (2.6 µs a recipient for three fields, against 1.3 µs)."""
        value, kind, choices = self.origin.value, self.type, self.choices
        if not self.is_merge_field:
            return lambda recipient: value(recipient) or None
        if kind == "text":
            return lambda recipient: text_of(value(recipient))
        return lambda recipient: formatted(value(recipient), kind, choices)

    @cached_property
    def encoded(self) -> Callable[[Recipient], str]:
        """`format` as `encode` writes its value: a value left out as LEFT_OUT."""
        if self.is_merge_field:
            return self.format
        value = self.origin.value
        return lambda recipient: value(recipient) or LEFT_OUT


# Every export sends the contact's language (the person's, when they have one).
LANGUAGE_SPEC = FieldSpec(CONTACT_LANGUAGE, "language", "text")


def text_of(value: Any) -> str:
    """`formatted(value, "text")`, a text that needs no cleaning first: names and
    companies, a million of each per large export."""
    if type(value) is str:
        text = value.strip()
        if text.isprintable():
            return text[:TEXT_LIMIT]
    return formatted(value, "text")


def formatted(value: Any, kind: str, choices: tuple[str, ...] = ()) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        if kind == "birthday":
            return value.strftime("%m/%d")
        if kind in ("date", "text"):
            return value.isoformat()
        raise InvalidValueError(
            Message(N_("%(tag)s left out: a date cannot go into a %(kind)s field"), {"kind": kind})
        )
    text = clean(value)
    if kind == "text":
        return text
    problem = text_problem(text, kind, choices)
    if problem:
        params = {"value": text, "kind": kind, "choices": ", ".join(choices)}
        raise InvalidValueError(Message(problem, params))
    return text


def text_problem(text: str, kind: str, choices: tuple[str, ...]) -> str | None:
    """Why a text does not fit a field of this type (a message id, naming the field as
    %(tag)s), or None."""
    if kind in ("dropdown", "radio") and text not in choices:
        return N_("%(tag)s left out: “%(value)s” is not one of the field's choices (%(choices)s)")
    if kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return N_("%(tag)s left out: “%(value)s” is not a number")
    if kind in ("url", "imageurl") and not re.match(r"https?://", text):
        return N_("%(tag)s left out: “%(value)s” is not a web address")
    if kind in ("birthday", "date", "address"):
        return N_("%(tag)s left out: “%(value)s” does not fit a %(kind)s field")
    return None


def field_map(mailing_list: Any) -> list[dict[str, str]]:
    """The list's choices of fields (the default when it never chose)."""
    chosen = mailing_list.merge_field_map
    return [dict(item) for item in (DEFAULT_MAP if chosen is None else chosen)]


def fields_of(
    mailing_list: Any, audience_types: Mapping[str, tuple[str, tuple[str, ...]]] | None = None
) -> tuple[FieldSpec, ...]:
    """The specs of a list's fields, then the contact's language; a field that exists in
    the audience keeps its type. A field to empty that the audience does not have is
    skipped: nothing to empty, and nothing to create."""
    specs = []
    for item in field_map(mailing_list):
        if item["source"] == EMPTIED and item["tag"] not in (audience_types or {}):
            continue
        source = SOURCES[item["source"]]
        kind, choices = (audience_types or {}).get(item["tag"], (source.type, source.choices))
        specs.append(FieldSpec(item["tag"], item["source"], kind, tuple(choices)))
    return (*specs, LANGUAGE_SPEC)


def signature(specs: tuple[FieldSpec, ...]) -> str:
    """Identifies the set of fields, so a copy read with other fields is read again."""
    return ",".join(spec.tag for spec in specs)


# Control characters that clean() never lets through, so no value can contain them;
# PostgreSQL text refuses NUL, hence not \x00.
SEPARATOR = "\x1f"
LEFT_OUT = "\x1e"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f]")
NO_PROBLEMS: tuple[Message, ...] = ()  # a recipient whose values all fit


def encode(values: list[str | None]) -> str:
    """Values in field order as one string; None (left out) compares equal to anything."""
    return SEPARATOR.join([LEFT_OUT if value is None else value for value in values])


def decode(fields: str, tags: tuple[str, ...]) -> dict[str, str]:
    """The merge fields to send: tag → value, without the values left out."""
    if not tags:
        return {}
    pairs = zip(tags, fields.split(SEPARATOR), strict=True)
    return {tag: value for tag, value in pairs if value != LEFT_OUT}


def member_body(fields: str, tags: tuple[str, ...]) -> dict[str, Any]:
    """What a write sends of a member's values: the merge fields, and the contact's
    language beside them when there is one to send."""
    values = decode(fields, tags)
    language = values.pop(CONTACT_LANGUAGE, None)
    body: dict[str, Any] = {"merge_fields": values}
    if language:
        body[CONTACT_LANGUAGE] = language
    return body


def clean(value: Any) -> str:
    """A text value as stored in Mailchimp: trimmed, limited, no control characters."""
    text = str(value).strip()
    if not text.isprintable():
        text = CONTROL_CHARACTERS.sub(" ", text)
    return text[:TEXT_LIMIT]


def wanted_values(
    specs: tuple[FieldSpec, ...], recipient: Recipient
) -> tuple[list[str | None], list[Message]]:
    """The values to send in field order (None where left out), and why each value left
    out did not fit its field."""
    values: list[str | None] = []
    problems: list[Message] = []
    for spec in specs:
        try:
            values.append(spec.format(recipient))
        except InvalidValueError as invalid:
            values.append(None)
            problems.append(
                Message(invalid.message.text, {**invalid.message.params, "tag": spec.tag})
            )
    return values, problems


def encoder(
    specs: tuple[FieldSpec, ...],
) -> Callable[[Recipient], tuple[str, Sequence[Message]]]:
    """A recipient's values in field order as `encode` writes them, and why values were
    left out: the values encoded as they are made, and only a recipient with a value that
    does not fit its field goes through `wanted_values` to say why. An export encodes a
    million recipients; lists of values and of problems built for each cost it a second."""
    formats = tuple(spec.encoded for spec in specs)
    join = SEPARATOR.join

    def encoded(recipient: Recipient) -> tuple[str, Sequence[Message]]:
        try:
            return join([value(recipient) for value in formats]), NO_PROBLEMS
        except InvalidValueError:
            values, problems = wanted_values(specs, recipient)
            return encode(values), problems

    return encoded


def audience_values(specs: tuple[FieldSpec, ...], member: Mapping[str, Any]) -> list[str | None]:
    """The values a member of Mailchimp's answer has, in the order of `specs`."""
    merge_fields = member.get("merge_fields") or {}
    found = [
        merge_fields.get(spec.tag) if spec.is_merge_field else member.get(CONTACT_LANGUAGE)
        for spec in specs
    ]
    return ["" if value is None else clean(value) for value in found]


def same_fields(wanted: str, known: str) -> bool:
    """Equal on every field mcbridge sends (a value left out is not a difference)."""
    if wanted == known:
        return True
    if LEFT_OUT not in wanted:
        return False
    head, separator, last = wanted.rpartition(SEPARATOR)
    if separator and last == LEFT_OUT and LEFT_OUT not in head:
        # Only the last value left out (a person without a language): a million of them.
        known_head, known_separator, _ = known.rpartition(SEPARATOR)
        return bool(known_separator) and known_head == head
    sent, present = wanted.split(SEPARATOR), known.split(SEPARATOR)
    if len(sent) != len(present):
        return False
    for value, found in zip(sent, present, strict=True):
        if value != found and value != LEFT_OUT:
            return False
    return True
