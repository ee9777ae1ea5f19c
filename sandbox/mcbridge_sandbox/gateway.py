"""The HTTP face of the API: authentication, the data-centre check, the connection cap,
fault injection, simulations waiting for a write, and the request log around `dispatch`.
"""

from __future__ import annotations

import logging
import time

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
    page_size,
)
from mcbridge_sandbox.keys import is_api_key, mask_key
from mcbridge_sandbox.models import Account, LoggedRequest
from mcbridge_sandbox.responses import json_response, problem_response
from mcbridge_sandbox.runtime import SandboxRuntime

DROPPED = 0
log = logging.getLogger(__name__)


def handle_api_request(runtime: SandboxRuntime, dc: str | None, rest: str) -> Response:
    """One API call. The Date header follows the sandbox's own (advanceable) clock, as
    Mailchimp's follows its servers': clients read "changes since" by that clock."""
    started = time.perf_counter()
    key = request.authorization.password if request.authorization else None
    account = runtime.store.accounts.by_key(key) if key and is_api_key(key) else None
    path = "/" + rest
    response: Response | None = None
    try:
        response = _answer(runtime, account, key, dc, path)
    except problems.ApiError as problem:
        response = problem_response(problem)
    except Exception:
        log.exception("sandbox bug while answering %s %s", request.method, path)
        response = problem_response(problems.server_error(500))
    finally:
        _log(runtime, account, key, path, response, started)
    if response is None:
        drop_connection()
        return Response(status=500)
    response.headers["Date"] = http_date(runtime.clock.now())
    return response


def _answer(
    runtime: SandboxRuntime, account: Account | None, key: str | None, dc: str | None, path: str
) -> Response | None:
    """None means "drop the connection"."""
    if account is None:
        raise problems.api_key_invalid() if key else problems.api_key_missing()
    if dc is not None and dc != account.dc:
        raise problems.api_key_invalid()
    with runtime.limiter.slot(account.id):
        latency_ms, fault = runtime.store.faults.take(
            account.id, request.method, API_ROOT + path, page_size(request.args)
        )
        if latency_ms:
            time.sleep(latency_ms / 1000)
        if fault is not None and fault.kind != DROP_AFTER:
            return None if fault.kind == DROP else error_response(fault)
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
        answer = json_response(dispatch(call))
        # A drop-after fault: the work is done, the answer never arrives.
        return None if fault is not None else answer


def _log(
    runtime: SandboxRuntime,
    account: Account | None,
    key: str | None,
    path: str,
    response: Response | None,
    started: float,
) -> None:
    runtime.store.request_log.add(
        LoggedRequest(
            id=0,
            at=runtime.clock.iso_now(),
            method=request.method,
            path=API_ROOT + path,
            query=request.query_string.decode("latin-1"),
            status=DROPPED if response is None else response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            key=mask_key(key) if key else "",
            account_id=account.id if account else None,
        )
    )
