"""The HTTP face of the API: authentication, the data-centre check, the connection cap,
fault injection, simulations waiting for a write, and the request log around `dispatch`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Response, request
from werkzeug.http import http_date

from mcbridge_sandbox import problems
from mcbridge_sandbox.api.call import API_ROOT, ApiCall, decode_json
from mcbridge_sandbox.api.routing import dispatch
from mcbridge_sandbox.faults import (
    DROP,
    DROP_AFTER,
    drop_connection,
    error_response,
    members_in_call,
    page_size,
)
from mcbridge_sandbox.keys import is_api_key, mask_key
from mcbridge_sandbox.models import Account, Fault, LoggedRequest
from mcbridge_sandbox.responses import json_response, problem_response
from mcbridge_sandbox.runtime import SandboxRuntime

DROPPED = 0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """A call's answer (None: drop the connection) and the members in it, which a latency
    per member multiplies and the request log records."""

    response: Response | None
    members: int


def handle_api_request(runtime: SandboxRuntime, dc: str | None, rest: str) -> Response:
    """One API call. The Date header follows the sandbox's own (advanceable) clock, as
    Mailchimp's follows its servers': clients read "changes since" by that clock."""
    started = time.perf_counter()
    key = request.authorization.password if request.authorization else None
    account = runtime.store.accounts.by_key(key) if key and is_api_key(key) else None
    path = "/" + rest
    try:
        outcome = _answer(runtime, account, key, dc, path, started)
    except problems.ApiError as problem:
        outcome = _not_carried_out(problem_response(problem), path)
    except Exception:
        log.exception("sandbox bug while answering %s %s", request.method, path)
        outcome = _not_carried_out(problem_response(problems.server_error(500)), path)
    _log(runtime, account, key, path, outcome, started)
    if outcome.response is None:
        drop_connection()
        return Response(status=500)
    outcome.response.headers["Date"] = http_date(runtime.clock.now())
    return outcome.response


def _answer(
    runtime: SandboxRuntime,
    account: Account | None,
    key: str | None,
    dc: str | None,
    path: str,
    started: float,
) -> Outcome:
    """The call carried out and its latency waited out, while it holds one of the
    account's connections, as a Mailchimp connection is busy until its answer comes.

    A latency is what the call takes in all, counted from `started`: Mailchimp's time
    includes its own work, so the sandbox waits only what its work left (a slot is held no
    longer than Mailchimp would hold it, unless the sandbox is slower than the model). The
    wait comes after the work, before the answer: the members a listing answers with are
    known only then (and a client that gives up waiting may leave a write done, as with
    Mailchimp)."""
    if account is None:
        raise problems.api_key_invalid() if key else problems.api_key_missing()
    if dc is not None and dc != account.dc:
        raise problems.api_key_invalid()
    with runtime.limiter.slot(account.id):
        delay, fault = runtime.store.faults.take(
            account.id, request.method, API_ROOT + path, page_size(request.args)
        )
        outcome = _carry_out(runtime, account, path, fault)
        left = started + delay.seconds(outcome.members) - time.perf_counter()
        if left > 0:
            time.sleep(left)
        return outcome


def _carry_out(
    runtime: SandboxRuntime, account: Account, path: str, fault: Fault | None
) -> Outcome:
    """The operation, unless an injected error or drop answers instead."""
    if fault is not None and fault.kind != DROP_AFTER:
        response = None if fault.kind == DROP else error_response(fault)
        return _not_carried_out(response, path)
    runtime.scheduled.run_before_write(runtime, account.id, request.method)
    call = ApiCall(
        runtime=runtime,
        account=account,
        method=request.method,
        path=path,
        query=request.args.to_dict(),
        body=decode_json(request.get_data()),
        root_url=request.host_url,
    )
    result = dispatch(call)
    members = members_in_call(call.method, path, call.body, result.body)
    # A drop-after fault: the work is done, the answer never arrives.
    return Outcome(None if fault is not None else json_response(result), members)


def _not_carried_out(response: Response | None, path: str) -> Outcome:
    """An answer given without doing the work: the members the request carries (a body
    that is no JSON carries none)."""
    body = request.get_json(force=True, silent=True)
    return Outcome(response, members_in_call(request.method, path, body, None))


def _log(
    runtime: SandboxRuntime,
    account: Account | None,
    key: str | None,
    path: str,
    outcome: Outcome,
    started: float,
) -> None:
    runtime.store.request_log.add(
        LoggedRequest(
            id=0,
            at=runtime.clock.iso_now(),
            method=request.method,
            path=API_ROOT + path,
            query=request.query_string.decode("latin-1"),
            status=DROPPED if outcome.response is None else outcome.response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            key=mask_key(key) if key else "",
            account_id=account.id if account else None,
            members=outcome.members,
        )
    )
