"""/lists/{id}/members: reading, adding, updating, archiving, forgetting and tagging."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import API_ROOT, ApiCall, ApiResult, no_content, ok
from mcbridge_sandbox.keys import subscriber_hash
from mcbridge_sandbox.member_writes import MemberInput, MemberWriter, member_writes
from mcbridge_sandbox.models import LANGUAGE_CODES, STATUSES, WRITABLE_STATUSES, Member
from mcbridge_sandbox.store import MemberPage

TEXT_ATTRIBUTES = ("email_type", "language", "ip_signup", "timestamp_signup", "ip_opt")
BODY_FIELDS: dict[str, tuple[str, type]] = {
    "email_address": ("email", str),
    "status": ("status", str),
    "status_if_new": ("status_if_new", str),
    "merge_fields": ("merge_fields", dict),
    "vip": ("vip", bool),
    **{name: (name, str) for name in TEXT_ATTRIBUTES},
}
# Batch subscribe's member schema has no `status_if_new`: it is ignored there. Nor does it
# list `marketing_permissions` [UNVERIFIED]: they are ignored too, so a contact added that
# way has every permission off, which shows an export that relies on them there.
BATCH_SUBSCRIBE_FIELDS = {k: v for k, v in BODY_FIELDS.items() if k != "status_if_new"}


def member_input(
    body: Mapping[str, Any],
    *,
    tags_as_objects: bool = False,
    fields: Mapping[str, tuple[str, type]] = BODY_FIELDS,
) -> MemberInput:
    """Tags come as names in batch subscribe but as {"name": ...} objects elsewhere.

    Only the keys present are looked at: batch subscribe reads 500 of these per call.
    """
    values: dict[str, Any] = {}
    for key in body.keys() & fields.keys():
        attribute, kind = fields[key]
        values[attribute] = params.optional(body, key, kind)
    for name in ("status", "status_if_new"):
        if values.get(name) not in (None, *WRITABLE_STATUSES):
            raise problems.invalid_field(name, f"Must be one of: {', '.join(WRITABLE_STATUSES)}.")
    if values.get("language") not in (None, *LANGUAGE_CODES):
        # Another value is dropped without an error [UNVERIFIED: what users report; the
        # choice that shows an export sending a name ("German") or a regional code
        # ("de-CH"): the contact keeps no language and every export sends it again].
        values["language"] = None
    if "tags" in body:
        values["tags"] = _tag_objects(body) if tags_as_objects else params.strings(body, "tags")
    if "marketing_permissions" in body and fields is BODY_FIELDS:
        values["marketing_permissions"] = _permission_objects(body)
    return MemberInput(**values)


def _permission_objects(body: Mapping[str, Any]) -> dict[str, bool]:
    """[{"marketing_permission_id": ..., "enabled": true}], as Mailchimp takes them."""
    given = params.optional(body, "marketing_permissions", list) or []
    permissions: dict[str, bool] = {}
    for item in given:
        if not isinstance(item, dict):
            raise problems.invalid_field("marketing_permissions", "Each item is an object.")
        permission_id = item.get("marketing_permission_id")
        enabled = item.get("enabled")
        if not isinstance(permission_id, str) or not isinstance(enabled, bool):
            raise problems.invalid_field(
                "marketing_permissions",
                "Each item needs a marketing_permission_id and enabled (true or false).",
            )
        permissions[permission_id] = enabled
    return permissions


def _tag_objects(body: Mapping[str, Any]) -> list[str] | None:
    tags = params.optional(body, "tags", list)
    if tags is None:
        return None
    names = [t.get("name") if isinstance(t, dict) else t for t in tags]
    if not all(isinstance(n, str) and n for n in names):
        raise problems.invalid_field("tags", "Each tag needs a name.")
    return names


def resolve_hash(member_id: str) -> str:
    """Mailchimp also accepts the address itself where a subscriber hash is expected."""
    return subscriber_hash(member_id) if "@" in member_id else member_id


def list_members(call: ApiCall, list_id: str) -> ApiResult:
    """Without a `status` filter archived members are left out, and out of `total_items`
    [UNVERIFIED: the choice that shows an export which never reads `status=archived`]."""
    audience = call.audience(list_id)
    offset, count = params.paging(call.query)
    store = call.runtime.store
    status = params.choice(call.query, "status", STATUSES)
    since = params.timestamp(call.query, "since_last_changed")

    def read(at: int, size: int) -> MemberPage:
        return store.members.page(
            audience.pk, status=status, since=since, offset=at, count=size, include_archived=False
        )

    rotation = store.faults.take_shift(call.account.id, API_ROOT + call.path, count)
    page = _rotated_page(read, offset, count, rotation) if rotation else read(offset, count)
    return ok(
        {
            "members": shapes.members(store, page.members, audience),
            "list_id": audience.id,
            "total_items": page.total,
            "_links": shapes.links(call.root_url, f"lists/{audience.id}/members"),
        }
    )


def _rotated_page(
    read: Callable[[int, int], MemberPage], offset: int, count: int, rotation: int
) -> MemberPage:
    """The page at `offset` of the listing with its last `rotation` members moved to the
    front, as if they had changed and moved ahead of the read position: a reader paging by
    offset sees some members twice and misses as many, while `total_items` stays right."""
    total = read(0, 0).total
    members: list[Member] = []
    position, end = offset, min(offset + count, total)
    while position < end:
        source = (position - rotation) % total
        size = min(end - position, total - source)
        members += read(source, size).members
        position += size
    return MemberPage(members, total)


def get_member(call: ApiCall, list_id: str, member_id: str) -> ApiResult:
    audience = call.audience(list_id)
    found = call.runtime.store.members.get(audience.pk, resolve_hash(member_id))
    if found is None:
        raise problems.not_found()
    return ok(shapes.one_member(call.runtime.store, found, audience))


def create_member(call: ApiCall, list_id: str) -> ApiResult:
    given = member_input(params.body_object(call.body), tags_as_objects=True)
    return _write(call, list_id, lambda writer: writer.create(given))


def put_member(call: ApiCall, list_id: str, member_id: str) -> ApiResult:
    given = member_input(params.body_object(call.body), tags_as_objects=True)
    return _write(call, list_id, lambda writer: writer.upsert(resolve_hash(member_id), given))


def patch_member(call: ApiCall, list_id: str, member_id: str) -> ApiResult:
    given = member_input(params.body_object(call.body))
    return _write(call, list_id, lambda writer: writer.patch(resolve_hash(member_id), given))


def archive_member(call: ApiCall, list_id: str, member_id: str) -> ApiResult:
    with member_writes(call.runtime, call.audience(list_id)) as writer:
        writer.archive(resolve_hash(member_id))
    return no_content()


def delete_permanent(call: ApiCall, list_id: str, member_id: str) -> ApiResult:
    with member_writes(call.runtime, call.audience(list_id)) as writer:
        writer.forget(resolve_hash(member_id))
    return no_content()


def get_member_tags(call: ApiCall, list_id: str, member_id: str) -> ApiResult:
    audience = call.audience(list_id)
    store = call.runtime.store
    found = store.members.get(audience.pk, resolve_hash(member_id))
    if found is None:
        raise problems.not_found()
    tags = store.segments.tags_of([found.id]).get(found.id, [])
    return ok(
        {
            "tags": [{"id": i, "name": n, "date_added": added} for i, n, added in tags],
            "total_items": len(tags),
        }
    )


def update_member_tags(call: ApiCall, list_id: str, member_id: str) -> ApiResult:
    changes = _tag_changes(params.body_object(call.body))
    with member_writes(call.runtime, call.audience(list_id)) as writer:
        writer.apply_tags(writer.existing(resolve_hash(member_id)), changes)
    return no_content()


def _tag_changes(body: Mapping[str, Any]) -> list[tuple[str, bool]]:
    tags = params.optional(body, "tags", list)
    if tags is None:
        raise problems.invalid_field("tags", "This value should not be blank.")
    changes = []
    for index, tag in enumerate(tags):
        if not isinstance(tag, dict) or not isinstance(tag.get("name"), str) or not tag["name"]:
            raise problems.invalid_field(f"tags.item:{index}.name", "Each tag needs a name.")
        if tag.get("status") not in ("active", "inactive"):
            raise problems.invalid_field(
                f"tags.item:{index}.status", "Status must be active or inactive."
            )
        changes.append((tag["name"], tag["status"] == "active"))
    return changes


def _write(call: ApiCall, list_id: str, action: Callable[[MemberWriter], Member]) -> ApiResult:
    audience = call.audience(list_id)
    skip = params.flag(call.query, "skip_merge_validation")
    with member_writes(
        call.runtime, audience, origin=call.origin(), skip_merge_validation=skip
    ) as writer:
        written = action(writer)
    return ok(shapes.one_member(call.runtime.store, written, audience, writer.fields))
