"""Flask responses for API results and problems (JSON written once, with the right type)."""

from __future__ import annotations

import json

from flask import Response

from mcbridge_sandbox import problems
from mcbridge_sandbox.api.call import ApiResult, problem_result

# Responses are trees we just built, so the cycle check is wasted work on every page of
# members; compact separators are what Mailchimp sends too.
ENCODER = json.JSONEncoder(check_circular=False, separators=(",", ":"))


def json_response(result: ApiResult) -> Response:
    if result.body is None:
        return Response(status=result.status, headers=result.headers)
    content_type = problems.PROBLEM_JSON if result.status >= 400 else "application/json"
    return Response(
        ENCODER.encode(result.body),
        status=result.status,
        headers=result.headers,
        content_type=content_type,
    )


def problem_response(problem: problems.ApiError) -> Response:
    return json_response(problem_result(problem))
