"""The records the sandbox keeps, as plain dataclasses shared by the store and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived")
WRITABLE_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
# A contact's `language`: the codes of Mailchimp's "View and edit contact languages" page.
LANGUAGE_CODES = frozenset(
    (
        "en",
        "ar",
        "af",
        "be",
        "bg",
        "ca",
        "zh",
        "hr",
        "cs",
        "da",
        "nl",
        "et",
        "fa",
        "fi",
        "fr",
        "fr_CA",
        "de",
        "el",
        "he",
        "hi",
        "hu",
        "is",
        "id",
        "ga",
        "it",
        "ja",
        "km",
        "ko",
        "lv",
        "lt",
        "mt",
        "ms",
        "mk",
        "no",
        "pl",
        "pt",
        "pt_PT",
        "ro",
        "ru",
        "sr",
        "sk",
        "sl",
        "es",
        "es_ES",
        "sw",
        "sv",
        "ta",
        "th",
        "tr",
        "uk",
        "vi",
    )
)
MERGE_TYPES = (
    "text",
    "number",
    "address",
    "phone",
    "date",
    "url",
    "imageurl",
    "radio",
    "dropdown",
    "birthday",
    "zip",
)
WEBHOOK_EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
WEBHOOK_SOURCES = ("user", "admin", "api")


@dataclass(frozen=True)
class Account:
    id: int
    api_key: str
    dc: str
    created_at: str


@dataclass(frozen=True)
class MarketingPermission:
    """One of a GDPR audience's marketing permissions ("Email", "Direct Mail"...)."""

    id: str
    text: str


@dataclass(frozen=True)
class Audience:
    pk: int
    id: str
    account_id: int
    name: str
    web_id: int
    date_created: str
    marketing_permissions: tuple[MarketingPermission, ...] = ()
    """Set only on GDPR-enabled audiences: each contact then has each one on or off."""


@dataclass
class Member:
    id: int
    audience_pk: int
    hash: str
    email: str
    unique_email_id: str
    web_id: int
    status: str
    prior_status: str
    merge_fields: dict[str, Any]
    email_type: str
    language: str
    vip: bool
    ip_signup: str
    timestamp_signup: str
    ip_opt: str
    timestamp_opt: str
    unsubscribe_reason: str
    source: str
    last_changed: str
    compliance: bool = False
    """In a compliance state (unsubscribed themselves, bounced hard, complained of spam):
    Mailchimp refuses to set such a contact to subscribed. Never shown by the API."""
    marketing_permissions: dict[str, bool] = field(default_factory=dict)
    """The permissions given, by id; one not named here is off."""


@dataclass
class MergeField:
    audience_pk: int
    merge_id: int
    tag: str
    name: str
    type: str
    required: bool
    default_value: str
    public: bool
    display_order: int
    options: dict[str, Any]
    help_text: str


@dataclass(frozen=True)
class Segment:
    id: int
    audience_pk: int
    name: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Webhook:
    id: str
    audience_pk: int
    url: str
    events: dict[str, bool]
    sources: dict[str, bool]


@dataclass(frozen=True)
class Batch:
    id: str
    account_id: int
    status: str
    total_operations: int
    finished_operations: int
    errored_operations: int
    submitted_at: str
    completed_at: str
    results_url: str


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour; `remaining` None means it stays until cleared.

    `min_count`: applies only to requests asking for pages of at least that many items.
    `shift` and `served`: a shifting member listing's step and the calls served so far.
    `per_member_ms`: a latency fault's time per member in the call, on top of `latency_ms`.
    """

    id: int
    kind: str
    status: int
    retry_after: int | None
    with_body: bool
    latency_ms: int
    remaining: int | None
    account_id: int | None
    method: str | None
    path_prefix: str | None
    min_count: int | None = None
    shift: int = 0
    served: int = 0
    per_member_ms: int = 0


@dataclass(frozen=True)
class Delay:
    """How long the latency faults that match a call make it take: Mailchimp takes longer
    for a batch of 500 than for one member, so the time may grow with the members in it."""

    fixed_ms: int = 0
    per_member_ms: int = 0

    def seconds(self, members: int) -> float:
        return (self.fixed_ms + self.per_member_ms * members) / 1000


@dataclass(frozen=True)
class WriteOrigin:
    """The request behind a write, as the consent ledger records it (empty outside the
    API: simulations)."""

    method: str = ""
    path: str = ""
    key: str = ""
    batch_id: str = ""


@dataclass(frozen=True)
class Resubscription:
    """A contact set back to subscribed without their own sign-up: one consent ledger line.

    `status_before` is the status the API showed; for an archived contact,
    `archived_from` is the status it had when it was archived.
    """

    id: int
    at: str
    audience_id: str
    email: str
    status_before: str
    archived_from: str
    method: str
    path: str
    key: str
    batch_id: str


@dataclass(frozen=True)
class LoggedRequest:
    """One API call; `members`: the members in it, as a latency per member counts them
    (see `faults.members_in_call`), so a benchmark can tell what a latency model cost."""

    id: int
    at: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    key: str
    account_id: int | None = field(default=None, repr=False)
    members: int = 1
