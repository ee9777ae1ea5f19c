"""/lists/{id}/segments: static segments, which are also where tags live."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import ApiCall, ApiResult, no_content, ok
from mcbridge_sandbox.api.members import resolve_hash
from mcbridge_sandbox.keys import subscriber_hash
from mcbridge_sandbox.member_writes import MemberWriter, member_writes
from mcbridge_sandbox.models import Audience, Member, Segment

MAX_ITEMS = 500
NAME_LIMIT = 100
NOT_A_MEMBER = "Email address is not a member of this list"


def list_segments(call: ApiCall, list_id: str) -> ApiResult:
    audience = call.audience(list_id)
    offset, count = params.paging(call.query)
    store = call.runtime.store
    only_static = params.choice(call.query, "type", ("saved", "static", "fuzzy")) in (
        None,
        "static",
    )
    found = store.segments.of_audience(audience.pk, offset, count) if only_static else []
    total = store.segments.count_of_audience(audience.pk) if only_static else 0
    return ok(
        {
            "segments": [_shape(call, s, audience) for s in found],
            "list_id": audience.id,
            "total_items": total,
        }
    )


def create_segment(call: ApiCall, list_id: str) -> ApiResult:
    audience = call.audience(list_id)
    body = params.body_object(call.body)
    name = _name(body)
    emails = params.strings(body, "static_segment") or []
    with member_writes(call.runtime, audience) as writer:
        if writer.store.segments.by_name(audience.pk, name) is not None:
            raise problems.invalid_field("name", f'A tag or segment named "{name}" exists.')
        segment = writer.store.segments.create(audience.pk, name, writer.now)
        for member in _members_by_email(writer, emails)[0]:
            writer.join_segment(member, segment, active=True)
    return ok(_shape(call, segment, audience))


def get_segment(call: ApiCall, list_id: str, segment_id: int) -> ApiResult:
    audience = call.audience(list_id)
    return ok(_shape(call, _segment(call, audience, segment_id), audience))


def patch_segment(call: ApiCall, list_id: str, segment_id: int) -> ApiResult:
    """Rename, and with `static_segment` replace the whole membership."""
    audience = call.audience(list_id)
    segment = _segment(call, audience, segment_id)
    body = params.body_object(call.body)
    name = _name(body)
    emails = params.strings(body, "static_segment")
    with member_writes(call.runtime, audience) as writer:
        writer.store.segments.rename(segment, name, writer.now)
        if emails is not None:
            _replace_members(writer, segment, emails)
    return ok(_shape(call, _segment(call, audience, segment_id), audience))


def delete_segment(call: ApiCall, list_id: str, segment_id: int) -> ApiResult:
    audience = call.audience(list_id)
    call.runtime.store.segments.delete(_segment(call, audience, segment_id))
    return no_content()


def batch_segment_members(call: ApiCall, list_id: str, segment_id: int) -> ApiResult:
    audience = call.audience(list_id)
    segment = _segment(call, audience, segment_id)
    body = params.body_object(call.body)
    to_add = _bounded_emails(body, "members_to_add")
    to_remove = _bounded_emails(body, "members_to_remove")
    with member_writes(call.runtime, audience) as writer:
        added, add_missing = _members_by_email(writer, to_add)
        removed, remove_missing = _members_by_email(writer, to_remove)
        added = [m for m in added if writer.join_segment(m, segment, active=True)]
        removed = [m for m in removed if writer.join_segment(m, segment, active=False)]
    missing = add_missing + remove_missing
    errors = [{"email_addresses": missing, "error": NOT_A_MEMBER}] if missing else []
    store = call.runtime.store
    return ok(
        {
            "members_added": shapes.members(store, added, audience),
            "members_removed": shapes.members(store, removed, audience),
            "errors": errors,
            "total_added": len(added),
            "total_removed": len(removed),
            "error_count": len(missing),
        }
    )


def list_segment_members(call: ApiCall, list_id: str, segment_id: int) -> ApiResult:
    audience = call.audience(list_id)
    segment = _segment(call, audience, segment_id)
    offset, count = params.paging(call.query)
    store = call.runtime.store
    members = store.members.by_ids(store.segments.member_ids(segment.id, offset, count))
    return ok(
        {
            "members": shapes.members(store, members, audience),
            "total_items": store.segments.member_count(segment.id),
        }
    )


def add_segment_member(call: ApiCall, list_id: str, segment_id: int) -> ApiResult:
    audience = call.audience(list_id)
    segment = _segment(call, audience, segment_id)
    email = params.required(params.body_object(call.body), "email_address", str)
    with member_writes(call.runtime, audience) as writer:
        member = writer.existing(subscriber_hash(email))
        writer.join_segment(member, segment, active=True)
    return ok(shapes.one_member(call.runtime.store, member, audience))


def remove_segment_member(
    call: ApiCall, list_id: str, segment_id: int, member_id: str
) -> ApiResult:
    audience = call.audience(list_id)
    segment = _segment(call, audience, segment_id)
    with member_writes(call.runtime, audience) as writer:
        member = writer.existing(resolve_hash(member_id))
        if not writer.join_segment(member, segment, active=False):
            raise problems.not_found()
    return no_content()


def _replace_members(writer: MemberWriter, segment: Segment, emails: list[str]) -> None:
    keep, _missing = _members_by_email(writer, emails)
    keep_ids = {m.id for m in keep}
    current = writer.store.segments.member_ids(segment.id)
    for member in writer.store.members.by_ids([i for i in current if i not in keep_ids]):
        writer.join_segment(member, segment, active=False)
    for member in keep:
        writer.join_segment(member, segment, active=True)


def _members_by_email(writer: MemberWriter, emails: list[str]) -> tuple[list[Member], list[str]]:
    writer.prefetch(subscriber_hash(e) for e in emails)
    found: list[Member] = []
    missing: list[str] = []
    for email in emails:
        member = writer.find(subscriber_hash(email))
        if member is None or member.status == "archived":
            missing.append(email)
        else:
            found.append(member)
    return found, missing


def _bounded_emails(body: Mapping[str, Any], name: str) -> list[str]:
    emails = params.strings(body, name) or []
    if len(emails) > MAX_ITEMS:
        raise problems.invalid_field(
            name,
            f"Maximum allowed member items exceeded. Please limit to {MAX_ITEMS} items "
            f"per {name} call.",
        )
    return emails


def _name(body: Mapping[str, Any]) -> str:
    name = params.required(body, "name", str)
    if len(name) > NAME_LIMIT:
        raise problems.invalid_field("name", f"Names are at most {NAME_LIMIT} characters.")
    return name


def _segment(call: ApiCall, audience: Audience, segment_id: int) -> Segment:
    found = call.runtime.store.segments.get(audience.pk, segment_id)
    if found is None:
        raise problems.not_found()
    return found


def _shape(call: ApiCall, segment: Segment, audience: Audience) -> dict[str, Any]:
    count = call.runtime.store.segments.member_count(segment.id)
    return shapes.segment(segment, audience.id, count)
