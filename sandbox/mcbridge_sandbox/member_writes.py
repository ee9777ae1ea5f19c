"""Every change to a member, with Mailchimp's rules, for the API, batches and simulations.

A `MemberWriter` is one write session on one audience: it checks the rules, writes through
the store inside one transaction and collects the webhook events, which are published only
once the transaction has committed. Whoever sets a contact back to subscribed, other than
the person through a sign-up form, is written to the consent ledger in that transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from mcbridge_sandbox import problems, rules
from mcbridge_sandbox.events import MemberEvent, snapshot
from mcbridge_sandbox.keys import new_id, new_web_id, subscriber_hash
from mcbridge_sandbox.models import Audience, Member, Resubscription, Segment, WriteOrigin

if TYPE_CHECKING:
    from mcbridge_sandbox.runtime import SandboxRuntime

STATUS_EVENTS = {"subscribed": "subscribe", "unsubscribed": "unsubscribe", "cleaned": "cleaned"}
PROFILE_ATTRIBUTES = ("email_type", "language", "vip", "ip_signup", "timestamp_signup", "ip_opt")
ADMIN_UNSUBSCRIBE_REASON = "N/A (Unsubscribed by an admin)"
OUTSIDE_THE_API = WriteOrigin()


@dataclass(frozen=True)
class MemberInput:
    """A member body as sent by a client; None means "not given"."""

    email: str | None = None
    status: str | None = None
    status_if_new: str | None = None
    merge_fields: dict[str, Any] | None = None
    tags: list[str] | None = None
    email_type: str | None = None
    language: str | None = None
    vip: bool | None = None
    ip_signup: str | None = None
    timestamp_signup: str | None = None
    ip_opt: str | None = None
    marketing_permissions: dict[str, bool] | None = None


class MemberWriter:
    def __init__(
        self,
        runtime: SandboxRuntime,
        audience: Audience,
        *,
        source: str = "api",
        origin: WriteOrigin = OUTSIDE_THE_API,
        skip_merge_validation: bool = False,
    ) -> None:
        self.store = runtime.store
        self.audience = audience
        self.source = source
        self.origin = origin
        self.now = runtime.clock.iso_now()
        self.skip_required = skip_merge_validation
        self.fields = self.store.merge_fields.of_audience(audience.pk)
        self.schema = rules.MergeSchema(self.fields)
        self.events: list[MemberEvent] = []
        self._wants_events = bool(self.store.webhooks.of_audience(audience.pk))
        self._known: dict[str, Member | None] = {}
        self._screened: set[str] = set()
        self._forgotten: set[str] = set()
        self._throttled: set[str] = set()
        self._segments: dict[str, Segment] = {}
        self._touched: set[int] = set()
        self._deferring = False
        self._pending: dict[int, Member] = {}
        self._pending_tags: list[tuple[int, int]] = []
        self._next_id = 0

    # Bulk writes ----------------------------------------------------------------------------

    def defer_inserts(self) -> None:
        """From now on new members (and their tags) are written in bulk by `flush`: a batch
        subscribe of 500 becomes two statements instead of a thousand. Ids are assigned
        here, which is safe because the writer holds the store's only write transaction."""
        self._deferring = True

    def flush(self) -> None:
        if self._pending:
            self.store.members.insert_many(list(self._pending.values()))
            self._pending.clear()
        if self._pending_tags:
            self.store.segments.add_members(self._pending_tags, self.now)
            self._pending_tags.clear()

    def _store_new(self, member: Member) -> None:
        if not self._deferring:
            self.store.members.insert(member)
            return
        if not self._next_id:
            self._next_id = self.store.members.next_id()
        member.id, self._next_id = self._next_id, self._next_id + 1
        self._pending[member.id] = member

    # Lookups ---------------------------------------------------------------------------

    def prefetch(self, hashes: Iterable[str]) -> None:
        """Load many members in one query before a bulk write."""
        wanted = [h for h in hashes if h not in self._known]
        found = self.store.members.get_many(self.audience.pk, wanted)
        self._known.update((h, found.get(h)) for h in wanted)
        self._remember_suppressions(wanted)

    def find(self, member_hash: str) -> Member | None:
        if member_hash not in self._known:
            self._known[member_hash] = self.store.members.get(self.audience.pk, member_hash)
        return self._known[member_hash]

    def _remember_suppressions(self, hashes: list[str]) -> None:
        suppressions = self.store.suppressions
        self._forgotten |= suppressions.forgotten_among(self.audience.pk, hashes)
        self._throttled |= suppressions.throttled_among(hashes)
        self._screened.update(hashes)

    def _refusal(self, email: str, member_hash: str) -> problems.ApiError | None:
        """Why a new address may not be added: permanently deleted, or signup-throttled."""
        if member_hash not in self._screened:
            self._remember_suppressions([member_hash])
        if member_hash in self._forgotten:
            return problems.forgotten_email(email)
        if member_hash in self._throttled:
            return problems.too_many_signups(email)
        return None

    def lift_forgotten(self, member_hash: str) -> None:
        """The person signed up again themselves."""
        self.store.suppressions.remember(self.audience.pk, member_hash)
        self._forgotten.discard(member_hash)

    def existing(self, member_hash: str) -> Member:
        member = self.find(member_hash)
        if member is None:
            raise problems.not_found()
        return member

    # Writes used by the API ---------------------------------------------------------------

    def create(self, given: MemberInput) -> Member:
        """POST: only ever adds; an archived contact still counts as existing."""
        email = _required_email(given)
        if self.find(subscriber_hash(email)) is not None:
            raise problems.member_exists(email)
        status = given.status or _missing_status("status")
        return self.add_new(email, status, given)

    def upsert(self, member_hash: str, given: MemberInput) -> Member:
        """PUT: `status_if_new` for new addresses, `status` for existing ones."""
        email = _required_email(given)
        _check_hash(member_hash, email)
        member = self.find(member_hash)
        if member is None:
            status = given.status_if_new or given.status or _missing_status("status_if_new")
            return self.add_new(email, status, given)
        return self.update(member, given, given.status)

    def patch(self, member_hash: str, given: MemberInput) -> Member:
        if given.email is not None:
            _check_hash(member_hash, given.email)
        return self.update(self.existing(member_hash), given, given.status)

    def batch_subscribe(
        self, given: MemberInput, update_existing: bool, sync_tags: bool, member_hash: str = ""
    ) -> tuple[Member, bool]:
        """One entry of POST /lists/{id}: returns the member and whether it is reported
        created (`member_hash`: the address's hash, when the caller has it already).

        Every entry needs `status` (the schema has no `status_if_new`). An archived contact
        comes back with the status sent and is reported created, whatever `update_existing`
        says ([USER] reported created; [UNVERIFIED] that update_existing:false does not
        protect it: the choice that shows an export adding people it did not know were
        archived). Tags apply to new contacts only: existing ones, archived ones included,
        keep theirs ([UNVERIFIED]; ignoring them shows an export that relies on them).
        """
        email = _required_email(given)
        status = given.status or _missing_status("status")
        member_hash = member_hash or subscriber_hash(email)
        member = self.find(member_hash)
        if member is None:
            return self.add_new(
                email, status, given, sync_tags=sync_tags, known_hash=member_hash
            ), True
        if member.status == "archived":
            return self.update(member, given, status), True
        if not update_existing:
            raise problems.ApiError(
                400,
                "Member Exists",
                f"{email} is already a list member, do you want to update? "
                "please provide update_existing:true in the request body",
            )
        return self.update(member, given, status), False

    def archive(self, member_hash: str) -> None:
        """DELETE through the API; Mailchimp will not archive a cleaned contact that way."""
        member = self.existing(member_hash)
        if member.status == "cleaned":
            raise problems.ApiError(
                405,
                "Method Not Allowed",
                "This list member cannot be removed.  Please contact support.",
            )
        self.archive_member(member)

    def archive_member(self, member: Member) -> None:
        """The status before is kept (`prior_status`) but never shown by the API."""
        if member.status == "archived":
            return
        member.prior_status = member.status
        member.status = "archived"
        self._save(member)
        self._emit("unsubscribe", member, action="delete", reason="manual")

    def forget(self, member_hash: str) -> None:
        """delete-permanent: the address may never come back through the API."""
        member = self.existing(member_hash)
        self.store.members.delete(member.id)
        self.store.suppressions.forget(self.audience.pk, member_hash)
        self._known[member_hash] = None
        self._forgotten.add(member_hash)
        self._emit("unsubscribe", member, action="delete", reason="manual")

    # Building blocks, also used by simulations ---------------------------------------------

    def add_new(
        self,
        email: str,
        status: str,
        given: MemberInput,
        *,
        sync_tags: bool = False,
        known_hash: str = "",
    ) -> Member:
        rules.check_email(email)
        member_hash = known_hash or subscriber_hash(email)
        refusal = self._refusal(email, member_hash)
        if refusal is not None:
            raise refusal
        merges = self.schema.clean(
            given.merge_fields or {}, new_member=True, skip_required=self.skip_required
        )
        member = self._new_member(email, member_hash, status, merges, given)
        member.marketing_permissions = self._permissions(given)
        self._store_new(member)
        self._known[member_hash] = member
        if given.tags:
            changes = [(name, True) for name in given.tags]
            self.apply_tags(member, changes, replace=sync_tags, save=False)
        if status == "subscribed":
            self._emit("subscribe", member)
        return member

    def update(self, member: Member, given: MemberInput, status: str | None) -> Member:
        """Apply a body to an existing member; no change, no new `last_changed`.

        A cleaned member takes profile changes too [UNVERIFIED: the permissive choice, so
        an export that writes to cleaned contacts is not stopped by an error Mailchimp may
        not send]; `rules.check_status_change` keeps its status.
        """
        if status is not None:
            rules.check_status_change(member, status)
        merges = self.schema.clean(
            given.merge_fields or {}, new_member=False, skip_required=self.skip_required
        )
        merged = {**member.merge_fields, **merges}
        permissions = {**member.marketing_permissions, **self._permissions(given)}
        profile_changed = (
            merged != member.merge_fields
            or permissions != member.marketing_permissions
            or _attributes_differ(member, given)
        )
        status_changed = status is not None and status != member.status
        if not (profile_changed or status_changed):
            return member
        member.merge_fields = merged
        member.marketing_permissions = permissions
        _copy_attributes(member, given)
        if status_changed and status is not None:
            self.set_status(member, status, save=False)
        self._save(member)
        if profile_changed:
            self._emit("profile", member)
        return member

    def set_status(
        self,
        member: Member,
        status: str,
        *,
        compliance: bool = False,
        own_consent: bool = False,
        save: bool = True,
        **details: str,
    ) -> None:
        """Any status change but archiving. `compliance` when the person or a bounce took
        the contact out; a compliance state stays through any other change until the
        contact is subscribed again (which only its own consent may do); `own_consent`
        when the person subscribed themselves; `details` for the webhook. `save=False` when
        the caller saves the member itself, after more changes."""
        if status == member.status:
            return
        if status == "subscribed" and not own_consent and rules.needs_fresh_consent(member):
            self._record_resubscription(member)
        member.prior_status = ""
        member.status = status
        member.compliance = compliance or (member.compliance and status != "subscribed")
        if status == "subscribed":
            member.timestamp_opt = self.now
            member.unsubscribe_reason = ""
        if status == "unsubscribed":
            member.unsubscribe_reason = "N/A" if compliance else ADMIN_UNSUBSCRIBE_REASON
        if status in STATUS_EVENTS:
            self._emit(STATUS_EVENTS[status], member, **{**_status_details(status), **details})
        if save:
            self._save(member)

    def change_email(self, member: Member, new_email: str) -> None:
        rules.check_email(new_email)
        new_hash = subscriber_hash(new_email)
        if self.find(new_hash) is not None:
            raise problems.member_exists(new_email)
        old_email, old_hash = member.email, member.hash
        member.email, member.hash = new_email, new_hash
        self._save(member)
        self._known[old_hash], self._known[new_hash] = None, member
        self._emit("upemail", member, old_email=old_email, new_email=new_email, new_id=new_hash)

    def join_segment(self, member: Member, segment: Segment, *, active: bool) -> bool:
        """Static-segment membership is tagging by another name; it changes the member."""
        changed = self._join(member, segment, active)
        if changed:
            self._save(member)
        return changed

    def apply_tags(
        self,
        member: Member,
        changes: Sequence[tuple[str, bool]],
        *,
        replace: bool = False,
        save: bool = True,
    ) -> bool:
        """Add (True) or remove (False) tags by name; unknown names become new tags.

        `save=False` for a member inserted in this same session: its `last_changed` is
        already now, and saving it again would double a bulk write's cost.
        """
        changed = False
        wanted = {name.lower() for name, active in changes if active}
        if replace and member.id in self._pending:
            self.flush()
        if replace:
            for segment_id, name, _added in self.store.segments.tags_of([member.id])[member.id]:
                if name.lower() not in wanted:
                    changed |= self.store.segments.remove_member(segment_id, member.id)
        for name, active in changes:
            changed |= self._tag(member, name, active)
        if changed and save:
            self._save(member)
        return changed

    # Internals -----------------------------------------------------------------------------

    def _tag(self, member: Member, name: str, active: bool) -> bool:
        segment = self._segment(name, create=active)
        return segment is not None and self._join(member, segment, active)

    def _join(self, member: Member, segment: Segment, active: bool) -> bool:
        if active and member.id in self._pending:
            self._pending_tags.append((segment.id, member.id))
            changed = True
        elif active:
            changed = self.store.segments.add_member(segment.id, member.id, self.now)
        else:
            changed = self.store.segments.remove_member(segment.id, member.id)
        if changed and segment.id not in self._touched:
            self.store.segments.touch(segment.id, self.now)
            self._touched.add(segment.id)
        return changed

    def _segment(self, name: str, *, create: bool) -> Segment | None:
        key = name.lower()
        if key not in self._segments:
            found = self.store.segments.by_name(self.audience.pk, name)
            if found is None and create:
                found = self.store.segments.create(self.audience.pk, name, self.now)
            if found is None:
                return None
            self._segments[key] = found
        return self._segments[key]

    def _new_member(
        self,
        email: str,
        member_hash: str,
        status: str,
        merges: dict[str, Any],
        given: MemberInput,
    ) -> Member:
        return Member(
            id=0,
            audience_pk=self.audience.pk,
            hash=member_hash,
            email=email,
            unique_email_id=new_id(),
            web_id=new_web_id(),
            status=status,
            prior_status="",
            merge_fields=merges,
            email_type=given.email_type or "html",
            language=given.language or "",
            vip=bool(given.vip),
            ip_signup=given.ip_signup or "",
            timestamp_signup=given.timestamp_signup or "",
            ip_opt=given.ip_opt or "",
            timestamp_opt=self.now if status == "subscribed" else "",
            unsubscribe_reason="",
            source="API - Generic" if self.source == "api" else "Hosted Signup Form",
            last_changed=self.now,
        )

    def _permissions(self, given: MemberInput) -> dict[str, bool]:
        """The permissions a body sets, checked against the audience's: one it does not
        define, or any on an audience without GDPR fields, is refused [UNVERIFIED: the
        strict reading, which shows an export sending permissions it never read]."""
        if given.marketing_permissions is None:
            return {}
        defined = {permission.id for permission in self.audience.marketing_permissions}
        unknown = sorted(set(given.marketing_permissions) - defined)
        if unknown:
            raise problems.invalid_field(
                "marketing_permissions",
                f"This audience has no marketing permission {', '.join(unknown)}.",
            )
        return dict(given.marketing_permissions)

    def _record_resubscription(self, member: Member) -> None:
        archived = member.status == "archived"
        self.store.consent_ledger.add(
            Resubscription(
                id=0,
                at=self.now,
                audience_id=self.audience.id,
                email=member.email,
                status_before=member.status,
                archived_from=member.prior_status if archived else "",
                method=self.origin.method,
                path=self.origin.path,
                key=self.origin.key,
                batch_id=self.origin.batch_id,
            )
        )

    def _save(self, member: Member) -> None:
        if member.id in self._pending:
            self.flush()
        member.last_changed = self.now
        self.store.members.save(member)

    def _emit(self, event_type: str, member: Member, **details: str) -> None:
        if self._wants_events:
            self.events.append(MemberEvent(event_type, snapshot(member), dict(details)))


@contextmanager
def member_writes(
    runtime: SandboxRuntime,
    audience: Audience,
    *,
    source: str = "api",
    origin: WriteOrigin = OUTSIDE_THE_API,
    skip_merge_validation: bool = False,
) -> Iterator[MemberWriter]:
    """One transaction, ending with any deferred inserts; webhooks hear about it only if it
    commits."""
    writer = MemberWriter(
        runtime,
        audience,
        source=source,
        origin=origin,
        skip_merge_validation=skip_merge_validation,
    )
    with runtime.store.transaction():
        yield writer
        writer.flush()
    runtime.webhooks.publish(audience, source, writer.events)


def _status_details(status: str) -> dict[str, str]:
    if status == "unsubscribed":
        return {"action": "unsub", "reason": "manual"}
    if status == "cleaned":
        return {"reason": "hard"}
    return {}


def _attributes_differ(member: Member, given: MemberInput) -> bool:
    return any(
        getattr(given, name) is not None and getattr(given, name) != getattr(member, name)
        for name in PROFILE_ATTRIBUTES
    )


def _copy_attributes(member: Member, given: MemberInput) -> None:
    for name in PROFILE_ATTRIBUTES:
        if getattr(given, name) is not None:
            setattr(member, name, getattr(given, name))


def _required_email(given: MemberInput) -> str:
    if not given.email:
        raise problems.invalid_field("email_address", "This value should not be blank.")
    return given.email


def _missing_status(field: str) -> NoReturn:
    raise problems.invalid_field(
        field,
        "A status is required: subscribed, unsubscribed, cleaned, pending or transactional.",
    )


def _check_hash(member_hash: str, email: str) -> None:
    if subscriber_hash(email) != member_hash:
        raise problems.invalid(
            "The email address in the body does not match the subscriber hash in the URL "
            "(the MD5 hash of the lowercased address)."
        )
