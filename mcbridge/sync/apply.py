"""Writing the plan to Mailchimp in bulk, within the connection cap, one refusal at a time.

Adds and updates go by batch subscribe (500 per call, several calls at once); archives go
one by one when few, through /batches when many; tags come off through their segment, 500
members per call. What Mailchimp refuses is classified per address and never stops the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from mcbridge.mailchimp.audience import (
    BATCH_SUBSCRIBE_LIMIT,
    SEGMENT_LIMIT,
    MemberError,
    archive,
    batch_subscribe,
    chunks,
    remove_tag,
    run_batch,
    tag_segment_id,
)
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import MailchimpError
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.sync.plan import Action, Step, joins_other_lists

BATCH_OPERATIONS_LIMIT = 5000
PERMANENT_REFUSALS = (
    ("permanently deleted", "deleted"),
    ("forgotten email", "deleted"),
    ("looks fake or invalid", "invalid"),
)


@dataclass
class Written:
    """What the writes did, gathered from every thread, for the result and the mirror."""

    members: list[dict[str, Any]] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    untagged: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: Written) -> None:
        for name in ("members", "archived", "untagged", "unsubscribed", "refused", "failed"):
            getattr(self, name).extend(getattr(other, name))


@dataclass(frozen=True)
class Target:
    client: Client
    list_id: str
    tag: str
    workers: int
    batch_threshold: int
    batch_poll: float
    batch_timeout: float


def subscriber(step: Step, tag: str) -> dict[str, Any]:
    """The batch-subscribe entry for one recipient.

    Only members mcbridge adds (or that another mcbridge list added) get its tag: a
    recipient who signed up by themselves stays theirs, and is never archived by mcbridge.
    """
    assert step.wanted is not None
    entry: dict[str, Any] = {
        "email_address": step.email,
        "status": "subscribed",
        "merge_fields": json.loads(step.wanted.fields),
    }
    if step.action is not Action.UPDATE or joins_other_lists(step.known):
        entry["tags"] = [tag]
    return entry


def classify(error: MemberError) -> tuple[str, str]:
    """(kind, reason) of a refused member: kind is "refused" (for good), "unsubscribed"
    (Mailchimp keeps them out; not an error) or "error" (worth trying again next run)."""
    text = f"{error.code} {error.message}".lower()
    if "compliance state" in text:
        return "unsubscribed", "compliance"
    for marker, reason in PERMANENT_REFUSALS:
        if marker in text:
            return "refused", reason
    return "error", "error"


def subscribe_chunk(target: Target, steps: list[Step]) -> Written:
    written = Written()
    try:
        outcome = batch_subscribe(
            target.client, target.list_id, [subscriber(step, target.tag) for step in steps]
        )
    except MailchimpError as error:
        written.failed.extend((step.email, error.user_message()) for step in steps)
        return written
    written.members.extend(outcome.written)
    for member_error in outcome.errors:
        kind, reason = classify(member_error)
        if kind == "refused":
            written.refused.append((member_error.email, reason, member_error.message))
        elif kind == "unsubscribed":
            written.unsubscribed.append(member_error.email)
        else:
            written.failed.append((member_error.email, member_error.message))
    return written


def archive_one(target: Target, step: Step) -> Written:
    written = Written()
    try:
        archive(target.client, target.list_id, step.email)
        written.archived.append(step.email)
    except MailchimpError as error:
        written.failed.append((step.email, error.user_message()))
    return written


def archive_in_batch(target: Target, steps: list[Step]) -> Written:
    """Many archives as one /batches job; the address is the operation id, so each result
    maps back to its member."""
    operations = [
        {
            "method": "DELETE",
            "path": f"/lists/{target.list_id}/members/{subscriber_hash(step.email)}",
            "operation_id": step.email,
        }
        for step in steps
    ]
    written = Written()
    try:
        results = run_batch(
            target.client, operations, poll=target.batch_poll, timeout=target.batch_timeout
        )
    except MailchimpError as error:
        written.failed.extend((step.email, error.user_message()) for step in steps)
        return written
    for result in results:
        if result.status_code < 400 or result.status_code == 404:
            written.archived.append(result.operation_id)
        else:
            detail = str(
                result.body.get("detail") or result.body.get("title") or result.status_code
            )
            written.failed.append((result.operation_id, detail))
    return written


def untag_chunk(target: Target, segment_id: int | None, steps: list[Step]) -> Written:
    written = Written()
    emails = [step.email for step in steps]
    if segment_id is None:
        written.untagged.extend(emails)
        return written
    try:
        remove_tag(target.client, target.list_id, segment_id, emails)
        written.untagged.extend(emails)
    except MailchimpError as error:
        written.failed.extend((email, error.user_message()) for email in emails)
    return written


def apply_steps(target: Target, steps: list[Step], progress: Callable[[int, int], None]) -> Written:
    """Run every write, up to `workers` calls at a time, reporting members done so far."""
    subscribes = [s for s in steps if s.action in (Action.ADD, Action.RESUBSCRIBE, Action.UPDATE)]
    archives = [s for s in steps if s.action is Action.ARCHIVE]
    untags = [s for s in steps if s.action is Action.UNTAG]
    total, done = len(steps), 0
    written = Written()
    with ThreadPoolExecutor(max_workers=target.workers) as pool:
        sizes = submit_all(pool, target, subscribes, archives, untags)
        for future in as_completed(sizes):
            written.merge(future.result())
            done += sizes[future]
            progress(done, total)
    return written


def submit_all(
    pool: ThreadPoolExecutor,
    target: Target,
    subscribes: list[Step],
    archives: list[Step],
    untags: list[Step],
) -> dict[Future[Written], int]:
    """Every write call as a task of the pool, with the number of members it covers."""
    sizes = {
        pool.submit(subscribe_chunk, target, chunk): len(chunk)
        for chunk in chunks(subscribes, BATCH_SUBSCRIBE_LIMIT)
    }
    if len(archives) > target.batch_threshold:
        for chunk in chunks(archives, BATCH_OPERATIONS_LIMIT):
            sizes[pool.submit(archive_in_batch, target, chunk)] = len(chunk)
    else:
        sizes.update({pool.submit(archive_one, target, step): 1 for step in archives})
    if untags:
        segment_id = tag_segment_id(target.client, target.list_id, target.tag)
        for chunk in chunks(untags, SEGMENT_LIMIT):
            sizes[pool.submit(untag_chunk, target, segment_id, chunk)] = len(chunk)
    return sizes
