"""Writing the plan to Mailchimp in bulk, within the connection cap, one refusal at a time.

Adds and updates go by batch subscribe (500 per call, several calls at once, tags added in
the same call); archives go one by one when few, through /batches when many; tags come off
through their segment, 500 members per call. What Mailchimp refuses is classified per
address and never stops the rest.
"""

from __future__ import annotations

import json
from collections import defaultdict
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
    tag_segment_ids,
)
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import MailchimpError
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.messages import Message, raw
from mcbridge.sync.plan import SUBSCRIBES, Action, Step, joins_other_lists

BATCH_OPERATIONS_LIMIT = 5000
PERMANENT_REFUSALS = (
    ("permanently deleted", "deleted"),
    ("forgotten email", "deleted"),
    ("looks fake or invalid", "invalid"),
)


@dataclass
class Written:
    """What the writes did, gathered from every thread, for the result and the mirror.

    Written members are kept as (address, status, last change) only: a large export gets
    hundreds of thousands of full member documents back.
    """

    members: list[tuple[str, str, str | None]] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    untagged: list[tuple[str, str]] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, Message]] = field(default_factory=list)

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

    Only members mcbridge adds (or that another mcbridge list added) get the list's tag: a
    recipient who signed up by themselves stays theirs, and is never archived by mcbridge.
    Role tags to add travel in the same call.
    """
    assert step.wanted is not None
    tags = sorted(step.add_tags)
    if step.action is not Action.UPDATE or joins_other_lists(step.known):
        tags.insert(0, tag)
    entry: dict[str, Any] = {
        "email_address": step.email,
        "status": "subscribed",
        "merge_fields": json.loads(step.wanted.fields),
    }
    if tags:
        entry["tags"] = tags
    return entry


def removals(steps: list[Step], tag: str) -> dict[str, list[str]]:
    """Addresses per tag to take off: dropped role tags, and a released member's tags."""
    by_tag: dict[str, list[str]] = defaultdict(list)
    for step in steps:
        names = set(step.remove_tags)
        if step.action is Action.UNTAG:
            names.add(tag)
        for name in names:
            by_tag[name].append(step.email)
    return by_tag


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
    written.members.extend(
        (str(m.get("email_address", "")).lower(), str(m.get("status", "")), m.get("last_changed"))
        for m in outcome.written
    )
    for member_error in outcome.errors:
        kind, reason = classify(member_error)
        if kind == "refused":
            written.refused.append((member_error.email, reason, member_error.message))
        elif kind == "unsubscribed":
            written.unsubscribed.append(member_error.email)
        else:
            written.failed.append((member_error.email, raw(member_error.message)))
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
            body = result.body
            written.failed.append(
                (
                    result.operation_id,
                    str(body.get("detail") or body.get("title") or result.status_code),
                )
            )
    return written


def untag_chunk(target: Target, segment_id: int, tag: str, emails: list[str]) -> Written:
    written = Written()
    try:
        remove_tag(target.client, target.list_id, segment_id, emails)
        written.untagged.extend((email, tag) for email in emails)
    except MailchimpError as error:
        written.failed.extend((email, error.user_message()) for email in emails)
    return written


def apply_steps(target: Target, steps: list[Step], progress: Callable[[int, int], None]) -> Written:
    """Run every write, up to `workers` calls at a time, reporting members done so far."""
    total, done = len(steps), 0
    written = Written()
    with ThreadPoolExecutor(max_workers=target.workers) as pool:
        sizes = submit_all(pool, target, steps)
        for future in as_completed(sizes):
            written.merge(future.result())
            done = min(done + sizes[future], total)
            progress(done, total)
    return written


def submit_all(
    pool: ThreadPoolExecutor, target: Target, steps: list[Step]
) -> dict[Future[Written], int]:
    """Every write call as a task of the pool, with the number of members it covers."""
    subscribes = [step for step in steps if step.action in SUBSCRIBES]
    archives = [step for step in steps if step.action is Action.ARCHIVE]
    sizes = {
        pool.submit(subscribe_chunk, target, chunk): len(chunk)
        for chunk in chunks(subscribes, BATCH_SUBSCRIBE_LIMIT)
    }
    if len(archives) > target.batch_threshold:
        for chunk in chunks(archives, BATCH_OPERATIONS_LIMIT):
            sizes[pool.submit(archive_in_batch, target, chunk)] = len(chunk)
    else:
        sizes.update({pool.submit(archive_one, target, step): 1 for step in archives})
    by_tag = removals(steps, target.tag)
    segment_ids = tag_segment_ids(target.client, target.list_id) if by_tag else {}
    for tag, emails in by_tag.items():
        if tag in segment_ids:
            for chunk in chunks(emails, SEGMENT_LIMIT):
                sizes[pool.submit(untag_chunk, target, segment_ids[tag], tag, chunk)] = len(chunk)
    return sizes
