"""/ping and the audiences ("lists") themselves."""

from __future__ import annotations

from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import ApiCall, ApiResult, ok


def ping(_call: ApiCall) -> ApiResult:
    return ok({"health_status": "Everything's Chimpy!"})


def list_audiences(call: ApiCall) -> ApiResult:
    offset, count = params.paging(call.query)
    store = call.runtime.store
    found = store.audiences.of_account(call.account.id, offset, count)
    return ok(
        {
            "lists": [shapes.audience(store, a) for a in found],
            "total_items": store.audiences.count_of_account(call.account.id),
            "constraints": {
                "may_create": True,
                "max_instances": 100,
                "current_total_instances": store.audiences.count_of_account(call.account.id),
            },
        }
    )


def get_audience(call: ApiCall, list_id: str) -> ApiResult:
    return ok(shapes.audience(call.runtime.store, call.audience(list_id)))
