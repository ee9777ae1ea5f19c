"""The JSON documents the API returns, shaped like Mailchimp's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from mcbridge_sandbox.api.projection import SIMPLE_MEMBER_FIELDS
from mcbridge_sandbox.models import Audience, Batch, Member, MergeField, Segment, Webhook
from mcbridge_sandbox.store import Store

Tags = Sequence[tuple[int, str, str]]


def member(item: Member, audience: Audience, fields: Sequence[MergeField], tags: Tags) -> dict:
    """Every merge field of the audience appears, empty ones as "" (as Mailchimp does);
    on a GDPR-enabled audience, every marketing permission, on or off."""
    audience_id = audience.id
    merges = {f.tag: item.merge_fields.get(f.tag, "") for f in fields}
    full_name = " ".join(str(merges.get(t) or "") for t in ("FNAME", "LNAME")).strip()
    document: dict[str, Any] = {
        "id": item.hash,
        "email_address": item.email,
        "unique_email_id": item.unique_email_id,
        "contact_id": item.unique_email_id,
        "full_name": full_name,
        "web_id": item.web_id,
        "email_type": item.email_type,
        "status": item.status,
        "consents_to_one_to_one_messaging": True,
        "merge_fields": merges,
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": item.ip_signup,
        "timestamp_signup": item.timestamp_signup,
        "ip_opt": item.ip_opt,
        "timestamp_opt": item.timestamp_opt,
        "member_rating": 2,
        "last_changed": item.last_changed,
        "language": item.language,
        "vip": item.vip,
        "email_client": "",
        "location": {"latitude": 0, "longitude": 0, "gmtoff": 0, "dstoff": 0, "country_code": ""},
        "source": item.source,
        "tags_count": len(tags),
        "tags": [{"id": tag_id, "name": name} for tag_id, name, _added in tags],
        "list_id": audience_id,
    }
    if item.status == "unsubscribed":
        document["unsubscribe_reason"] = item.unsubscribe_reason
    if audience.marketing_permissions:
        document["marketing_permissions"] = [
            {
                "marketing_permission_id": permission.id,
                "text": permission.text,
                "enabled": item.marketing_permissions.get(permission.id, False),
            }
            for permission in audience.marketing_permissions
        ]
    return document


def simple_member(item: Member, names: Sequence[str]) -> dict[str, Any]:
    """Only plain attributes, for a projected answer (see projection.simple_fields)."""
    return {name: getattr(item, SIMPLE_MEMBER_FIELDS[name]) for name in names}


def members(
    store: Store,
    items: Sequence[Member],
    audience: Audience,
    fields: Sequence[MergeField] | None = None,
) -> list[dict]:
    """Many members with two queries in all (merge fields, tags), not two per member;
    callers that already hold the merge fields pass them to save one."""
    if fields is None:
        fields = store.merge_fields.of_audience(audience.pk)
    tags = store.segments.tags_of(m.id for m in items)
    return [member(m, audience, fields, tags.get(m.id, [])) for m in items]


def one_member(
    store: Store, item: Member, audience: Audience, fields: Sequence[MergeField] | None = None
) -> dict:
    return members(store, [item], audience, fields)[0]


def links(root_url: str, path: str) -> list[dict[str, str]]:
    """Hypermedia links as Mailchimp adds them; the sandbox keeps to self and parent."""
    href = f"{root_url.rstrip('/')}/3.0/{path}"
    return [
        {"rel": "self", "href": href, "method": "GET"},
        {"rel": "parent", "href": href.rsplit("/", 1)[0], "method": "GET"},
    ]


def audience(store: Store, item: Audience) -> dict[str, Any]:
    counts = store.members.status_counts(item.pk)
    return {
        "id": item.id,
        "web_id": item.web_id,
        "name": item.name,
        "contact": {
            "company": "",
            "address1": "",
            "city": "",
            "state": "",
            "zip": "",
            "country": "",
        },
        "permission_reminder": "",
        "use_archive_bar": False,
        "campaign_defaults": {"from_name": "", "from_email": "", "subject": "", "language": ""},
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": item.date_created,
        "list_rating": 0,
        "email_type_option": False,
        "subscribe_url_short": "",
        "subscribe_url_long": "",
        "beamer_address": "",
        "visibility": "prv",
        "double_optin": False,
        "has_welcome": False,
        # "Whether or not the list has marketing permissions (eg. GDPR) enabled" [DOC].
        "marketing_permissions": bool(item.marketing_permissions),
        "modules": [],
        "stats": {
            "member_count": counts.get("subscribed", 0),
            "unsubscribe_count": counts.get("unsubscribed", 0),
            "cleaned_count": counts.get("cleaned", 0),
            "member_count_since_send": counts.get("subscribed", 0),
            "unsubscribe_count_since_send": counts.get("unsubscribed", 0),
            "cleaned_count_since_send": counts.get("cleaned", 0),
            "campaign_count": 0,
            "merge_field_count": len(store.merge_fields.of_audience(item.pk)),
            "avg_sub_rate": 0,
            "avg_unsub_rate": 0,
            "target_sub_rate": 0,
            "open_rate": 0,
            "click_rate": 0,
        },
    }


def merge_field(item: MergeField, audience_id: str) -> dict[str, Any]:
    return _of_audience(item, audience_id)


def segment(item: Segment, audience_id: str, member_count: int) -> dict[str, Any]:
    return _of_audience(item, audience_id, member_count=member_count, type="static", options={})


def webhook(item: Webhook, audience_id: str) -> dict[str, Any]:
    return _of_audience(item, audience_id)


def _of_audience(item: Any, audience_id: str, **extra: Any) -> dict[str, Any]:
    """Records whose JSON is their fields, with the public list id instead of our key."""
    document = {k: v for k, v in asdict(item).items() if k != "audience_pk"}
    return {**document, **extra, "list_id": audience_id}


def batch(item: Batch) -> dict[str, Any]:
    finished = item.status == "finished"
    return {
        "id": item.id,
        "status": item.status,
        "total_operations": item.total_operations,
        "finished_operations": item.finished_operations,
        "errored_operations": item.errored_operations,
        "submitted_at": item.submitted_at,
        "completed_at": item.completed_at,
        "response_body_url": item.results_url if finished else "",
    }
