"""The Mailchimp calls mcbridge makes, one function each, in mcbridge's own terms."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import MailchimpError, UnavailableError
from mcbridge.mailchimp.keys import subscriber_hash

BATCH_SUBSCRIBE_LIMIT = 500
SEGMENT_LIMIT = 500
MEMBER_FIELDS = ("email_address", "status", "merge_fields", "tags", "last_changed")


@dataclass(frozen=True)
class AudienceInfo:
    id: str
    name: str
    member_count: int


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


def check_audience(client: Client, list_id: str) -> AudienceInfo:
    """Read the audience, which also checks the key: Mailchimp answers a refused key with
    the same 401 here as on /ping, so a ping first would only cost a round trip."""
    audience = client.lists.get(list_id, fields="id,name,stats.member_count")
    return AudienceInfo(
        id=audience["id"],
        name=audience.get("name", ""),
        member_count=int(audience.get("stats", {}).get("member_count", 0)),
    )


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


def member_total(client: Client, list_id: str) -> int:
    """How many members the audience has, whatever their status (one small read)."""
    answer = client.lists.members.all(list_id, count=1, fields="total_items")
    return int(answer.get("total_items", 0))


def merge_fields(client: Client, list_id: str) -> list[MergeField]:
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


def member_pages(
    client: Client,
    list_id: str,
    *,
    since: str | None,
    page_size: int,
    workers: int,
) -> tuple[int, datetime | None, Iterator[list[dict[str, Any]]]]:
    """All members (or those changed since `since`), page by page, several pages at a time.

    Returns the total, Mailchimp's clock when the read began (so the next read can start
    there, whatever our own clock says) and the pages. Only the fields the sync compares
    are requested.
    """
    fields = ",".join(f"members.{name}" for name in MEMBER_FIELDS) + ",total_items"
    query: dict[str, Any] = {"fields": fields}
    if since:
        query["since_last_changed"] = since

    def page(offset: int) -> dict[str, Any]:
        return client.lists.members.all(list_id, count=page_size, offset=offset, **query)

    first = page(0)
    started = client.server_time()
    total = int(first.get("total_items", 0))
    offsets = range(page_size, total, page_size)

    def pages() -> Iterator[list[dict[str, Any]]]:
        yield first.get("members", [])
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for answer in read_ahead(pool, page, offsets, 2 * workers):
                yield answer.get("members", [])

    return total, started, pages()


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
    client: Client, list_id: str, members: list[dict[str, Any]]
) -> SubscribeOutcome:
    """Add or update up to 500 members; Mailchimp answers 200 even when some are refused.

    The answer is trimmed to what mcbridge reads (`fields`): in full it repeats every
    member's whole record, and decoding that would cost more than everything else.
    """
    answer = client.post(
        f"lists/{list_id}?fields={SUBSCRIBE_ANSWER}",
        {"members": members, "update_existing": True},
    )
    written = [*answer.get("new_members", []), *answer.get("updated_members", [])]
    errors = [member_error(item) for item in answer.get("errors", [])]
    return SubscribeOutcome(written=written, errors=errors)


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


def archive(client: Client, list_id: str, email: str) -> None:
    """Archive (Mailchimp's DELETE); never the permanent delete, which forbids re-adding."""
    client.lists.members.delete(list_id, subscriber_hash(email))


def tag_segment_ids(client: Client, list_id: str) -> dict[str, int]:
    """Tags (static segments) of the audience, by name."""
    answer = client.lists.segments.all(
        list_id, get_all=True, type="static", fields="segments.id,segments.name"
    )
    return {segment["name"]: int(segment["id"]) for segment in answer.get("segments", [])}


def remove_tag(client: Client, list_id: str, segment_id: int, emails: list[str]) -> None:
    """Take a tag off up to 500 members in one call."""
    client.lists.segments.update_members(
        list_id, str(segment_id), {"members_to_remove": emails[:SEGMENT_LIMIT]}
    )


@dataclass(frozen=True)
class OperationResult:
    operation_id: str
    status_code: int
    body: dict[str, Any]


def run_batch(
    client: Client,
    operations: list[dict[str, Any]],
    *,
    poll: float,
    timeout: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[OperationResult]:
    """Submit operations to /batches, wait for Mailchimp to finish them, read each result.

    Waiting is bounded: a batch still unfinished after `timeout` ends the run as failed
    rather than polling for hours, and the batch keeps running on Mailchimp's side.
    """
    batch = client.batch_operations.create({"operations": operations})
    deadline = time.monotonic() + timeout
    while batch.get("status") != "finished":
        if time.monotonic() > deadline:
            raise UnavailableError(None, "Batch too slow", f"batch {batch.get('id')} unfinished")
        time.sleep(poll)
        batch = client.batch_operations.get(batch["id"])
        if on_progress:
            on_progress(int(batch.get("finished_operations", 0)), len(operations))
    return batch_results(client, batch.get("response_body_url", ""))


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
