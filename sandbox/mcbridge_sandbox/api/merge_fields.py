"""/lists/{id}/merge-fields."""

from __future__ import annotations

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import ApiCall, ApiResult, no_content, ok
from mcbridge_sandbox.merge_field_definitions import add_merge_field, update_merge_field
from mcbridge_sandbox.models import MERGE_TYPES, MergeField


def list_merge_fields(call: ApiCall, list_id: str) -> ApiResult:
    audience = call.audience(list_id)
    offset, count = params.paging(call.query)
    wanted_type = params.choice(call.query, "type", MERGE_TYPES)
    fields = [
        f
        for f in call.runtime.store.merge_fields.of_audience(audience.pk)
        if wanted_type is None or f.type == wanted_type
    ]
    return ok(
        {
            "merge_fields": [
                shapes.merge_field(f, audience.id) for f in fields[offset : offset + count]
            ],
            "list_id": audience.id,
            "total_items": len(fields),
        }
    )


def create_merge_field(call: ApiCall, list_id: str) -> ApiResult:
    audience = call.audience(list_id)
    field = add_merge_field(call.runtime.store, audience, params.body_object(call.body))
    return ok(shapes.merge_field(field, audience.id))


def get_merge_field(call: ApiCall, list_id: str, merge_id: int) -> ApiResult:
    return ok(shapes.merge_field(_field(call, list_id, merge_id), list_id))


def patch_merge_field(call: ApiCall, list_id: str, merge_id: int) -> ApiResult:
    field = _field(call, list_id, merge_id)
    updated = update_merge_field(call.runtime.store, field, params.body_object(call.body))
    return ok(shapes.merge_field(updated, list_id))


def delete_merge_field(call: ApiCall, list_id: str, merge_id: int) -> ApiResult:
    call.runtime.store.merge_fields.delete(_field(call, list_id, merge_id))
    return no_content()


def _field(call: ApiCall, list_id: str, merge_id: int) -> MergeField:
    audience = call.audience(list_id)
    found = call.runtime.store.merge_fields.get(audience.pk, merge_id)
    if found is None:
        raise problems.not_found()
    return found
