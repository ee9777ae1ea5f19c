"""One API operation, independent of HTTP, so that direct calls and /batches operations run
through exactly the same handlers and rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.keys import mask_key
from mcbridge_sandbox.models import Account, Audience, WriteOrigin

if TYPE_CHECKING:
    from mcbridge_sandbox.runtime import SandboxRuntime

API_ROOT = "/3.0"


@dataclass(frozen=True)
class ApiCall:
    """`batch_id`: the /batches job this operation is part of, if any."""

    runtime: SandboxRuntime
    account: Account
    method: str
    path: str
    query: Mapping[str, str]
    body: Any
    root_url: str
    batch_id: str = ""

    def audience(self, audience_id: str) -> Audience:
        """The account's audience, or 404 for unknown ones and other accounts' alike."""
        found = self.runtime.store.audiences.get(audience_id)
        if found is None or found.account_id != self.account.id:
            raise problems.not_found()
        return found

    def origin(self) -> WriteOrigin:
        """What the consent ledger says about this call (paths as the request log has them)."""
        return WriteOrigin(
            self.method, API_ROOT + self.path, mask_key(self.account.api_key), self.batch_id
        )


@dataclass(frozen=True)
class ApiResult:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


def ok(body: dict[str, Any], status: int = 200) -> ApiResult:
    return ApiResult(status, body)


def no_content() -> ApiResult:
    return ApiResult(204, None)


def problem_result(problem: problems.ApiError) -> ApiResult:
    return ApiResult(problem.status, problem.body(), dict(problem.headers))


def decode_json(raw: bytes | str) -> Any:
    """Empty bodies are "no body"; anything else must be JSON (Mailchimp: 400, not 500)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise problems.json_parse_error("the body is not UTF-8") from error
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        raise problems.json_parse_error(str(error)) from error
