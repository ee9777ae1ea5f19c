"""What Mailchimp refuses: fake addresses, merge values of the wrong type, status changes
it does not allow. Pure functions over the records, so the rules read in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from mcbridge_sandbox import problems
from mcbridge_sandbox.models import Member, MergeField
from mcbridge_sandbox.problems import FieldError

EMAIL_PATTERN = re.compile(
    r"^(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64})@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
FAKE_DOMAINS = ("example.com", "example.org", "example.net")
RESERVED_TLDS = ("test", "example", "invalid", "localhost", "local")
MERGE_INVALID = "Your merge fields were invalid."
TEXT_LIMIT = 255


def check_email(email: str) -> None:
    """Mailchimp refuses malformed, reserved and documentation-only addresses alike."""
    if email_problem(email) is not None:
        raise problems.fake_email(email)


def email_problem(email: str) -> str | None:
    match = EMAIL_PATTERN.match(email)
    if match is None or len(email) > 254 or ".." in email:
        return "malformed"
    local = match["local"]
    if local.startswith(".") or local.endswith("."):
        return "malformed"
    return domain_problem(match["domain"].lower())


@lru_cache(maxsize=4096)
def domain_problem(domain: str) -> str | None:
    """Remembered per domain: an organisation's addresses share a few hundred domains, and a
    large export checks a million addresses."""
    if any(domain == fake or domain.endswith("." + fake) for fake in FAKE_DOMAINS):
        return "documentation domain"
    if domain.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return "reserved top-level domain"
    return None


def check_status_change(member: Member, target: str) -> None:
    """What a write carrying `status` may do, as Mailchimp lets it.

    Only a contact in a compliance state (unsubscribed themselves, bounced, complained) is
    refused `subscribed`; one unsubscribed by an admin or through the API is not [USER].
    An archived contact comes back with whatever status the write sends [USER], even from
    a compliance state [UNVERIFIED: the permissive choice, under which an export that
    writes statuses to archived contacts re-subscribes people, as it may on Mailchimp].
    A cleaned contact stays in its compliance state, but takes any other status
    [UNVERIFIED: the permissive choice; a sandbox stricter than Mailchimp would hide an
    export that writes statuses to cleaned contacts].
    """
    if target == member.status:
        return
    if target == "cleaned":
        raise problems.invalid_field(
            "status", "Only Mailchimp sets cleaned, after a bounce; it cannot be set here."
        )
    if member.status == "archived":
        return
    if target == "subscribed" and member.compliance:
        raise problems.compliance_state(member.email)


def needs_fresh_consent(member: Member) -> bool:
    """Whether setting the contact to subscribed overrides a consent it withdrew or never
    gave: unsubscribed (any way), cleaned, pending, or archived while not subscribed."""
    if member.status == "archived":
        return member.prior_status != "subscribed"
    return member.status in ("unsubscribed", "cleaned", "pending")


class MergeSchema:
    """An audience's merge fields, indexed once per write session rather than per member."""

    def __init__(self, fields: Sequence[MergeField]) -> None:
        self.fields = list(fields)
        self.by_tag = {f.tag: f for f in fields}
        self.required = [f for f in fields if f.required]

    def clean(
        self, values: Mapping[str, Any], *, new_member: bool, skip_required: bool = False
    ) -> dict[str, Any]:
        """Normalised values keyed by tag, or a 400 listing every field that is wrong, each
        by its bare tag (`DOB`, not `merge_fields.DOB`), as Mailchimp names them."""
        cleaned: dict[str, Any] = {}
        errors: list[FieldError] = []
        for tag, value in values.items():
            field = self.by_tag.get(tag.upper())
            if field is None:
                errors.append(FieldError(tag, "This merge field does not exist."))
                continue
            message = _type_error(field, value)
            if message:
                errors.append(FieldError(field.tag, message))
            else:
                cleaned[field.tag] = "" if value is None else value
        if self.required and not skip_required:
            errors.extend(self._missing_required(values, cleaned, new_member))
        if errors:
            raise problems.invalid(MERGE_INVALID, errors)
        return cleaned

    def _missing_required(
        self, given: Mapping[str, Any], cleaned: Mapping[str, Any], new_member: bool
    ) -> list[FieldError]:
        """Required fields left empty; one already reported as wrongly typed is not repeated."""
        given_tags = {tag.upper() for tag in given}
        reported = given_tags - set(cleaned)
        return [
            FieldError(f.tag, "This value is required and cannot be empty.")
            for f in self.required
            if (new_member or f.tag in given_tags)
            and cleaned.get(f.tag) in (None, "")
            and f.tag not in reported
        ]


def _type_error(field: MergeField, value: Any) -> str | None:
    if value is None or value == "":
        return None
    check = TYPE_CHECKS.get(field.type, _text_error)
    return check(field, value)


def _text_error(_field: MergeField, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "Please enter text."
    if len(str(value)) > TEXT_LIMIT:
        return f"Please enter at most {TEXT_LIMIT} characters."
    return None


def _number_error(_field: MergeField, value: Any) -> str | None:
    if isinstance(value, bool):
        return "Please enter a number."
    if isinstance(value, int | float):
        return None
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        return None
    return "Please enter a number."


def _date_error(_field: MergeField, value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return "Please enter a real date."
        return None
    return "Please enter the date as YYYY-MM-DD."


def _birthday_error(_field: MergeField, value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"\d{2}/\d{2}", value):
        month, day = (int(part) for part in value.split("/"))
        try:
            date(2000, month, day)
        except ValueError:
            return "Please enter a real month and day."
        return None
    return "Please enter the birthday as MM/DD."


def _url_error(_field: MergeField, value: Any) -> str | None:
    if isinstance(value, str) and " " not in value:
        parsed = urlparse(value)
        if parsed.scheme in ("http", "https") and parsed.netloc:
            return None
    return "Please enter a valid URL starting with http:// or https://."


def _phone_error(field: MergeField, value: Any) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9+()\-. x]+", value):
        return "Please enter a valid phone number."
    digits = re.sub(r"\D", "", value.split("x")[0])
    if field.options.get("phone_format") == "US":
        if len(digits) == 10 or (len(digits) == 11 and digits.startswith("1")):
            return None
        return "Please enter a US phone number as (###) ###-####."
    if 6 <= len(digits) <= 20:
        return None
    return "Please enter a valid phone number."


def _zip_error(_field: MergeField, value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"\d{5}(-\d{4})?", value):
        return None
    return "Please enter a valid zip code (5 digits)."


def _address_error(_field: MergeField, value: Any) -> str | None:
    if not isinstance(value, dict):
        return "Please enter an address object with addr1, city, state and zip."
    missing = [
        part
        for part in ("addr1", "city", "state", "zip")
        if not isinstance(value.get(part), str) or not value[part].strip()
    ]
    if missing:
        return f"Please enter a complete address; missing: {', '.join(missing)}."
    stray = [k for k, v in value.items() if not isinstance(v, str)]
    if stray:
        return f"Address parts must be text: {', '.join(stray)}."
    return None


def _choice_error(field: MergeField, value: Any) -> str | None:
    choices = field.options.get("choices") or []
    if value in choices:
        return None
    return f"Please choose one of: {', '.join(map(str, choices))}."


TYPE_CHECKS: dict[str, Callable[[MergeField, Any], str | None]] = {
    "text": _text_error,
    "number": _number_error,
    "date": _date_error,
    "birthday": _birthday_error,
    "url": _url_error,
    "imageurl": _url_error,
    "phone": _phone_error,
    "zip": _zip_error,
    "address": _address_error,
    "radio": _choice_error,
    "dropdown": _choice_error,
}
