"""/batches: accept operations now, run them later on the batch processor's thread."""

from __future__ import annotations

from typing import Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import ApiCall, ApiResult, no_content, ok
from mcbridge_sandbox.keys import new_id

MAX_UNFINISHED = 500
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def create_batch(call: ApiCall) -> ApiResult:
    operations = _operations(params.body_object(call.body))
    store = call.runtime.store
    if store.batches.unfinished_count(call.account.id) >= MAX_UNFINISHED:
        raise problems.too_many_requests(
            f"You have more than {MAX_UNFINISHED} pending batch requests. "
            "Wait for some to finish before submitting more."
        )
    batch_id = new_id()
    batch = store.batches.create(
        batch_id,
        call.account.id,
        operations,
        call.runtime.clock.iso_now(),
        f"{call.root_url.rstrip('/')}/_sandbox/batch-results/{batch_id}.tar.gz",
    )
    call.runtime.batches.wake()
    return ok(shapes.batch(batch))


def list_batches(call: ApiCall) -> ApiResult:
    offset, count = params.paging(call.query)
    store = call.runtime.store
    found = store.batches.of_account(call.account.id, offset, count)
    return ok(
        {
            "batches": [shapes.batch(b) for b in found],
            "total_items": store.batches.count_of_account(call.account.id),
        }
    )


def get_batch(call: ApiCall, batch_id: str) -> ApiResult:
    found = call.runtime.store.batches.get(call.account.id, batch_id)
    if found is None:
        raise problems.not_found()
    return ok(shapes.batch(found))


def delete_batch(call: ApiCall, batch_id: str) -> ApiResult:
    """Stops the batch; its results are gone with it, as on Mailchimp."""
    if call.runtime.store.batches.get(call.account.id, batch_id) is None:
        raise problems.not_found()
    call.runtime.store.batches.delete(batch_id)
    return no_content()


def _operations(body: dict[str, Any]) -> list[dict[str, Any]]:
    operations = params.required(body, "operations", list)
    return [_operation(index, op) for index, op in enumerate(operations)]


def _operation(index: int, op: Any) -> dict[str, Any]:
    where = f"operations.item:{index}"
    if not isinstance(op, dict):
        raise problems.invalid_field(
            where, f"Schema describes object, {params.json_type(op)} found."
        )
    method = params.required(op, "method", str)
    if method.upper() not in METHODS:
        raise problems.invalid_field(f"{where}.method", f"Must be one of: {', '.join(METHODS)}.")
    for name, kind in (("path", str), ("operation_id", str), ("body", str), ("params", dict)):
        value = op.get(name)
        if value is not None and not isinstance(value, kind):
            raise problems.invalid_field(
                f"{where}.{name}",
                f"Schema describes {params.JSON_TYPES[kind]}, {params.json_type(value)} found.",
            )
    if not op.get("path"):
        raise problems.invalid_field(f"{where}.path", "This value should not be blank.")
    return {
        "method": method.upper(),
        "path": op["path"],
        "operation_id": op.get("operation_id"),
        "params": op.get("params") or {},
        "body": op.get("body") or "",
    }
