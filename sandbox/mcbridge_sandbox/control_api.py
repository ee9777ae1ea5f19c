"""Sandbox-only endpoints under /_sandbox/: set-up, inspection (the consent ledger
included), fault injection and simulations, now or before an account's next write. No
authentication: the sandbox is a loopback tool for tests and demos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params, shapes
from mcbridge_sandbox.api.call import decode_json
from mcbridge_sandbox.faults import api_path, fault_from_spec
from mcbridge_sandbox.keys import DC_PATTERN, is_api_key, new_api_key, subscriber_hash
from mcbridge_sandbox.merge_field_definitions import add_default_fields, add_merge_field
from mcbridge_sandbox.models import Account, Audience, LoggedRequest
from mcbridge_sandbox.responses import problem_response
from mcbridge_sandbox.runtime import SandboxRuntime
from mcbridge_sandbox.simulate import simulation


def control_blueprint(runtime: SandboxRuntime) -> Blueprint:
    bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")
    store = runtime.store

    @bp.errorhandler(problems.ApiError)
    def refused(problem: problems.ApiError) -> Response:
        return problem_response(problem)

    @bp.post("/accounts")
    def add_account() -> Response:
        account = create_account(runtime, params.optional(_body(), "dc", str) or "us1")
        return jsonify(api_key=account.api_key)

    @bp.post("/audiences")
    def add_audience() -> Response:
        body = _body()
        audience = create_audience(
            runtime,
            params.required(body, "api_key", str),
            params.optional(body, "name", str) or "Sandbox audience",
            default_merge_fields=params.optional(body, "default_merge_fields", bool) is not False,
            permissions=params.strings(body, "marketing_permissions") or (),
        )
        for spec in params.optional(body, "merge_fields", list) or []:
            add_merge_field(store, audience, params.body_object(spec))
        return jsonify(id=audience.id)

    @bp.get("/lists/<audience_id>/members")
    def list_members(audience_id: str) -> Response:
        audience = _audience(runtime, audience_id)
        members = store.members.all(audience.pk)
        return jsonify(members=shapes.members(store, members, audience))

    @bp.get("/requests")
    def list_requests() -> Response:
        key = request.args.get("api_key")
        account = store.accounts.by_key(key) if key else None
        if key and account is None:
            return jsonify(requests=[])
        found = store.request_log.find(
            account_id=account.id if account else None,
            method=request.args.get("method"),
            path_prefix=api_path(request.args.get("path_prefix")),
        )
        return jsonify(requests=[_logged(r) for r in found])

    @bp.delete("/requests")
    def clear_requests() -> Response:
        store.request_log.clear()
        return Response(status=204)

    @bp.post("/faults")
    def add_fault() -> Response:
        """A fault as `fault_from_spec` reads it. `{"kind": "latency", "latency_ms": 300,
        "per_member_ms": 2}`: every matching call takes 300 ms plus 2 ms for each member in
        it (`faults.members_in_call`), its own work included, until cleared."""
        fault = store.faults.add(fault_from_spec(store, _body()))
        return jsonify(asdict(fault))

    @bp.get("/faults")
    def list_faults() -> Response:
        return jsonify(faults=[asdict(f) for f in store.faults.all()])

    @bp.delete("/faults")
    def clear_faults() -> Response:
        """Simulations waiting for a write go too: they are scripted trouble as well."""
        store.faults.clear()
        runtime.scheduled.clear()
        return Response(status=204)

    @bp.get("/clock")
    def clock_now() -> Response:
        return jsonify(now=runtime.clock.iso_now())

    @bp.post("/clock")
    def advance_clock() -> Response:
        seconds = params.required(_body(), "advance_seconds", (int, float))
        runtime.clock.advance(seconds)
        return jsonify(now=runtime.clock.iso_now())

    @bp.post("/batches/pause")
    def pause_batches() -> Response:
        runtime.batches.pause()
        return Response(status=204)

    @bp.post("/batches/resume")
    def resume_batches() -> Response:
        runtime.batches.resume()
        return Response(status=204)

    @bp.get("/batches/<batch_id>/history")
    def batch_history(batch_id: str) -> Response:
        return jsonify(history=store.batches.history(batch_id))

    @bp.get("/batch-results/<batch_id>.tar.gz")
    def batch_results(batch_id: str) -> Response:
        archive = store.batches.results(batch_id)
        if archive is None:
            raise problems.not_found()
        return Response(archive, content_type="application/x-gzip")

    @bp.get("/webhook-deliveries")
    def webhook_deliveries() -> Response:
        return jsonify(deliveries=runtime.webhooks.deliveries())

    @bp.delete("/webhook-deliveries")
    def clear_webhook_deliveries() -> Response:
        runtime.webhooks.clear()
        return Response(status=204)

    @bp.post("/throttled")
    def throttle() -> Response:
        email = params.required(_body(), "email", str)
        store.suppressions.throttle(subscriber_hash(email))
        return Response(status=204)

    @bp.post("/lists/<audience_id>/simulate/<action>")
    def simulate_action(audience_id: str, action: str) -> Response:
        audience = _audience(runtime, audience_id)
        member = simulation(action)(runtime, audience, _body())
        return jsonify(shapes.one_member(store, member, audience))

    @bp.post("/lists/<audience_id>/simulate/<action>/before-next-write")
    def schedule_simulation(audience_id: str, action: str) -> Response:
        audience = _audience(runtime, audience_id)
        return jsonify(runtime.scheduled.add(audience, action, _body()).as_dict())

    @bp.get("/scheduled-simulations")
    def scheduled_simulations() -> Response:
        return jsonify(simulations=runtime.scheduled.all())

    @bp.get("/consent-ledger")
    def consent_ledger() -> Response:
        entries = store.consent_ledger.find(request.args.get("audience") or None)
        return jsonify(resubscriptions=[asdict(e) for e in entries])

    @bp.delete("/consent-ledger")
    def clear_consent_ledger() -> Response:
        store.consent_ledger.clear()
        return Response(status=204)

    return bp


def create_account(runtime: SandboxRuntime, dc: str) -> Account:
    """Also used by the CLI and `SandboxData`: a new account with a new key of data centre `dc`."""
    if not DC_PATTERN.match(dc):
        raise problems.invalid_field("dc", "A data centre looks like us1 or us21.")
    return runtime.store.accounts.create(new_api_key(dc), runtime.clock.iso_now())


def create_audience(
    runtime: SandboxRuntime,
    api_key: str,
    name: str,
    *,
    default_merge_fields: bool = True,
    permissions: Sequence[str] = (),
) -> Audience:
    """Also used by the CLI and `SandboxData`; the account is created on first use of a
    well-formed key. `permissions` makes a GDPR-enabled audience with these marketing
    permissions."""
    account = ensure_account(runtime, api_key)
    store = runtime.store
    with store.transaction():
        audience = store.audiences.create(account.id, name, runtime.clock.iso_now(), permissions)
        if default_merge_fields:
            add_default_fields(store, audience)
    return audience


def ensure_account(runtime: SandboxRuntime, api_key: str) -> Account:
    if not is_api_key(api_key):
        raise problems.invalid_field("api_key", "Keys are 32 hex characters, a dash, a dc.")
    with runtime.store.transaction():
        found = runtime.store.accounts.by_key(api_key)
        return found or runtime.store.accounts.create(api_key, runtime.clock.iso_now())


def _body() -> dict[str, Any]:
    body = decode_json(request.get_data())
    return {} if body is None else params.body_object(body)


def _audience(runtime: SandboxRuntime, audience_id: str) -> Audience:
    found = runtime.store.audiences.get(audience_id)
    if found is None:
        raise problems.not_found()
    return found


def _logged(entry: LoggedRequest) -> dict[str, Any]:
    document = asdict(entry)
    document.pop("account_id")
    return document
