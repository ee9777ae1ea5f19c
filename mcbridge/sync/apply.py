"""Writing the plan to Mailchimp in bulk, within the connection cap, one refusal at a time.

Only two kinds of write carry a status: new addresses go by batch subscribe without
`update_existing` (an address that exists after all is left alone), and contacts mcbridge
archived itself come back by batch subscribe with it. Every other change leaves the status
alone: fields by PATCH (one by one when few, through /batches when many), tags through
their static segment, 500 members a call. Archives go like field changes. What Mailchimp
refuses is classified per address and never stops the rest.

A list with marketing permissions (a GDPR audience) adds its new contacts by member
creates instead (POST /lists/{id}/members, like field changes: one by one when few,
through /batches when many), because batch subscribe ignores `marketing_permissions`.
The other way, batch subscribe and then a PATCH with the permissions, costs a call per
contact on top of the subscribes, leaves each contact subscribed without its consent
until the PATCH lands (for good if it fails), and the PATCH could reach someone who
already held the address. A create carries the permissions in the same write that makes
the contact, and like batch subscribe without `update_existing` it refuses ("Member
Exists") an address the audience holds, archived ones too: existing contacts keep their
status and their own permissions.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from mcbridge.mailchimp.audience import (
    BATCH_SUBSCRIBE_LIMIT,
    SEGMENT_LIMIT,
    BatchOutcome,
    BatchStillRunningError,
    MemberError,
    OperationResult,
    archive,
    batch_subscribe,
    change_tag,
    create_member,
    create_tag,
    member_path,
    refusal,
    run_batch,
    tag_segment_ids,
    update_fields,
)
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import MailchimpError, NotFoundError
from mcbridge.messages import N_, Message, raw
from mcbridge.sync.fields import member_body
from mcbridge.sync.plan import Action, Step, joins_other_lists

BATCH_OPERATIONS_LIMIT = 5000
PERMANENT_REFUSALS = (
    ("permanently deleted", "deleted"),
    ("forgotten email", "deleted"),
    ("looks fake or invalid", "invalid"),
)
ARCHIVE_OPERATION, PATCH_OPERATION, ADD_OPERATION = "archive", "patch", "add"
NOT_IN_AUDIENCE = Message(N_("This contact is no longer in the audience."))


@dataclass
class Written:
    """What the writes did, gathered from every thread, for the result and the mirror.

    Subscribed members are kept as (address, status, last change) only: a large export
    gets hundreds of thousands of member documents back. Archives carry Mailchimp's clock
    when they were done: what mcbridge archived, and nobody touched since, is its own to
    bring back.
    """

    members: list[tuple[str, str, str | None]] = field(default_factory=list)
    patched: list[str] = field(default_factory=list)
    archived: list[tuple[str, str | None]] = field(default_factory=list)
    tagged: list[tuple[str, str]] = field(default_factory=list)
    untagged: list[tuple[str, str]] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, Message]] = field(default_factory=list)
    running_batches: list[str] = field(default_factory=list)


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
    known_batches: set[str] = field(default_factory=set)
    permissions: tuple[str, ...] = ()
    """Marketing permissions (ids) on for every contact the list adds (GDPR audiences)."""


def moment(at: datetime | None) -> str | None:
    """Mailchimp's clock as its own `last_changed` spells it, to compare the two."""
    return at.astimezone(UTC).isoformat(timespec="seconds") if at else None


def subscriber(step: Step, target: Target) -> dict[str, Any]:
    """The batch-subscribe entry for one recipient. New contacts get the list's tag and
    their role tags in the same call; a contact brought back gets its tags through the
    segments (tags in a batch subscribe may not apply to existing members)."""
    assert step.wanted is not None
    entry: dict[str, Any] = {
        "email_address": step.email,
        "status": "subscribed",
        **member_body(step.wanted.fields, target.field_tags),
    }
    if step.action is Action.ADD:
        entry["tags"] = [target.tag, *sorted(step.add_tags)]
    return entry


def classify(error: MemberError) -> tuple[str, str]:
    """(kind, reason) of a refused member: "exists" (the address appeared meanwhile: left
    alone, the next read sees it), "refused" (for good), "unsubscribed" (Mailchimp keeps
    them out; not an error) or "error" (worth trying again next run)."""
    if error.code == "ERROR_CONTACT_EXISTS":
        return "exists", "exists"
    text = f"{error.code} {error.message}".lower()
    if "compliance state" in text:
        return "unsubscribed", "compliance"
    for marker, reason in PERMANENT_REFUSALS:
        if marker in text:
            return "refused", reason
    return "error", "error"


def new_contact(step: Step, target: Target) -> dict[str, Any]:
    """A contact the list adds, as one member write: the batch-subscribe entry with the
    list's marketing permissions, which batch subscribe does not take."""
    permissions = [{"marketing_permission_id": id_, "enabled": True} for id_ in target.permissions]
    return {**subscriber(step, target), "marketing_permissions": permissions}


def sort_refusal(written: Written, member_error: MemberError) -> None:
    kind, reason = classify(member_error)
    if kind == "exists":
        written.existing.append(member_error.email)
    elif kind == "refused":
        written.refused.append((member_error.email, reason, member_error.message))
    elif kind == "unsubscribed":
        written.unsubscribed.append(member_error.email)
    else:
        written.failed.append((member_error.email, raw(member_error.message)))


def subscribe_chunk(target: Target, steps: list[Step], *, update_existing: bool) -> Written:
    written = Written()
    try:
        outcome = batch_subscribe(
            target.client,
            target.list_id,
            [subscriber(step, target) for step in steps],
            update_existing=update_existing,
        )
    except MailchimpError as error:
        written.failed.extend((step.email, error.user_message()) for step in steps)
        return written
    written.members.extend(
        (str(m.get("email_address", "")).lower(), str(m.get("status", "")), m.get("last_changed"))
        for m in outcome.written
    )
    for member_error in outcome.errors:
        sort_refusal(written, member_error)
    return written


def added(written: Written, member: dict[str, Any]) -> None:
    email = str(member.get("email_address", "")).lower()
    written.members.append((email, str(member.get("status", "")), member.get("last_changed")))


def add_one(target: Target, step: Step) -> Written:
    """A refusal (400) is judged as batch subscribe's: one that exists after all is left
    alone; anything else (Mailchimp unreachable) is an error tried again next run."""
    written = Written()
    try:
        added(written, create_member(target.client, target.list_id, new_contact(step, target)))
    except MailchimpError as error:
        if error.status != 400:
            written.failed.append((step.email, error.user_message()))
            return written
        problem = {"title": error.title, "detail": error.detail, "errors": error.errors}
        sort_refusal(written, refusal(step.email, problem))
    return written


def patch_one(target: Target, step: Step) -> Written:
    written = Written()
    assert step.wanted is not None
    try:
        update_fields(
            target.client,
            target.list_id,
            step.email,
            member_body(step.wanted.fields, target.field_tags),
        )
        written.patched.append(step.email)
    except NotFoundError:
        written.failed.append((step.email, NOT_IN_AUDIENCE))
    except MailchimpError as error:
        written.failed.append((step.email, error.user_message()))
    return written


def archive_one(target: Target, step: Step) -> Written:
    """A 404 means the contact is gone already (deleted for good): as good as archived,
    but not by mcbridge, so never brought back by it."""
    written = Written()
    try:
        archive(target.client, target.list_id, step.email)
        written.archived.append((step.email, moment(target.client.server_time())))
    except NotFoundError:
        written.archived.append((step.email, None))
    except MailchimpError as error:
        written.failed.append((step.email, error.user_message()))
    return written


def operation_of(result: OperationResult) -> tuple[str, str]:
    """(kind, address) of one /batches operation, from its id."""
    kind, _, email = result.operation_id.partition(" ")
    return kind, email


def patch_operation(target: Target, step: Step) -> dict[str, Any]:
    assert step.wanted is not None
    return {
        "method": "PATCH",
        "path": "/" + member_path(target.list_id, step.email),
        "operation_id": f"{PATCH_OPERATION} {step.email}",
        "body": json.dumps(member_body(step.wanted.fields, target.field_tags)),
    }


def add_operation(target: Target, step: Step) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": f"/lists/{target.list_id}/members",
        "operation_id": f"{ADD_OPERATION} {step.email}",
        "body": json.dumps(new_contact(step, target)),
    }


def archive_operation(target: Target, step: Step) -> dict[str, Any]:
    return {
        "method": "DELETE",
        "path": "/" + member_path(target.list_id, step.email),
        "operation_id": f"{ARCHIVE_OPERATION} {step.email}",
    }


def patched_in(
    written: Written, email: str, result: OperationResult, _outcome: BatchOutcome
) -> bool:
    if result.status_code < 400:
        written.patched.append(email)
        return True
    return False


def archived_in(
    written: Written, email: str, result: OperationResult, outcome: BatchOutcome
) -> bool:
    status = result.status_code
    if status < 400 or status == 404:
        by_us = moment(outcome.completed_at) if status < 400 else None
        written.archived.append((email, by_us))
        return True
    return False


def added_in(written: Written, email: str, result: OperationResult, _outcome: BatchOutcome) -> bool:
    """Every answer is the add's outcome: the member written, or a refusal to sort."""
    if result.status_code < 400:
        added(written, result.body)
    elif result.status_code == 400:
        sort_refusal(written, refusal(email, result.body))
    else:
        return False
    return True


@dataclass(frozen=True)
class Bulk:
    """A kind of write that goes one by one when few and through /batches when many."""

    one: Callable[[Target, Step], Written]
    operation: Callable[[Target, Step], dict[str, Any]]
    done: Callable[[Written, str, OperationResult, BatchOutcome], bool]


PATCHES = Bulk(patch_one, patch_operation, patched_in)
ARCHIVES = Bulk(archive_one, archive_operation, archived_in)
ADDS = Bulk(add_one, add_operation, added_in)


def in_batch(target: Target, bulk: Bulk, steps: list[Step]) -> Written:
    """Many writes as one /batches job; the operation id names the kind and the address,
    so each result maps back to its member (and a job read by a later export, to what it
    did)."""
    written = Written()
    operations = [bulk.operation(target, step) for step in steps]
    try:
        outcome = run_batch(
            target.client,
            operations,
            poll=target.batch_poll,
            timeout=target.batch_timeout,
            known=target.known_batches,
        )
    except BatchStillRunningError as running:
        written.running_batches.append(running.batch_id)
        return written
    except MailchimpError as error:
        written.failed.extend((step.email, error.user_message()) for step in steps)
        return written
    for result in outcome.results:
        _kind, email = operation_of(result)
        if not bulk.done(written, email, result, outcome):
            body = result.body
            message = str(body.get("detail") or body.get("title") or result.status_code)
            written.failed.append((email, raw(message)))
    return written


def tag_chunk(target: Target, segment_id: int, tag: str, emails: list[str], add: bool) -> Written:
    written = Written()
    try:
        missing = set(change_tag(target.client, target.list_id, segment_id, emails, add=add))
    except MailchimpError as error:
        written.failed.extend((email, error.user_message()) for email in emails)
        return written
    done = written.tagged if add else written.untagged
    done.extend((email, tag) for email in emails if email not in missing)
    written.failed.extend((email, NOT_IN_AUDIENCE) for email in emails if email in missing)
    return written


def added_tags(step: Step, list_tag: str) -> set[str]:
    """Tags put on an existing contact through the segments: role tags it gains, and the
    list's tag for a contact this list takes on (brought back, adopted, or another list's)."""
    if step.action is Action.ADD or step.wanted is None:
        return set()
    names = set(step.add_tags)
    known = step.known
    takes_on = step.action in (Action.RESUBSCRIBE, Action.ADOPT) or joins_other_lists(known)
    if known is not None and not known.managed and takes_on:
        names.add(list_tag)
    return names


def removed_tags(step: Step, list_tag: str) -> set[str]:
    """Tags coming off this member: role tags no longer held; all ours when released."""
    names = set(step.remove_tags)
    if step.action is Action.UNTAG:
        names.add(list_tag)
    return names


def call_count(step: Step, list_tag: str) -> int:
    """How many calls write this member; with more than one, they may finish in any order."""
    main = step.action in (Action.ADD, Action.RESUBSCRIBE, Action.ARCHIVE) or step.writes_fields
    return int(main) + len(added_tags(step, list_tag)) + len(removed_tags(step, list_tag))


class BulkQueue:
    """Held to the end: up to the threshold the writes go one by one; past it, all of them
    go through /batches, 5,000 operations a job."""

    def __init__(self, writer: Writer, bulk: Bulk) -> None:
        self.writer = writer
        self.bulk = bulk
        self.steps: list[Step] = []
        self.batching = False

    def add(self, step: Step) -> None:
        self.steps.append(step)
        if len(self.steps) > self.writer.target.batch_threshold:
            self.batching = True
        if self.batching and len(self.steps) == BATCH_OPERATIONS_LIMIT:
            self._send_batch()

    def finish(self) -> None:
        if self.batching and self.steps:
            self._send_batch()
        for step in self.steps:
            self.writer.submit([step], partial(self.bulk.one, self.writer.target, step))
        self.steps = []

    def _send_batch(self) -> None:
        chunk, self.steps = self.steps, []
        self.writer.submit(chunk, partial(in_batch, self.writer.target, self.bulk, chunk))


class Writer:
    """Writes steps as the comparison produces them.

    A full chunk (500 subscribes, 500 members gaining or losing a tag, 5,000 archives or
    field changes) goes to the pool at once, so writing overlaps the rest of the
    comparison, and memory holds only chunks in flight, never the whole plan. Each finished
    call is handed to `on_written` with its steps, in the calling thread. Tags of contacts
    brought back wait until their batch subscribe is done: a tag call on a contact still
    archived could miss it.
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
        self.subscribes: dict[bool, list[Step]] = {False: [], True: []}
        self.patches = BulkQueue(self, PATCHES)
        self.archives = BulkQueue(self, ARCHIVES)
        self.adds = BulkQueue(self, ADDS)
        self.tag_changes: dict[tuple[str, bool], list[Step]] = defaultdict(list)
        self.after_subscribes: list[Step] = []
        self.segment_ids: dict[str, int] | None = None

    def add(self, step: Step) -> None:
        if step.action is Action.ADD and self.target.permissions:
            self.adds.add(step)
        elif step.action in (Action.ADD, Action.RESUBSCRIBE):
            self._subscribe(step, update_existing=step.action is Action.RESUBSCRIBE)
        elif step.writes_fields:
            self.patches.add(step)
        elif step.action is Action.ARCHIVE:
            self.archives.add(step)
        if step.action is Action.RESUBSCRIBE:
            self.after_subscribes.append(step)
        else:
            self._change_tags(step)

    def finish(self) -> None:
        """Send what is left, then wait for every call."""
        for update_existing, steps in self.subscribes.items():
            if steps:
                self._send_subscribes(update_existing)
        self.adds.finish()
        self.patches.finish()
        self.archives.finish()
        self._drain(until=0)
        for step in self.after_subscribes:
            self._change_tags(step)
        for (tag, add), steps in list(self.tag_changes.items()):
            self._send_tag(tag, add, steps)
        self.tag_changes.clear()
        self._drain(until=0)

    def submit(self, steps: list[Step], call: Callable[[], Written]) -> None:
        self.in_flight[self.pool.submit(call)] = steps
        self._drain(until=2 * self.target.workers)

    def _subscribe(self, step: Step, *, update_existing: bool) -> None:
        self.subscribes[update_existing].append(step)
        if len(self.subscribes[update_existing]) == BATCH_SUBSCRIBE_LIMIT:
            self._send_subscribes(update_existing)

    def _send_subscribes(self, update_existing: bool) -> None:
        chunk, self.subscribes[update_existing] = self.subscribes[update_existing], []
        call = partial(subscribe_chunk, self.target, chunk, update_existing=update_existing)
        self.submit(chunk, call)

    def _change_tags(self, step: Step) -> None:
        changes = [(tag, True) for tag in added_tags(step, self.target.tag)]
        changes += [(tag, False) for tag in removed_tags(step, self.target.tag)]
        for key in changes:
            self.tag_changes[key].append(step)
            if len(self.tag_changes[key]) == SEGMENT_LIMIT:
                self._send_tag(*key, self.tag_changes.pop(key))

    def _send_tag(self, tag: str, add: bool, steps: list[Step]) -> None:
        try:
            segment_id = self._segment_id(tag, create=add)
        except MailchimpError as error:
            failed = [(step.email, error.user_message()) for step in steps]
            self.on_written(steps, Written(failed=failed))
            return
        if segment_id is not None:
            emails = [step.email for step in steps]
            self.submit(steps, partial(tag_chunk, self.target, segment_id, tag, emails, add))

    def _segment_id(self, tag: str, *, create: bool) -> int | None:
        """Looked up once per export; a tag to put on that does not exist yet is created
        here, in the calling thread, so two chunks never create it twice."""
        if self.segment_ids is None:
            self.segment_ids = tag_segment_ids(self.target.client, self.target.list_id)
        if tag not in self.segment_ids and create:
            self.segment_ids[tag] = create_tag(self.target.client, self.target.list_id, tag)
        return self.segment_ids.get(tag)

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
