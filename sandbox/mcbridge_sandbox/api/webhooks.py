"""/lists/{id}/webhooks: registration (validated by a GET to the URL, as Mailchimp does)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import ApiCall, ApiResult, no_content, ok
from mcbridge_sandbox.keys import new_id
from mcbridge_sandbox.models import WEBHOOK_EVENTS, WEBHOOK_SOURCES, Audience, Webhook
from mcbridge_sandbox.webhooks import url_answers

# Mailchimp's form preselects every member event and the user and admin sources; API
# changes are left out unless asked for, so an integration does not hear its own writes.
DEFAULT_EVENTS = {name: name != "campaign" for name in WEBHOOK_EVENTS}
DEFAULT_SOURCES = {"user": True, "admin": True, "api": False}


def list_webhooks(call: ApiCall, list_id: str) -> ApiResult:
    audience = call.audience(list_id)
    hooks = call.runtime.store.webhooks.of_audience(audience.pk)
    return ok(
        {
            "webhooks": [shapes.webhook(h, audience.id) for h in hooks],
            "list_id": audience.id,
            "total_items": len(hooks),
        }
    )


def create_webhook(call: ApiCall, list_id: str) -> ApiResult:
    audience = call.audience(list_id)
    body = params.body_object(call.body)
    hook = Webhook(
        id=new_id(),
        audience_pk=audience.pk,
        url=_checked_url(call, audience, params.required(body, "url", str)),
        events=_switches(body, "events", WEBHOOK_EVENTS, DEFAULT_EVENTS),
        sources=_switches(body, "sources", WEBHOOK_SOURCES, DEFAULT_SOURCES),
    )
    call.runtime.store.webhooks.save(hook)
    return ok(shapes.webhook(hook, audience.id))


def get_webhook(call: ApiCall, list_id: str, webhook_id: str) -> ApiResult:
    audience = call.audience(list_id)
    return ok(shapes.webhook(_hook(call, audience, webhook_id), audience.id))


def patch_webhook(call: ApiCall, list_id: str, webhook_id: str) -> ApiResult:
    audience = call.audience(list_id)
    hook = _hook(call, audience, webhook_id)
    body = params.body_object(call.body)
    url = params.optional(body, "url", str)
    updated = Webhook(
        id=hook.id,
        audience_pk=audience.pk,
        url=hook.url if url in (None, hook.url) else _checked_url(call, audience, url),
        events=_switches(body, "events", WEBHOOK_EVENTS, hook.events),
        sources=_switches(body, "sources", WEBHOOK_SOURCES, hook.sources),
    )
    call.runtime.store.webhooks.save(updated)
    return ok(shapes.webhook(updated, audience.id))


def delete_webhook(call: ApiCall, list_id: str, webhook_id: str) -> ApiResult:
    audience = call.audience(list_id)
    call.runtime.store.webhooks.delete(_hook(call, audience, webhook_id))
    return no_content()


def _checked_url(call: ApiCall, audience: Audience, url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise problems.invalid_field("url", "Please enter a valid http or https URL.")
    if any(h.url == url for h in call.runtime.store.webhooks.of_audience(audience.pk)):
        raise problems.invalid_field("url", "A webhook with this URL already exists.")
    if not url_answers(url):
        raise problems.invalid_field(
            "url", "The URL did not answer our validation GET request with a 2xx status."
        )
    return url


def _switches(
    body: Mapping[str, Any], name: str, allowed: Sequence[str], current: Mapping[str, bool]
) -> dict[str, bool]:
    given = params.optional(body, name, dict) or {}
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise problems.invalid_field(name, f"Unknown {name}: {', '.join(unknown)}.")
    for key, value in given.items():
        if not isinstance(value, bool):
            raise problems.invalid_field(f"{name}.{key}", "Must be true or false.")
    return {key: bool(given.get(key, current.get(key, False))) for key in allowed}


def _hook(call: ApiCall, audience: Audience, webhook_id: str) -> Webhook:
    found = call.runtime.store.webhooks.get(audience.pk, webhook_id)
    if found is None:
        raise problems.not_found()
    return found
