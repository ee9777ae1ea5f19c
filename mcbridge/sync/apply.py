"""Writing the plan to Mailchimp in bulk, within the connection cap, one refusal at a time.

Adds and updates go by batch subscribe (500 per call, several calls at once, tags added in
the same call); archives go one by one when few, through /batches when many; tags come off
through their segment, 500 members per call. What Mailchimp refuses is classified per
address and never stops the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from mcbridge.mailchimp.audience import (
    BATCH_SUBSCRIBE_LIMIT,
    SEGMENT_LIMIT,
    MemberError,
    archive,
    batch_subscribe,
    remove_tag,
    run_batch,
    tag_segment_ids,
)
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import MailchimpError
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.messages import Message, raw
from mcbridge.sync.fields import decode
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
    field_tags: tuple[str, ...]
    workers: int
    batch_threshold: int
    batch_poll: float
    batch_timeout: float


def subscriber(step: Step, tag: str, field_tags: tuple[str, ...]) -> dict[str, Any]:
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
        "merge_fields": decode(step.wanted.fields, field_tags),
    }
    if tags:
        entry["tags"] = tags
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
            target.client,
            target.list_id,
            [subscriber(step, target.tag, target.field_tags) for step in steps],
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


class Writer:
    """Writes steps as the comparison produces them.

    A full chunk (500 subscribes, 500 members losing a tag, 5,000 archives) goes to the
    pool at once, so writing overlaps the rest of the comparison, and memory holds only
    chunks in flight, never the whole plan. Each finished call is handed to `on_written`
    with its steps, in the calling thread.
    """

    def __init__(
        self,
        target: Target,
        pool: ThreadPoolExecutor,
        on_written: Callable[[list[Step], Written], None],
    ) -> None:
        self.target = target
        self.pool = pool
        self.on_written = on_written
        self.in_flight: dict[Future[Written], list[Step]] = {}
        self.subscribes: list[Step] = []
        self.archives: list[Step] = []
        self.batching_archives = False
        self.removals: dict[str, list[Step]] = defaultdict(list)
        self.segment_ids: dict[str, int] | None = None

    def add(self, step: Step) -> None:
        if step.action in SUBSCRIBES:
            self.subscribes.append(step)
            if len(self.subscribes) == BATCH_SUBSCRIBE_LIMIT:
                self._subscribe(self._take("subscribes"))
        elif step.action is Action.ARCHIVE:
            self._archive(step)
        for tag in removed_tags(step, self.target.tag):
            self.removals[tag].append(step)
            if len(self.removals[tag]) == SEGMENT_LIMIT:
                self._untag(tag, self.removals.pop(tag))

    def finish(self) -> None:
        """Send what is left, then wait for every call."""
        if self.subscribes:
            self._subscribe(self._take("subscribes"))
        if self.batching_archives and self.archives:
            chunk = self._take("archives")
            self._submit(chunk, partial(archive_in_batch, self.target, chunk))
        for step in self._take("archives"):
            self._submit([step], partial(archive_one, self.target, step))
        for tag, steps in list(self.removals.items()):
            self._untag(tag, steps)
        self.removals.clear()
        self._drain(until=0)

    def _take(self, name: str) -> list[Step]:
        taken = getattr(self, name)
        setattr(self, name, [])
        return taken

    def _subscribe(self, chunk: list[Step]) -> None:
        self._submit(chunk, partial(subscribe_chunk, self.target, chunk))

    def _archive(self, step: Step) -> None:
        """Held to the end: up to the threshold they go one by one; past it, all of them go
        through /batches, 5,000 operations a job."""
        self.archives.append(step)
        if len(self.archives) > self.target.batch_threshold:
            self.batching_archives = True
        if self.batching_archives and len(self.archives) == BATCH_OPERATIONS_LIMIT:
            chunk = self._take("archives")
            self._submit(chunk, partial(archive_in_batch, self.target, chunk))

    def _untag(self, tag: str, steps: list[Step]) -> None:
        if self.segment_ids is None:
            self.segment_ids = tag_segment_ids(self.target.client, self.target.list_id)
        if tag in self.segment_ids:
            emails = [step.email for step in steps]
            segment_id = self.segment_ids[tag]
            self._submit(steps, partial(untag_chunk, self.target, segment_id, tag, emails))

    def _submit(self, steps: list[Step], call: Callable[[], Written]) -> None:
        self.in_flight[self.pool.submit(call)] = steps
        self._drain(until=2 * self.target.workers)

    def _drain(self, until: int) -> None:
        """Fold in finished calls; block while more than `until` are in flight."""
        while self.in_flight:
            done = [future for future in self.in_flight if future.done()]
            if not done and len(self.in_flight) <= until:
                return
            if not done:
                done = [next(as_completed(self.in_flight))]
            for future in done:
                self.on_written(self.in_flight.pop(future), future.result())


def removed_tags(step: Step, list_tag: str) -> set[str]:
    """Tags coming off this member: role tags no longer held; all ours when released."""
    names = set(step.remove_tags)
    if step.action is Action.UNTAG:
        names.add(list_tag)
    return names
