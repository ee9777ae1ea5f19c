"""A Python client for the sandbox-only /_sandbox/ endpoints, for tests and demos."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests

TIMEOUT_SECONDS = 30.0


class SandboxControlError(RuntimeError):
    """The sandbox refused a control request; the message carries its problem detail."""


class SandboxControl:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = requests.Session()

    # Set-up -----------------------------------------------------------------------------

    def add_account(self, dc: str = "us1") -> str:
        """A new account; returns its API key."""
        return str(self._post("/accounts", {"dc": dc})["api_key"])

    def add_audience(
        self,
        api_key: str,
        name: str = "Sandbox audience",
        *,
        default_merge_fields: bool = True,
        merge_fields: Sequence[Mapping[str, Any]] = (),
        marketing_permissions: Sequence[str] = (),
    ) -> str:
        """A new audience id. Mailchimp's defaults are FNAME, LNAME, ADDRESS, PHONE and
        BIRTHDAY; pass `default_merge_fields=False` for an audience without them and
        `merge_fields` (specs as for POST /merge-fields) for extra ones.
        `marketing_permissions` (their texts: "Email", "Direct Mail") makes it GDPR-enabled.
        """
        body = {
            "api_key": api_key,
            "name": name,
            "default_merge_fields": default_merge_fields,
            "merge_fields": list(merge_fields),
            "marketing_permissions": list(marketing_permissions),
        }
        return str(self._post("/audiences", body)["id"])

    def mark_recent_signups(self, email: str) -> None:
        """From now on the address is refused as "signed up to a lot of lists recently"."""
        self._post("/throttled", {"email": email})

    # Inspection -------------------------------------------------------------------------

    def members(self, audience_id: str) -> list[dict[str, Any]]:
        """Every member, archived ones included, as the API would show them."""
        return list(self._get(f"/lists/{audience_id}/members")["members"])

    def member(self, audience_id: str, email: str) -> dict[str, Any] | None:
        wanted = email.lower()
        return next(
            (m for m in self.members(audience_id) if m["email_address"].lower() == wanted), None
        )

    def requests(
        self,
        *,
        api_key: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> list[dict[str, Any]]:
        """The request log: method, path (`/3.0/...`), query, status, duration_ms, masked
        key, and the members in the call (as `add_latency` counts them).

        A dropped connection is logged with status 0.
        """
        query = {"api_key": api_key, "method": method, "path_prefix": path_prefix}
        return list(self._get("/requests", {k: v for k, v in query.items() if v})["requests"])

    def clear_requests(self) -> None:
        self._delete("/requests")

    def batch_history(self, batch_id: str) -> list[str]:
        """The statuses a batch went through, in order."""
        return [step["status"] for step in self._get(f"/batches/{batch_id}/history")["history"]]

    def pause_batches(self) -> None:
        """Hold /batches unfinished: new ones stay pending, one under way stops before its
        next operation, until `resume_batches`."""
        self._post("/batches/pause", {})

    def resume_batches(self) -> None:
        self._post("/batches/resume", {})

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """One entry per event and webhook, in the order first sent: `status` and `error`
        of the latest attempt, every attempt in `attempts` (`at`, `status`, `error`), and
        `retrying` while another attempt is due."""
        return list(self._get("/webhook-deliveries")["deliveries"])

    def clear_webhook_deliveries(self) -> None:
        self._delete("/webhook-deliveries")

    def consent_ledger(self, audience_id: str | None = None) -> list[dict[str, Any]]:
        """Every contact set back to subscribed other than by their own sign-up, oldest
        first: `at`, `audience_id`, `email`, `status_before` (and `archived_from` for an
        archived contact), and the request that did it: `method`, `path`, masked `key`, and
        `batch_id` when it ran in a /batches job."""
        query = {"audience": audience_id} if audience_id else None
        return list(self._get("/consent-ledger", query)["resubscriptions"])

    def clear_consent_ledger(self) -> None:
        self._delete("/consent-ledger")

    # Time ------------------------------------------------------------------------------

    def now(self) -> str:
        return str(self._get("/clock")["now"])

    def advance_clock(self, seconds: float) -> str:
        return str(self._post("/clock", {"advance_seconds": seconds})["now"])

    # Faults -----------------------------------------------------------------------------

    def inject_fault(
        self,
        status: int,
        *,
        times: int | None = 1,
        retry_after: int | None = None,
        body: bool = True,
        api_key: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        min_count: int | None = None,
    ) -> dict[str, Any]:
        """The next `times` matching requests get `status` (None: until cleared).

        `min_count`: only requests asking for pages of at least that many (`count`, 10 when
        not given), like the 504s of large member pages: a smaller page gets through.
        """
        spec = {
            "kind": "error",
            "status": status,
            "retry_after": retry_after,
            "body": body,
            "min_count": min_count,
        }
        return self._fault(spec, times, api_key, method, path_prefix)

    def drop_connections(
        self,
        *,
        times: int | None = 1,
        after_processing: bool = False,
        api_key: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> dict[str, Any]:
        """The server closes the socket without answering: clients see a connection error.

        `after_processing`: only once the request was carried out in full (a batch
        created, a member written), so the client sees an error for work that was done.
        """
        kind = "drop-after" if after_processing else "drop"
        return self._fault({"kind": kind}, times, api_key, method, path_prefix)

    def shift_member_pages(
        self,
        shift: int,
        *,
        times: int | None = None,
        api_key: str | None = None,
        path_prefix: str | None = None,
    ) -> dict[str, Any]:
        """The next `times` member listings (None: until cleared) are served as if `shift`
        more members had moved ahead of the read position since the call before: a client
        paging by offset reads some members twice and misses as many, while `total_items`
        stays right."""
        spec = {"kind": "shift", "shift": shift}
        return self._fault(spec, times, api_key, None, path_prefix)

    def add_latency(
        self,
        milliseconds: int,
        *,
        per_member_ms: int = 0,
        api_key: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> dict[str, Any]:
        """Every matching request takes this long, plus `per_member_ms` for each member in
        it, until `clear_faults`: a model of Mailchimp, whose time grows with a call's size
        (e.g. 300 ms + 2 ms a member: a batch subscribe of 500 takes 1.3 s).

        The members in a call: a batch subscribe's `members`, a /batches job's
        `operations`, a segment call's `members_to_add` plus `members_to_remove`, the
        members a member listing answers with; any other call counts 1. The request log
        records that number (`members`). The time counts the sandbox's own work, as
        Mailchimp's counts its own: the sandbox waits what is left after the work, before
        the answer, on one of the key's 10 connections.
        """
        spec = {"kind": "latency", "latency_ms": milliseconds, "per_member_ms": per_member_ms}
        return self._fault(spec, None, api_key, method, path_prefix)

    def clear_faults(self) -> None:
        """Every fault, and the simulations still waiting for a write."""
        self._delete("/faults")

    def _fault(
        self,
        spec: dict[str, Any],
        times: int | None,
        api_key: str | None,
        method: str | None,
        path_prefix: str | None,
    ) -> dict[str, Any]:
        scope = {"api_key": api_key, "method": method, "path_prefix": path_prefix}
        return self._post("/faults", {**spec, "times": times, **scope})

    # Simulations ------------------------------------------------------------------------

    def simulate_unsubscribe(
        self, audience_id: str, email: str, reason: str = "", *, abuse: bool = False
    ) -> dict[str, Any]:
        """The person unsubscribed through a link, or (`abuse`) reported the email as spam
        (webhook source: user): a compliance state, never to be subscribed by the API."""
        body = {"email": email, "reason": reason, "abuse": abuse}
        return self._simulate(audience_id, "unsubscribe", body)

    def simulate_admin_unsubscribe(self, audience_id: str, email: str) -> dict[str, Any]:
        """An admin unsubscribed the contact in Mailchimp (source: admin): no compliance
        state, so any later write with `"status": "subscribed"` re-subscribes it."""
        return self._simulate(audience_id, "admin-unsubscribe", {"email": email})

    def simulate_admin_archive(self, audience_id: str, email: str) -> dict[str, Any]:
        """An admin archived the contact in Mailchimp (webhook unsubscribe, action delete,
        source admin); a later write with a status brings it back with that status."""
        return self._simulate(audience_id, "admin-archive", {"email": email})

    def simulate_bounce(self, audience_id: str, email: str, reason: str = "hard") -> dict[str, Any]:
        """A hard bounce ("hard") or abuse report ("abuse") cleans the address (source: admin)."""
        return self._simulate(audience_id, "bounce", {"email": email, "reason": reason})

    def simulate_email_change(
        self, audience_id: str, old_email: str, new_email: str
    ) -> dict[str, Any]:
        body = {"old_email": old_email, "new_email": new_email}
        return self._simulate(audience_id, "email-change", body)

    def simulate_profile_update(
        self, audience_id: str, email: str, merge_fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        body = {"email": email, "merge_fields": dict(merge_fields)}
        return self._simulate(audience_id, "profile-update", body)

    def simulate_signup(
        self, audience_id: str, email: str, merge_fields: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Someone subscribes through a sign-up form, outside any integration (source: user)."""
        body = {"email": email, "merge_fields": dict(merge_fields or {})}
        return self._simulate(audience_id, "signup", body)

    def simulate_before_next_write(
        self, audience_id: str, action: str, **fields: Any
    ) -> dict[str, Any]:
        """Run a simulation (`action`: unsubscribe, admin-unsubscribe, admin-archive, bounce,
        email-change, profile-update or signup; `fields` as its method takes them) right
        before the next POST, PUT, PATCH or DELETE request of the audience's account is
        processed: a change made while an export runs. Returns the scheduled entry."""
        return self._post(f"/lists/{audience_id}/simulate/{action}/before-next-write", fields)

    def scheduled_simulations(self) -> list[dict[str, Any]]:
        """Each scheduled simulation with its `outcome`: pending, done, or the refusal."""
        return list(self._get("/scheduled-simulations")["simulations"])

    def _simulate(self, audience_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._post(f"/lists/{audience_id}/simulate/{action}", body)

    # HTTP -------------------------------------------------------------------------------

    def _get(self, path: str, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self._send("GET", path, params=query)

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._send("POST", path, json=body)

    def _delete(self, path: str) -> None:
        self._send("DELETE", path)

    def _send(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        response = self._http.request(
            method, f"{self.url}/_sandbox{path}", timeout=TIMEOUT_SECONDS, **options
        )
        if response.status_code >= 400:
            raise SandboxControlError(_describe(response))
        return response.json() if response.content else {}


def _describe(response: requests.Response) -> str:
    try:
        document = response.json()
    except ValueError:
        return f"{response.status_code}: {response.text[:200]}"
    errors = "; ".join(f"{e['field']}: {e['message']}" for e in document.get("errors", []))
    return f"{response.status_code} {document.get('title')}: {document.get('detail')} {errors}"
