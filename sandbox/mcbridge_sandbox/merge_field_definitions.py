"""Creating and changing merge fields: Mailchimp's defaults, tag rules and options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params
from mcbridge_sandbox.models import MERGE_TYPES, Audience, MergeField
from mcbridge_sandbox.store import Store

DEFAULT_FIELDS: tuple[dict[str, Any], ...] = (
    {"tag": "FNAME", "name": "First Name", "type": "text"},
    {"tag": "LNAME", "name": "Last Name", "type": "text"},
    {"tag": "ADDRESS", "name": "Address", "type": "address", "options": {"default_country": 164}},
    {"tag": "PHONE", "name": "Phone Number", "type": "phone", "options": {"phone_format": "none"}},
    {
        "tag": "BIRTHDAY",
        "name": "Birthday",
        "type": "birthday",
        "options": {"date_format": "MM/DD"},
    },
)
TAG_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")
RESERVED_TAGS = ("EMAIL",)
OPTION_CHOICES = {
    "date_format": ("MM/DD/YYYY", "DD/MM/YYYY", "MM/DD", "DD/MM"),
    "phone_format": ("US", "none"),
}


def add_merge_field(store: Store, audience: Audience, spec: Mapping[str, Any]) -> MergeField:
    field_type = params.required(spec, "type", str)
    if field_type not in MERGE_TYPES:
        raise problems.invalid_field("type", f"Must be one of: {', '.join(MERGE_TYPES)}.")
    name = params.required(spec, "name", str)
    options = _options(spec, field_type)
    with store.transaction():
        existing = store.merge_fields.of_audience(audience.pk)
        merge_id = store.audiences.take_merge_id(audience.pk)
        tag = _tag(store, audience, params.optional(spec, "tag", str) or f"MMERGE{merge_id}")
        field = MergeField(
            audience_pk=audience.pk,
            merge_id=merge_id,
            tag=tag,
            name=name,
            type=field_type,
            required=bool(params.optional(spec, "required", bool)),
            default_value=params.optional(spec, "default_value", str) or "",
            public=params.optional(spec, "public", bool) is not False,
            display_order=params.optional(spec, "display_order", int)
            or max((f.display_order for f in existing), default=1) + 1,
            options=options,
            help_text=params.optional(spec, "help_text", str) or "",
        )
        store.merge_fields.insert(field)
    return field


def update_merge_field(store: Store, field: MergeField, spec: Mapping[str, Any]) -> MergeField:
    """PATCH: everything but the type may change; a new tag carries members' values along."""
    new_type = params.optional(spec, "type", str)
    if new_type is not None and new_type != field.type:
        raise problems.invalid_field("type", "The type of a merge field cannot be changed.")
    changes: dict[str, Any] = {}
    for name, kind in (
        ("name", str),
        ("required", bool),
        ("public", bool),
        ("default_value", str),
        ("help_text", str),
        ("display_order", int),
    ):
        value = params.optional(spec, name, kind)
        if value is not None:
            changes[name] = value
    if "options" in spec:
        changes["options"] = {**field.options, **_options(spec, field.type)}
    with store.transaction():
        tag = params.optional(spec, "tag", str)
        if tag is not None and tag.upper() != field.tag:
            changes["tag"] = _tag(store, _audience_of(store, field), tag)
        updated = replace(field, **changes)
        store.merge_fields.save(updated, previous_tag=field.tag)
    return updated


def add_default_fields(store: Store, audience: Audience) -> None:
    for spec in DEFAULT_FIELDS:
        add_merge_field(store, audience, spec)


def _audience_of(store: Store, field: MergeField) -> Audience:
    return store.audiences.by_pk(field.audience_pk)


def _tag(store: Store, audience: Audience, tag: str) -> str:
    tag = tag.upper()
    if not TAG_PATTERN.match(tag):
        raise problems.invalid_field(
            "tag", "A tag has at most 10 characters: letters, digits or _, starting with a letter."
        )
    if tag in RESERVED_TAGS or store.merge_fields.tag_taken(audience.pk, tag):
        raise problems.invalid_field("tag", f'A merge field with the tag "{tag}" already exists.')
    return tag


def _options(spec: Mapping[str, Any], field_type: str) -> dict[str, Any]:
    options = params.optional(spec, "options", dict) or {}
    for name, allowed in OPTION_CHOICES.items():
        if name in options and options[name] not in allowed:
            raise problems.invalid_field(
                f"options.{name}", f"Must be one of: {', '.join(allowed)}."
            )
    if field_type in ("radio", "dropdown"):
        choices = options.get("choices")
        if not isinstance(choices, list) or not choices:
            raise problems.invalid_field(
                "options.choices", "Radio and dropdown fields need a list of choices."
            )
        if not all(isinstance(c, str) for c in choices):
            raise problems.invalid_field("options.choices", "Choices must be text.")
    return dict(options)
