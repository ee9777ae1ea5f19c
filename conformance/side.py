"""One Mailchimp, real or sandbox, seen through plain HTTP, remembering what the probes
create there so that it can all be cleaned up, and nothing else touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import requests

from mcbridge.mailchimp.keys import subscriber_hash

TIMEOUT_SECONDS = 30.0
# The notes: 1000-member pages time out on large audiences; 500 is the safe page.
PAGE_SIZE = 500
MAX_PAGES = 20
TAG_PREFIX = "mcbridge-probe"


class ProbeError(Exception):
    """A call answered something a probe cannot read its observation from. The message
    holds only the method, status and title, which are alike on both sides when their
    behaviour is, so that a failure still compares."""


@dataclass
class Created:
    """What this run created on one side: the only things the clean-up may touch."""

    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    merge_ids: list[int] = field(default_factory=list)


class Side:
    def __init__(
        self, name: str, base_url: str, api_key: str, audience_id: str, domain: str, run_id: str
    ) -> None:
        self.name = name
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.audience_path = f"lists/{audience_id}"
        self.domain = domain
        self.run_id = run_id
        self.created = Created()
        self._http = requests.Session()
        self._http.auth = ("mcbridge-conformance", api_key)

    # HTTP -------------------------------------------------------------------------------

    def call(
        self, method: str, path: str, *, expect: tuple[int, ...] | None = (200,), **options: Any
    ) -> requests.Response:
        """`expect=None` hands back any answer: for probes whose observation is the answer."""
        response = self._http.request(
            method, self.base_url + path, timeout=TIMEOUT_SECONDS, **options
        )
        if expect is not None and response.status_code not in expect:
            raise ProbeError(f"{method} → {describe(response)}")
        return response

    def member_path(self, email: str) -> str:
        return f"{self.audience_path}/members/{subscriber_hash(email)}"

    # Contacts ---------------------------------------------------------------------------

    def new_address(self, label: str) -> str:
        """A plus-address unique to this run, recorded before any call could create it (a
        call that times out may still have been carried out)."""
        email = f"probe+{self.run_id}-{label}@{self.domain}"
        self.created.emails.append(email)
        return email

    def add_contact(
        self, label: str, status: str = "subscribed", merge_fields: dict[str, str] | None = None
    ) -> str:
        email = self.new_address(label)
        body = {"email_address": email, "status": status, "merge_fields": merge_fields or {}}
        self.call("POST", f"{self.audience_path}/members", json=body)
        return email

    def member(self, email: str) -> dict[str, Any]:
        return dict(self.call("GET", self.member_path(email)).json())

    def archive(self, email: str) -> None:
        self.call("DELETE", self.member_path(email), expect=(204,))

    def batch_subscribe(
        self, entries: list[dict[str, Any]], *, update_existing: bool, fields: str = ""
    ) -> dict[str, Any]:
        body = {"members": entries, "update_existing": update_existing}
        query = {"fields": fields} if fields else {}
        return dict(self.call("POST", self.audience_path, json=body, params=query).json())

    def collect(self, path: str, key: str, fields: str, **filters: str) -> list[dict[str, Any]]:
        """Every item of a listing, page by page until `total_items`; refuses audiences too
        large to read in a short probe."""
        items: list[dict[str, Any]] = []
        query = {**filters, "fields": f"{fields},total_items", "count": PAGE_SIZE}
        for page in range(MAX_PAGES):
            body = self.call("GET", path, params={**query, "offset": page * PAGE_SIZE}).json()
            items.extend(body[key])
            if not body[key] or len(items) >= body["total_items"]:
                return items
        raise ProbeError(f"more than {MAX_PAGES * PAGE_SIZE} {key}: use a throwaway audience")

    # Tags and merge fields ---------------------------------------------------------------

    def new_tag(self, label: str) -> str:
        name = f"{TAG_PREFIX}-{self.run_id}-{label}"
        self.created.tags.append(name)
        return name

    def set_tag(self, email: str, tag: str, *, active: bool) -> None:
        body = {"tags": [{"name": tag, "status": "active" if active else "inactive"}]}
        self.call("POST", f"{self.member_path(email)}/tags", json=body, expect=(200, 204))

    def add_merge_field(self, field_type: str, options: dict[str, str]) -> str:
        """A new merge field; returns its tag (≤ 10 characters, unique to this run)."""
        tag = f"P{self.run_id[:6]}{len(self.created.merge_ids)}".upper()
        body = {"name": f"Probe {tag}", "tag": tag, "type": field_type, "options": options}
        answer = self.call("POST", f"{self.audience_path}/merge-fields", json=body).json()
        self.created.merge_ids.append(int(answer["merge_id"]))
        return str(answer["tag"])

    # Clean-up -------------------------------------------------------------------------------

    def clean_up(self) -> list[str]:
        """Archive the run's contacts (never delete-permanent), delete its tags and merge
        fields. Returns what was left behind, so that a person can finish by hand."""
        steps: list[tuple[str, Callable[[], None]]] = [
            *((f"contact {e}", partial(self._archive_if_present, e)) for e in self.created.emails),
            ("tags", self._delete_tags),
            *(
                (f"merge field {i}", partial(self._delete_merge_field, i))
                for i in self.created.merge_ids
            ),
        ]
        left: list[str] = []
        for what, step in steps:
            try:
                step()
            except (ProbeError, requests.RequestException) as error:
                left.append(f"{self.name}: {what} ({error})")
        return left

    def _archive_if_present(self, email: str) -> None:
        response = self.call("GET", self.member_path(email), expect=(200, 404))
        if response.status_code == 200 and response.json()["status"] != "archived":
            self.archive(email)

    def _delete_tags(self) -> None:
        wanted = set(self.created.tags)
        segments = self.collect(
            f"{self.audience_path}/segments", "segments", "segments.id,segments.name", type="static"
        )
        for segment in segments:
            if segment["name"] in wanted:
                self.call("DELETE", f"{self.audience_path}/segments/{segment['id']}", expect=(204,))

    def _delete_merge_field(self, merge_id: int) -> None:
        self.call("DELETE", f"{self.audience_path}/merge-fields/{merge_id}", expect=(204,))


def describe(response: requests.Response) -> str:
    """Status and problem title: what compares across sides (details and ids do not)."""
    try:
        title = response.json().get("title", "")
    except ValueError:
        title = ""
    return f"{response.status_code} {title}".strip()
