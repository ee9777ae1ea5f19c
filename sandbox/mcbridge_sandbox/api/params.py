"""Reading query strings and JSON bodies into typed values, with a 400 naming the field
whenever the client sent the wrong thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.clock import iso, parse_iso

MAX_COUNT = 1000
JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def paging(query: Mapping[str, str], default_count: int = 10) -> tuple[int, int]:
    """(offset, count); Mailchimp silently caps count at 1000 rather than refusing more."""
    count = min(_integer(query, "count", default_count), MAX_COUNT)
    offset = _integer(query, "offset", 0)
    if count < 0 or offset < 0:
        raise problems.invalid_field("count" if count < 0 else "offset", "Must not be negative.")
    return offset, count


def _integer(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise problems.invalid_field(name, f"{name} must be a whole number.") from error


def timestamp(query: Mapping[str, str], name: str) -> str | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return iso(parse_iso(raw))
    except ValueError as error:
        raise problems.invalid_field(name, "Use an ISO 8601 date and time.") from error


def choice(query: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    raw = query.get(name)
    if not raw:
        return None
    if raw not in allowed:
        raise problems.invalid_field(name, f"Must be one of: {', '.join(allowed)}.")
    return raw


def flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


def body_object(body: Any) -> dict[str, Any]:
    if body is None:
        raise problems.invalid_field("body", "A JSON object body is required.")
    if not isinstance(body, dict):
        raise problems.invalid_field("body", f"Schema describes object, {json_type(body)} found.")
    return body


def json_type(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def optional(body: Mapping[str, Any], name: str, expected: type | tuple[type, ...]) -> Any:
    """The value if present and of the expected JSON type (null counts as absent)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) and expected in (int, float, (int, float)):
        raise _wrong_type(name, expected, value)
    if not isinstance(value, expected):
        raise _wrong_type(name, expected, value)
    return value


def required(body: Mapping[str, Any], name: str, expected: type | tuple[type, ...]) -> Any:
    value = optional(body, name, expected)
    if value is None or value == "":
        raise problems.invalid_field(name, "This value should not be blank.")
    return value


def strings(body: Mapping[str, Any], name: str) -> list[str] | None:
    values = optional(body, name, list)
    if values is None:
        return None
    if not all(isinstance(v, str) for v in values):
        raise problems.invalid_field(name, "Schema describes an array of strings.")
    return values


def _wrong_type(name: str, expected: type | tuple[type, ...], value: Any) -> problems.ApiError:
    wanted = expected if isinstance(expected, tuple) else (expected,)
    names = " or ".join(JSON_TYPES.get(t, t.__name__) for t in wanted)
    return problems.invalid_field(name, f"Schema describes {names}, {json_type(value)} found.")
