"""POST /lists/{id}: up to 500 members in one call, answered 200 with per-member errors.

Each member needs `status`; `update_existing` decides whether existing members get it
(archived ones come back with it either way); tags apply to new members only.
"""

from __future__ import annotations

from typing import Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import ApiCall, ApiResult, ok
from mcbridge_sandbox.api.members import BATCH_SUBSCRIBE_FIELDS, member_input
from mcbridge_sandbox.api.projection import simple_fields, wanted
from mcbridge_sandbox.keys import subscriber_hash
from mcbridge_sandbox.member_writes import MemberWriter, member_writes
from mcbridge_sandbox.models import Member

MAX_MEMBERS = 500


def batch_subscribe(call: ApiCall, list_id: str) -> ApiResult:
    audience = call.audience(list_id)
    body = params.body_object(call.body)
    entries = params.required(body, "members", list)
    if len(entries) > MAX_MEMBERS:
        raise problems.invalid_field(
            "members", f"You may only batch subscribe {MAX_MEMBERS} members at a time."
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise problems.invalid_field(
                f"members.item:{index}",
                f"Schema describes object, {params.json_type(entry)} found.",
            )
    update_existing = bool(params.optional(body, "update_existing", bool))
    sync_tags = bool(params.optional(body, "sync_tags", bool))
    created: list[Member] = []
    updated: list[Member] = []
    errors: list[dict[str, Any]] = []
    hashes = _hashes(entries)
    with member_writes(call.runtime, audience, origin=call.origin()) as writer:
        writer.prefetch(hashes.values())
        writer.defer_inserts()
        for entry in entries:
            try:
                member, is_new = _subscribe_one(writer, entry, hashes, update_existing, sync_tags)
            except problems.ApiError as problem:
                errors.append(_error(entry, problem))
                continue
            (created if is_new else updated).append(member)
    return ok(
        {
            "new_members": _shaped(call, writer, "new_members", created),
            "updated_members": _shaped(call, writer, "updated_members", updated),
            "errors": errors,
            "total_created": len(created),
            "total_updated": len(updated),
            "error_count": len(errors),
        }
    )


def _shaped(
    call: ApiCall, writer: MemberWriter, key: str, members: list[Member]
) -> list[dict[str, Any]]:
    if not wanted(call.query, key):
        return []
    simple = simple_fields(call.query, key)
    if simple:
        return [shapes.simple_member(member, simple) for member in members]
    return shapes.members(call.runtime.store, members, writer.audience, writer.fields)


def _subscribe_one(
    writer: MemberWriter,
    entry: dict[str, Any],
    hashes: dict[str, str],
    update_existing: bool,
    sync_tags: bool,
) -> tuple[Member, bool]:
    given = member_input(entry, fields=BATCH_SUBSCRIBE_FIELDS)
    member_hash = hashes.get(given.email or "", "")
    return writer.batch_subscribe(given, update_existing, sync_tags, member_hash=member_hash)


def _hashes(entries: list[dict[str, Any]]) -> dict[str, str]:
    """Address → subscriber hash, computed once for the lookup and the writes."""
    return {
        e["email_address"]: subscriber_hash(e["email_address"])
        for e in entries
        if isinstance(e.get("email_address"), str)
    }


def _error(entry: dict[str, Any], problem: problems.ApiError) -> dict[str, Any]:
    first = problem.errors[0] if problem.errors else None
    return {
        "email_address": entry.get("email_address", ""),
        "error": problem.detail,
        "error_code": "ERROR_CONTACT_EXISTS"
        if problem.title == "Member Exists"
        else "ERROR_GENERIC",
        "field": first.field if first else "",
        "field_message": first.message if first else "",
    }
