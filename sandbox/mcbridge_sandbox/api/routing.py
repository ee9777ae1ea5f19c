"""The route table and `dispatch`, shared by the HTTP gateway and the batch processor."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import (
    batch_subscribe,
    batches,
    lists,
    members,
    merge_fields,
    segments,
    webhooks,
)
from mcbridge_sandbox.api.call import ApiCall, ApiResult, problem_result
from mcbridge_sandbox.api.projection import project

Handler = Callable[..., ApiResult]

LIST = "/lists/<list_id>"
MEMBER = f"{LIST}/members/<member_id>"
SEGMENT = f"{LIST}/segments/<int:segment_id>"
BATCHES = "/batches"

ROUTES: dict[str, dict[str, Handler]] = {
    "/ping": {"GET": lists.ping},
    "/lists": {"GET": lists.list_audiences},
    LIST: {"GET": lists.get_audience, "POST": batch_subscribe.batch_subscribe},
    f"{LIST}/members": {"GET": members.list_members, "POST": members.create_member},
    MEMBER: {
        "GET": members.get_member,
        "PUT": members.put_member,
        "PATCH": members.patch_member,
        "DELETE": members.archive_member,
    },
    f"{MEMBER}/actions/delete-permanent": {"POST": members.delete_permanent},
    f"{MEMBER}/tags": {"GET": members.get_member_tags, "POST": members.update_member_tags},
    f"{LIST}/merge-fields": {
        "GET": merge_fields.list_merge_fields,
        "POST": merge_fields.create_merge_field,
    },
    f"{LIST}/merge-fields/<int:merge_id>": {
        "GET": merge_fields.get_merge_field,
        "PATCH": merge_fields.patch_merge_field,
        "DELETE": merge_fields.delete_merge_field,
    },
    f"{LIST}/segments": {"GET": segments.list_segments, "POST": segments.create_segment},
    SEGMENT: {
        "GET": segments.get_segment,
        "PATCH": segments.patch_segment,
        "POST": segments.batch_segment_members,
        "DELETE": segments.delete_segment,
    },
    f"{SEGMENT}/members": {
        "GET": segments.list_segment_members,
        "POST": segments.add_segment_member,
    },
    f"{SEGMENT}/members/<member_id>": {"DELETE": segments.remove_segment_member},
    f"{LIST}/webhooks": {"GET": webhooks.list_webhooks, "POST": webhooks.create_webhook},
    f"{LIST}/webhooks/<webhook_id>": {
        "GET": webhooks.get_webhook,
        "PATCH": webhooks.patch_webhook,
        "DELETE": webhooks.delete_webhook,
    },
    BATCHES: {"GET": batches.list_batches, "POST": batches.create_batch},
    f"{BATCHES}/<batch_id>": {"GET": batches.get_batch, "DELETE": batches.delete_batch},
}

URL_MAP = Map(
    [Rule(path, methods=list(handlers), endpoint=path) for path, handlers in ROUTES.items()],
    strict_slashes=False,
    merge_slashes=False,
)


def dispatch(call: ApiCall) -> ApiResult:
    """Run one operation; every refusal comes back as a problem+json result."""
    adapter = URL_MAP.bind("sandbox")
    method = "GET" if call.method == "HEAD" else call.method
    try:
        try:
            endpoint, arguments = adapter.match(call.path.rstrip("/") or "/", method)
        except NotFound as error:
            raise problems.not_found() from error
        except MethodNotAllowed as error:
            raise problems.method_not_allowed(error.valid_methods or ()) from error
        result = ROUTES[endpoint][method](call, **arguments)
    except problems.ApiError as problem:
        return problem_result(problem)
    if result.body is not None and ("fields" in call.query or "exclude_fields" in call.query):
        return ApiResult(result.status, project(result.body, call.query), result.headers)
    return result
