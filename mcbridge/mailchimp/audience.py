"""The Mailchimp calls mcbridge makes, one function each, in mcbridge's own terms."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from mcbridge.clock import now_utc
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import (
    AudienceNotFoundError,
    MailchimpError,
    NotFoundError,
    UnavailableError,
)
from mcbridge.mailchimp.keys import subscriber_hash

BATCH_SUBSCRIBE_LIMIT = 500
SEGMENT_LIMIT = 500
MAX_PAGE = 1000
SMALLEST_PAGE = 50
MEMBER_FIELDS = ("email_address", "status", "merge_fields", "language", "tags", "last_changed")
# The default listing may leave archived contacts out ([UNVERIFIED]), so they are read on
# their own: an export must know every archived address before it adds anyone.
LISTINGS: tuple[str | None, ...] = (None, "archived")
SUBMITTED_MARGIN = timedelta(minutes=2)
FIRST_POLL = 0.5


@dataclass(frozen=True)
class AudienceInfo:
    id: str
    name: str
    member_count: int
    marketing_permissions: bool = False
    """GDPR-enabled: each contact has the audience's marketing permissions, on or off."""


@dataclass(frozen=True)
class MarketingPermission:
    id: str
    text: str


@dataclass(frozen=True)
class MergeField:
    tag: str
    name: str
    type: str
    required: bool
    options: dict[str, Any]


@dataclass(frozen=True)
class MemberError:
    email: str
    code: str
    message: str


@dataclass(frozen=True)
class SubscribeOutcome:
    """What a batch subscribe did: members written (with Mailchimp's view) and refusals."""

    written: list[dict[str, Any]]
    errors: list[MemberError]


@contextmanager
def about_the_audience() -> Iterator[None]:
    """A 404 on the audience's own resources means the audience is not there (a 404 on one
    contact or batch means only that this contact or batch is not)."""
    try:
        yield
    except NotFoundError as error:
        raise AudienceNotFoundError(error.status, error.title, error.detail) from error


def check_audience(client: Client, list_id: str) -> AudienceInfo:
    """Read the audience, which also checks the key: Mailchimp answers a refused key with
    the same 401 here as on /ping, so a ping first would only cost a round trip."""
    with about_the_audience():
        audience = client.lists.get(
            list_id, fields="id,name,stats.member_count,marketing_permissions"
        )
    return AudienceInfo(
        id=audience["id"],
        name=audience.get("name", ""),
        member_count=int(audience.get("stats", {}).get("member_count", 0)),
        marketing_permissions=bool(audience.get("marketing_permissions")),
    )


def marketing_permissions(client: Client, list_id: str) -> list[MarketingPermission]:
    """A GDPR audience's marketing permissions, read from one of its contacts: Mailchimp
    shows them only on members (each carries all of them, on or off), so an audience
    without contacts shows none yet."""
    with about_the_audience():
        answer = client.lists.members.all(list_id, count=1, fields="members.marketing_permissions")
    members = answer.get("members") or [{}]
    return [
        MarketingPermission(id=str(item["marketing_permission_id"]), text=str(item.get("text")))
        for item in members[0].get("marketing_permissions") or []
    ]


def audiences(client: Client) -> list[AudienceInfo]:
    """The account's audiences, to help someone who mistyped the id."""
    answer = client.lists.all(get_all=True, fields="lists.id,lists.name,lists.stats.member_count")
    return [
        AudienceInfo(
            item["id"], item.get("name", ""), int(item.get("stats", {}).get("member_count", 0))
        )
        for item in answer.get("lists", [])
    ]


def register_webhook(client: Client, list_id: str, url: str) -> str:
    """Ask Mailchimp to tell `url` about unsubscribes, bounces, profile and address changes.

    Changes made through the API (mcbridge's own) are not reported back. mailchimp3's own
    helper refuses local addresses before asking, which the sandbox and intranets need,
    so the call goes through the client's plain POST.
    """
    body = {
        "url": url,
        "events": {
            "subscribe": True,
            "unsubscribe": True,
            "profile": True,
            "cleaned": True,
            "upemail": True,
            "campaign": False,
        },
        "sources": {"user": True, "admin": True, "api": False},
    }
    return str(client.post(f"lists/{list_id}/webhooks", body)["id"])


def delete_webhook(client: Client, list_id: str, webhook_id: str) -> None:
    client.lists.webhooks.delete(list_id, webhook_id)


def member_total(client: Client, list_id: str, since: str | None = None) -> int:
    """How many members the audience has (changed since `since`), archived ones included:
    one small read per listing, both at once."""

    def total(status: str | None) -> int:
        query = listing_query(status, since)
        with about_the_audience():
            answer = client.lists.members.all(list_id, count=1, fields="total_items", **query)
        return int(answer.get("total_items", 0))

    return sum(per_listing(total))


def per_listing(call: Callable[[str | None], Any]) -> list[Any]:
    """`call` for each listing, at once: a round trip each is what a distant Mailchimp
    costs, and an export makes these reads several times."""
    with ThreadPoolExecutor(max_workers=len(LISTINGS)) as pool:
        return list(pool.map(call, LISTINGS))


def listing_query(status: str | None, since: str | None) -> dict[str, str]:
    query = {}
    if status:
        query["status"] = status
    if since:
        query["since_last_changed"] = since
    return query


def merge_fields(client: Client, list_id: str) -> list[MergeField]:
    with about_the_audience():
        answer = client.lists.merge_fields.all(list_id, get_all=True)
    return [merge_field(item) for item in answer.get("merge_fields", [])]


def create_merge_field(client: Client, list_id: str, spec: dict[str, Any]) -> MergeField:
    return merge_field(client.lists.merge_fields.create(list_id, spec))


def merge_field(item: dict[str, Any]) -> MergeField:
    return MergeField(
        tag=item["tag"],
        name=item.get("name", item["tag"]),
        type=item.get("type", "text"),
        required=bool(item.get("required")),
        options=item.get("options") or {},
    )


class MemberListing:
    """Every member (or those changed since `since`), page by page, several pages at a time,
    through both listings (see LISTINGS).

    `start` reads the first pages and returns the total at that moment and Mailchimp's
    clock when the read began (the next read starts there, whatever our own clock says).
    Only the fields the sync compares are requested. A page that times out (504, or no
    answer) is read again in two halves: large pages are what times out on big audiences.
    """

    def __init__(
        self, client: Client, list_id: str, *, since: str | None, page_size: int, workers: int
    ) -> None:
        self.client = client
        self.list_id = list_id
        self.since = since
        self.page_size = max(1, min(page_size, MAX_PAGE))
        self.workers = workers
        self.fields = ",".join(f"members.{name}" for name in MEMBER_FIELDS) + ",total_items"
        self.first: dict[str | None, dict[str, Any]] = {}

    def start(self) -> tuple[int, datetime | None]:
        def first_page(status: str | None) -> tuple[dict[str, Any], datetime | None]:
            return self.answer(status, 0, self.page_size), self.client.server_time()

        answers = per_listing(first_page)
        pairs = zip(LISTINGS, answers, strict=True)
        self.first = {status: answer for status, (answer, _at) in pairs}
        started = min((at for _answer, at in answers if at is not None), default=None)
        return sum(int(answer.get("total_items", 0)) for answer in self.first.values()), started

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for status, first in self.first.items():
                yield first.get("members", [])
                offsets = range(self.page_size, int(first.get("total_items", 0)), self.page_size)
                read = partial(self.page_at, status)
                yield from read_ahead(pool, read, offsets, 2 * self.workers)

    def total_now(self) -> int:
        return member_total(self.client, self.list_id, self.since)

    def page_at(self, status: str | None, offset: int) -> list[dict[str, Any]]:
        return list(self.answer(status, offset, self.page_size).get("members", []))

    def answer(self, status: str | None, offset: int, count: int) -> dict[str, Any]:
        try:
            return self._page(status, offset, count)
        except UnavailableError as error:
            if error.status not in (None, 504) or count <= SMALLEST_PAGE:
                raise
        half = count // 2
        first = self.answer(status, offset, half)
        second = self.answer(status, offset + half, count - half)
        return {**first, "members": [*first.get("members", []), *second.get("members", [])]}

    def _page(self, status: str | None, offset: int, count: int) -> dict[str, Any]:
        query = listing_query(status, self.since)
        with about_the_audience():
            return self.client.lists.members.all(
                self.list_id, count=count, offset=offset, fields=self.fields, **query
            )


def read_ahead(
    pool: ThreadPoolExecutor, call: Callable[[Any], Any], items: Iterable[Any], ahead: int
) -> Iterator[Any]:
    """`pool.map`, but never more than `ahead` answers waiting for the caller.

    `map` asks for every page at once: when the caller saves pages more slowly than
    Mailchimp serves them (PostgreSQL, a million members), every page of the audience piled
    up in memory (637 MB). Bounded, memory holds a few pages whatever the audience's size.
    """
    waiting: deque[Future[Any]] = deque()
    try:
        for item in items:
            waiting.append(pool.submit(call, item))
            if len(waiting) >= ahead:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()
    finally:
        for future in waiting:
            future.cancel()


SUBSCRIBE_ANSWER = ",".join(
    [
        *(
            f"{part}.{name}"
            for part in ("new_members", "updated_members")
            for name in ("email_address", "status", "last_changed")
        ),
        "errors",
        "total_created",
        "total_updated",
        "error_count",
    ]
)


def batch_subscribe(
    client: Client, list_id: str, members: list[dict[str, Any]], *, update_existing: bool
) -> SubscribeOutcome:
    """Add (or, with `update_existing`, also update) up to 500 members; Mailchimp answers
    200 even when some are refused.

    `update_existing` changes existing members' status to the one sent [DOC]: only an
    export bringing back contacts it archived itself may set it. Without it an address
    that exists after all comes back as ERROR_CONTACT_EXISTS and is left alone.
    The answer is trimmed to what mcbridge reads (`fields`): in full it repeats every
    member's whole record, and decoding that would cost more than everything else.
    """
    answer = client.post(
        f"lists/{list_id}?fields={SUBSCRIBE_ANSWER}",
        {"members": members, "update_existing": update_existing},
    )
    written = [*answer.get("new_members", []), *answer.get("updated_members", [])]
    errors = [member_error(item) for item in answer.get("errors", [])]
    return SubscribeOutcome(written=written, errors=errors)


MEMBER_ANSWER = "email_address,status,last_changed"


def create_member(client: Client, list_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Add one contact, and only a new one: an address the audience holds, archived ones
    included, is refused ("Member Exists") and left as it is. Unlike batch subscribe, this
    write takes `marketing_permissions`. Answers (address, status, last change)."""
    return client.post(f"lists/{list_id}/members?fields={MEMBER_ANSWER}", body)


def refusal(email: str, problem: dict[str, Any]) -> MemberError:
    """A single write's problem document read as batch subscribe reports a refused member,
    so both are judged alike ("Member Exists" is batch subscribe's ERROR_CONTACT_EXISTS)."""
    title = str(problem.get("title") or "")
    first = (problem.get("errors") or [{}])[0]
    return member_error(
        {
            "email_address": email,
            "error": problem.get("detail") or title,
            "error_code": "ERROR_CONTACT_EXISTS" if title == "Member Exists" else title,
            "field": first.get("field", ""),
            "field_message": first.get("message", ""),
        }
    )


def member_error(item: dict[str, Any]) -> MemberError:
    """One refused member; a refused merge field value is named in the message."""
    message = str(item.get("error", ""))
    if item.get("field"):
        message = f"{message} ({item['field']}: {item.get('field_message', '')})"
    return MemberError(
        email=str(item.get("email_address", "")).strip().lower(),
        code=str(item.get("error_code", "")),
        message=message,
    )


def member_path(list_id: str, email: str) -> str:
    return f"lists/{list_id}/members/{subscriber_hash(email)}"


def update_fields(client: Client, list_id: str, email: str, body: dict[str, Any]) -> None:
    """Change a member's merge fields (and language) and nothing else: no status travels,
    so a contact unsubscribed a moment ago stays unsubscribed."""
    client.patch(f"{member_path(list_id, email)}?fields=id", body)


def archive(client: Client, list_id: str, email: str) -> None:
    """Archive (Mailchimp's DELETE); never the permanent delete, which forbids re-adding."""
    client.lists.members.delete(list_id, subscriber_hash(email))


def tag_segment_ids(client: Client, list_id: str) -> dict[str, int]:
    """Tags (static segments) of the audience, by name."""
    answer = client.lists.segments.all(
        list_id, get_all=True, type="static", fields="segments.id,segments.name"
    )
    return {segment["name"]: int(segment["id"]) for segment in answer.get("segments", [])}


def create_tag(client: Client, list_id: str, name: str) -> int:
    """A new, empty tag (a static segment); returns its segment id."""
    answer = client.post(
        f"lists/{list_id}/segments?fields=id", {"name": name, "static_segment": []}
    )
    return int(answer["id"])


def rename_tag(client: Client, list_id: str, segment_id: int, name: str) -> None:
    """One call re-tags every contact that carries the tag."""
    client.lists.segments.update(list_id, str(segment_id), {"name": name})


SEGMENT_ANSWER = "total_added,total_removed,errors"


def change_tag(
    client: Client, list_id: str, segment_id: int, emails: list[str], *, add: bool
) -> list[str]:
    """Put a tag on (or take it off) up to 500 members in one call, without touching
    anything else of theirs; returns the addresses Mailchimp did not find."""
    key = "members_to_add" if add else "members_to_remove"
    answer = client.post(
        f"lists/{list_id}/segments/{segment_id}?fields={SEGMENT_ANSWER}",
        {key: emails[:SEGMENT_LIMIT]},
    )
    return [
        str(email).lower()
        for error in answer.get("errors") or []
        for email in error.get("email_addresses") or []
    ]


@dataclass(frozen=True)
class OperationResult:
    operation_id: str
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class BatchOutcome:
    """A finished /batches job: each operation's answer, and Mailchimp's clock when it
    completed (every change it made happened before)."""

    results: list[OperationResult]
    completed_at: datetime | None


class BatchStillRunningError(MailchimpError):
    """Mailchimp has not finished the batch by the deadline; it goes on there, and the next
    export reads its results."""

    def __init__(self, batch_id: str) -> None:
        super().__init__(None, "Batch still running", f"batch {batch_id} unfinished")
        self.batch_id = batch_id


def run_batch(
    client: Client,
    operations: list[dict[str, Any]],
    *,
    poll: float,
    timeout: float,
    known: set[str],
) -> BatchOutcome:
    """Submit operations to /batches, wait for Mailchimp to finish them, read each result.

    The first looks come soon and then slow down to every `poll` seconds: a small batch is
    done in a second or two. Waiting is bounded: a batch still unfinished after `timeout` raises
    BatchStillRunningError. `known`: batch ids this export already has, never mistaken
    for this one when a lost answer has to be looked for.
    """
    batch = submit_batch(client, operations, known)
    deadline = time.monotonic() + timeout
    wait = min(poll, FIRST_POLL)
    while batch.get("status") != "finished":
        if time.monotonic() > deadline:
            raise BatchStillRunningError(str(batch["id"]))
        time.sleep(wait)
        wait = min(2 * wait, poll)
        batch = batch_status(client, batch["id"])
    return batch_outcome(client, batch)


def batch_status(client: Client, batch_id: str) -> dict[str, Any]:
    return client.batch_operations.get(batch_id)


def batch_outcome(client: Client, batch: dict[str, Any]) -> BatchOutcome:
    completed = batch.get("completed_at")
    return BatchOutcome(
        results=batch_results(client, batch.get("response_body_url", "")),
        completed_at=datetime.fromisoformat(completed) if completed else client.server_time(),
    )


def submit_batch(
    client: Client, operations: list[dict[str, Any]], known: set[str]
) -> dict[str, Any]:
    """POST /batches once; if the answer is lost, Mailchimp may have the batch already, so
    it is looked for (same size, submitted since) before it is sent again."""
    sent_after = client.server_time()
    try:
        with client.single_attempt():
            batch = client.batch_operations.create({"operations": operations})
    except UnavailableError:
        batch = find_submitted(client, len(operations), sent_after, known)
        if batch is None:
            batch = client.batch_operations.create({"operations": operations})
    known.add(str(batch["id"]))
    return batch


def find_submitted(
    client: Client, size: int, sent_after: datetime | None, known: set[str]
) -> dict[str, Any] | None:
    answer = client.batch_operations.all(get_all=False, count=100)
    earliest = (sent_after or now_utc()) - SUBMITTED_MARGIN
    candidates = [
        batch
        for batch in answer.get("batches", [])
        if int(batch.get("total_operations", -1)) == size
        and str(batch.get("id")) not in known
        and datetime.fromisoformat(batch.get("submitted_at") or "1970-01-01T00:00:00+00:00")
        >= earliest
    ]
    return max(candidates, key=lambda batch: batch.get("submitted_at", ""), default=None)


def batch_results(client: Client, url: str) -> list[OperationResult]:
    """Per-operation answers from the result archive (a .tar.gz of JSON arrays)."""
    if not url:
        return []
    download = client.session.get(url, timeout=client.timeout)
    if download.status_code >= 400:
        raise MailchimpError(download.status_code, "Batch results", "could not be downloaded")
    results: list[OperationResult] = []
    with tarfile.open(fileobj=io.BytesIO(download.content), mode="r:gz") as archive_file:
        for member in archive_file.getmembers():
            if not member.isfile() or not member.name.endswith(".json"):
                continue
            for item in json.load(archive_file.extractfile(member)):
                body = item.get("response") or "{}"
                results.append(
                    OperationResult(
                        operation_id=str(item.get("operation_id", "")),
                        status_code=int(item.get("status_code", 0)),
                        body=json.loads(body) if isinstance(body, str) and body else {},
                    )
                )
    return results
