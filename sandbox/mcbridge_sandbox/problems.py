"""Errors in Mailchimp's problem+json form.

Every refusal the sandbox makes is a `ApiError`; the HTTP layer and the batch processor
both turn it into the same body, so a client sees one error shape whichever way it asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ERROR_DOCS = "https://mailchimp.com/developer/marketing/docs/errors/"
PROBLEM_JSON = "application/problem+json; charset=utf-8"
VALIDATION_DETAIL = (
    "The resource submitted could not be validated. "
    "For field-specific details, see the 'errors' array."
)


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ApiError(Exception):
    status: int
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    def body(self, instance: str | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": ERROR_DOCS,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance or str(uuid.uuid4()),
        }
        if self.errors:
            document["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return document


def api_key_missing() -> ApiError:
    return ApiError(401, "API Key Invalid", "Your request did not include an API key.")


def api_key_invalid() -> ApiError:
    return ApiError(
        401,
        "API Key Invalid",
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
    )


def not_found() -> ApiError:
    return ApiError(404, "Resource Not Found", "The requested resource could not be found.")


def method_not_allowed(allowed: Iterable[str] = ()) -> ApiError:
    return ApiError(
        405,
        "Method Not Allowed",
        "The requested method and resource are not compatible. "
        "See the Allow header for this resource's available methods.",
        headers={"Allow": ", ".join(sorted(allowed))} if allowed else {},
    )


def json_parse_error(reason: str) -> ApiError:
    return ApiError(400, "JSON Parse Exception", f"We encountered a JSON parsing error: {reason}.")


def invalid(detail: str, errors: Iterable[FieldError] = ()) -> ApiError:
    return ApiError(400, "Invalid Resource", detail, list(errors))


def invalid_fields(errors: Iterable[FieldError]) -> ApiError:
    return invalid(VALIDATION_DETAIL, errors)


def invalid_field(name: str, message: str) -> ApiError:
    return invalid_fields([FieldError(name, message)])


def member_exists(email: str) -> ApiError:
    return ApiError(
        400,
        "Member Exists",
        f"{email} is already a list member. Use PUT to insert or update list members.",
    )


def compliance_state(email: str) -> ApiError:
    return ApiError(
        400,
        "Member In Compliance State",
        f"{email} is in a compliance state due to unsubscribe, bounce, or compliance review "
        "and cannot be subscribed.",
    )


def forgotten_email(email: str) -> ApiError:
    return ApiError(
        400,
        "Forgotten Email Not Subscribed",
        f"{email} was permanently deleted and cannot be re-imported. "
        "The contact must re-subscribe to get back on the list.",
    )


def fake_email(email: str) -> ApiError:
    return invalid(f"{email} looks fake or invalid, please enter a real email address.")


def too_many_signups(email: str) -> ApiError:
    return invalid(
        f"{email} has signed up to a lot of lists very recently; "
        "we're not allowing more signups for now"
    )


def too_many_requests(detail: str, retry_after: int | None = None) -> ApiError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return ApiError(429, "Too Many Requests", detail, headers=headers)


def server_error(status: int) -> ApiError:
    titles: Mapping[int, str] = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    return ApiError(
        status,
        titles.get(status, "Server Error"),
        "An unexpected internal error has occurred. Please contact Support for more information.",
    )
