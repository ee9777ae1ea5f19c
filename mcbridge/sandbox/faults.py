"""Fault injection: turn a scripted `Fault` into what a client would see on the wire —
an error with or without a body, a connection closed without an answer, or a slow reply.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

from flask import Response, request

from mcbridge.sandbox import problems
from mcbridge.sandbox.api import params
from mcbridge.sandbox.models import Fault
from mcbridge.sandbox.responses import problem_response
from mcbridge.sandbox.store import Store

KINDS = ("error", "drop", "latency")
API_ROOT = "/3.0"


def fault_from_spec(store: Store, spec: Mapping[str, Any]) -> Fault:
    """Read a control request; `times` null means "until cleared" (latency always is)."""
    kind = params.required(spec, "kind", str)
    if kind not in KINDS:
        raise problems.invalid_field("kind", f"Must be one of: {', '.join(KINDS)}.")
    status = params.optional(spec, "status", int) or 0
    if kind == "error" and not 400 <= status <= 599:
        raise problems.invalid_field("status", "An error fault needs a 4xx or 5xx status.")
    times = params.optional(spec, "times", int)
    return Fault(
        id=0,
        kind=kind,
        status=status,
        retry_after=params.optional(spec, "retry_after", int),
        with_body=params.optional(spec, "body", bool) is not False,
        latency_ms=params.optional(spec, "latency_ms", int) or 0,
        remaining=None if kind == "latency" else times if "times" in spec else 1,
        account_id=_account_id(store, params.optional(spec, "api_key", str)),
        method=(params.optional(spec, "method", str) or "").upper() or None,
        path_prefix=api_path(params.optional(spec, "path_prefix", str)),
    )


def api_path(prefix: str | None) -> str | None:
    """Paths are matched and logged as `/3.0/...`, whichever data-centre form was called."""
    if not prefix:
        return None
    prefix = "/" + prefix.lstrip("/")
    return prefix if prefix.startswith(API_ROOT) else API_ROOT + prefix


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
