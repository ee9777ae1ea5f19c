"""Fault injection: turn a scripted `Fault` into what a client would see on the wire —
an error with or without a body, a connection closed without an answer (before or after
the work was done), a slow reply — or into a member listing whose order shifts between
pages (played by the listing, see `api.members`).

A slow reply takes `latency_ms`, plus `per_member_ms` for each member in the call
(`members_in_call`), its own work included: a model of Mailchimp, whose batch of 500 takes
longer than one member.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params
from mcbridge_sandbox.api.call import API_ROOT
from mcbridge_sandbox.api.routing import BATCHES, LIST, SEGMENT, URL_MAP
from mcbridge_sandbox.models import Fault
from mcbridge_sandbox.responses import problem_response
from mcbridge_sandbox.store import Store
from mcbridge_sandbox.store.faults import SHIFT

ERROR, DROP, DROP_AFTER, LATENCY = "error", "drop", "drop-after", "latency"
KINDS = (ERROR, DROP, DROP_AFTER, LATENCY, SHIFT)
LATENCY_FIELDS = ("latency_ms", "per_member_ms")


def fault_from_spec(store: Store, spec: Mapping[str, Any]) -> Fault:
    """Read a control request; `times` null means "until cleared" (latency always is)."""
    kind = params.required(spec, "kind", str)
    if kind not in KINDS:
        raise problems.invalid_field("kind", f"Must be one of: {', '.join(KINDS)}.")
    status = params.optional(spec, "status", int) or 0
    if kind == ERROR and not 400 <= status <= 599:
        raise problems.invalid_field("status", "An error fault needs a 4xx or 5xx status.")
    shift = params.optional(spec, "shift", int) or 0
    if kind == SHIFT and shift < 1:
        raise problems.invalid_field("shift", "A shifting listing moves by at least 1 member.")
    times = params.optional(spec, "times", int)
    latency_ms, per_member_ms = (_milliseconds(spec, name) for name in LATENCY_FIELDS)
    return Fault(
        id=0,
        kind=kind,
        status=status,
        retry_after=params.optional(spec, "retry_after", int),
        with_body=params.optional(spec, "body", bool) is not False,
        latency_ms=latency_ms,
        remaining=None if kind == LATENCY else times if "times" in spec else 1,
        account_id=_account_id(store, params.optional(spec, "api_key", str)),
        method=(params.optional(spec, "method", str) or "").upper() or None,
        path_prefix=api_path(params.optional(spec, "path_prefix", str)),
        min_count=params.optional(spec, "min_count", int),
        shift=shift,
        per_member_ms=per_member_ms,
    )


def _milliseconds(spec: Mapping[str, Any], name: str) -> int:
    value = params.optional(spec, name, int) or 0
    if value < 0:
        raise problems.invalid_field(name, "A delay cannot be negative.")
    return value


def members_in_call(method: str, path: str, body: Any, answer: Mapping[str, Any] | None) -> int:
    """The members a call is about, which a latency per member multiplies: a batch
    subscribe's `members`, a /batches job's `operations`, a segment's `members_to_add` and
    `members_to_remove`; a member listing (of the audience or of a segment) the members it
    answers with, since its cost is what it reads (`answer` None, as for a call a fault
    answered instead: none); any other call 1. `path` is under the API root."""
    try:
        endpoint, _arguments = URL_MAP.bind("sandbox").match(path.rstrip("/") or "/", method)
    except HTTPException:
        return 1
    count = MEMBER_COUNTS.get((method, endpoint))
    if count is None:
        return 1
    return count(body if isinstance(body, Mapping) else {}, answer or {})


def _length(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


MemberCount = Callable[[Mapping[str, Any], Mapping[str, Any]], int]


def _carried(*keys: str) -> MemberCount:
    """Members the request body carries under these keys."""
    return lambda body, _answer: sum(_length(body.get(key)) for key in keys)


def _answered(_body: Mapping[str, Any], answer: Mapping[str, Any]) -> int:
    return _length(answer.get("members"))


MEMBER_COUNTS: dict[tuple[str, str], MemberCount] = {
    ("POST", LIST): _carried("members"),
    ("POST", BATCHES): _carried("operations"),
    ("POST", SEGMENT): _carried("members_to_add", "members_to_remove"),
    ("GET", f"{LIST}/members"): _answered,
    ("GET", f"{SEGMENT}/members"): _answered,
}


def api_path(prefix: str | None) -> str | None:
    """Paths are matched and logged as `/3.0/...`, whichever data-centre form was called."""
    if not prefix:
        return None
    prefix = "/" + prefix.lstrip("/")
    return prefix if prefix.startswith(API_ROOT) else API_ROOT + prefix


def page_size(query: Mapping[str, str]) -> int:
    """The page a request asks for, for faults that only hit large pages (Mailchimp's
    default is 10; a count that is no number is refused later, and hits none)."""
    raw = query.get("count") or "10"
    return int(raw) if raw.isdigit() else 0


def _account_id(store: Store, api_key: str | None) -> int | None:
    if api_key is None:
        return None
    account = store.accounts.by_key(api_key)
    if account is None:
        raise problems.invalid_field("api_key", "No sandbox account has this key.")
    return account.id


def error_response(fault: Fault) -> Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if not fault.with_body:
        return Response(b"", status=fault.status, headers=headers, content_type="text/html")
    if fault.status == 429:
        problem = problems.too_many_requests(
            "You have exceeded the limit of 10 simultaneous connections.", fault.retry_after
        )
    elif fault.status >= 500:
        problem = problems.server_error(fault.status)
    else:
        problem = problems.ApiError(fault.status, "Error", "Injected fault.")
    problem.headers.update(headers)
    return problem_response(problem)


def drop_connection() -> None:
    """Close the socket under the request so the client gets no response at all."""
    connection = request.environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        connection.shutdown(socket.SHUT_RDWR)
