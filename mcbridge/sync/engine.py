"""One export of one mailing list to its audience, from the key check to the last write.

The order matters: nothing is written before the key, the audience and the whole audience
copy are known to be right, so a failure early on changes nothing in Mailchimp.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import select, update

from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.mailchimp import connect
from mcbridge.mailchimp.audience import (
    MergeField,
    check_audience,
    create_merge_field,
    member_total,
    merge_fields,
)
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import (
    AudienceNotFoundError,
    KeyRefusedError,
    MailchimpError,
    UnavailableError,
)
from mcbridge.messages import N_, Message, raw
from mcbridge.models import BringBackRequest, MailingList, PendingBatch, RefusedAddress
from mcbridge.models.mailing_lists import ADOPT, ADOPTED
from mcbridge.recipients import Recipient, Recipients, recipients_of
from mcbridge.sync.apply import Target, Writer, Written
from mcbridge.sync.bounces import flag_bounces
from mcbridge.sync.brake import Brake, check, only_adds
from mcbridge.sync.fields import FieldSpec, encoder, fields_of
from mcbridge.sync.mirror import Mirror, MirrorUpdates
from mcbridge.sync.pending import settle_pending_batches
from mcbridge.sync.plan import NO_TAGS, Action, Exceptions, Step, Wanted, plan
from mcbridge.sync.result import SyncResult
from mcbridge.webhooks.review import held_addresses

Progress = Callable[[str, int, int], None]

# The most writes a run keeps from the plan it counted for the brake (see
# Export.writes_past_brake); a step holds two small records, about a kilobyte.
KEPT_WRITES = 20_000


STILL_RUNNING = N_(
    "Mailchimp had not finished the batch %(batch)s in time; it goes on there and the next "
    "export reads what it did."
)
NOT_ADOPTED_YET = Message(
    N_(
        "Contacts already in the audience are adopted only once a leader chooses so on the "
        "list's Mailchimp page; until then exports leave them untagged."
    )
)
NO_CONSENT = Message(
    N_(
        "No data-privacy consent was given for this list: tick it on the list's Mailchimp "
        "page before exporting."
    )
)


def export(
    mailing_list: MailingList,
    *,
    dry_run: bool,
    progress: Progress,
    leaving: bool = False,
    brake: Brake | None = None,
) -> SyncResult:
    """Export (or, with `dry_run`, only compute) the list's recipients to its audience.

    `leaving`: the list is being unlinked and its managed contacts archived. The export
    then runs as if nobody were a recipient any more, so the archiving goes through the
    export's own rules (only contacts this list added, still subscribed, held by no other
    mcbridge list; the others only lose its tag) and its own record of who it archived.

    `brake`: an export that would archive or change too much is held before its first
    write (see mcbridge.sync.brake); a preview is never held.
    """
    result = SyncResult(dry_run=dry_run)
    if not mailing_list.has_consent:
        result.fail(NO_CONSENT, "consent")
        return result
    client = connect(mailing_list.mailchimp_api_key or "")
    try:
        Export(mailing_list, client, result, progress, leaving=leaving, brake=brake).run()
    except MailchimpError as error:
        db.session.rollback()
        result.fail(error.user_message(), failure_kind(error))
    finally:
        result.reads, result.writes = client.calls.reads, client.calls.writes
        client.close()
    return result


def exported_recipients(mailing_list: MailingList, specs: tuple[FieldSpec, ...]) -> Recipients:
    """The list's recipients as an export reads them: with their roles and groups when its
    tags or a field need them."""
    needs_roles = mailing_list.role_tags or any(spec.source == "groups" for spec in specs)
    return recipients_of(mailing_list, with_roles=needs_roles)


def wanting(
    specs: tuple[FieldSpec, ...], *, role_tags: bool
) -> Callable[[Recipient], tuple[Wanted, Sequence[Message]]]:
    """How an export makes a recipient into the member the audience should have (fields,
    and role tags if the list sends them), with why values were left out: made once per
    export, for a million recipients."""
    encoded = encoder(specs)

    def wanted_of(recipient: Recipient) -> tuple[Wanted, Sequence[Message]]:
        fields, problems = encoded(recipient)
        tags = frozenset(recipient.role_names) if role_tags else NO_TAGS
        wanted = Wanted(recipient.email, fields, tags, recipient.first_name, recipient.last_name)
        return wanted, problems

    return wanted_of


def permissions_on(mailing_list: MailingList) -> tuple[str, ...]:
    """The marketing permissions (ids) the list's Mailchimp tab turned on for the contacts
    it adds; the audience's others stay off for them."""
    chosen = mailing_list.marketing_permissions or []
    return tuple(str(item["id"]) for item in chosen if item.get("enabled"))


def adopting(mailing_list: MailingList, *, dry_run: bool, leaving: bool) -> bool:
    """Whether this run adopts the audience's subscribed recipients nobody tagged: an
    export once a leader chose to, a preview also while undecided (to show whom the
    choice concerns). Undecided exports leave them alone, as "leave" does."""
    if leaving:
        return False
    if dry_run:
        return mailing_list.adoption in (None, ADOPT)
    return mailing_list.adoption == ADOPT


def failure_kind(error: MailchimpError) -> str:
    if isinstance(error, KeyRefusedError):
        return "key"
    if isinstance(error, AudienceNotFoundError):
        return "audience"
    if isinstance(error, UnavailableError):
        return "transient"
    return "error"


class Export:
    """The steps of one export; each method is one phase the progress bar names."""

    def __init__(
        self,
        mailing_list: MailingList,
        client: Client,
        result: SyncResult,
        progress: Progress,
        *,
        leaving: bool = False,
        brake: Brake | None = None,
    ) -> None:
        self.mailing_list = mailing_list
        self.leaving = leaving
        self.brake = brake
        self.client = client
        self.result = result
        self.progress = progress
        self.audience_id = mailing_list.mailchimp_list_id or ""
        self.adopting = adopting(mailing_list, dry_run=result.dry_run, leaving=leaving)
        self.specs: tuple[FieldSpec, ...] = ()
        self.mirror = Mirror(mailing_list, self.specs)
        self.config = current_app.config
        self.written = 0
        self.brought_back: list[str] = []
        self.running_batches: list[str] = []

    def run(self) -> None:
        """The first reads go out together (a round trip each, which is what a distant
        Mailchimp costs); the audience's check is looked at first, so a wrong key or audience
        fails with its own message before anything else is used."""
        self.progress("checking", 0, 0)
        with ThreadPoolExecutor(max_workers=3) as pool:
            checked = pool.submit(check_audience, self.client, self.audience_id)
            fields = pool.submit(merge_fields, self.client, self.audience_id)
            total = pool.submit(member_total, self.client, self.audience_id)
            checked.result()
            self.specs = self.ensure_fields(fields.result())
            self.mirror = Mirror(self.mailing_list, self.specs)
            settle_pending_batches(self.mailing_list, self.client, self.result)
            db.session.commit()  # settled batches stay settled, whatever happens next
            self.read_audience(total.result())
        self.compare_and_write()

    def ensure_fields(self, audience_fields: list[MergeField]) -> tuple[FieldSpec, ...]:
        """The list's fields with the audience's own types; missing ones are created (a
        preview only says it would). A field whose type differs keeps Mailchimp's type:
        values that do not fit it are left out and reported, person by person."""
        existing = {
            field.tag: (field.type, tuple(field.options.get("choices") or ()))
            for field in audience_fields
        }
        specs = fields_of(self.mailing_list, existing)
        for spec in specs:
            if spec.is_merge_field and spec.tag not in existing and not self.leaving:
                self.create_field(spec)
        return specs

    def create_field(self, spec: FieldSpec) -> None:
        if self.result.dry_run:
            self.result.notes.append(
                Message(N_("The merge field %(tag)s would be created."), {"tag": spec.tag})
            )
            return
        create_merge_field(self.client, self.audience_id, spec.creation())

    def read_audience(self, total: int) -> None:
        full = self.mirror.needs_full_read(total, now())
        self.progress("reading", 0, total)
        self.mirror.refresh(
            self.client,
            full=full,
            page_size=int(self.config["MAILCHIMP_PAGE_SIZE"]),
            workers=int(self.config["MAILCHIMP_MAX_CONNECTIONS"]),
            progress=lambda done, of: self.progress("reading", done, of),
        )
        flag_bounces(self.mailing_list.id)
        db.session.commit()  # the flags hold whatever the export does next

    def compare_and_write(self) -> None:
        """Walk recipients and audience together; steps that write go to Mailchimp while
        the walk goes on (a preview only counts them)."""
        self.progress("comparing", 0, 0)
        exceptions = Exceptions(
            refused=self.refused_addresses(),
            # Unlinking archives every contact the list manages: one under review too.
            held=set() if self.leaving else held_addresses(self.mailing_list.id),
            bring_back=self.bring_back_requests(),
            adopt=self.adopting,
        )
        if self.result.dry_run:
            for _write in self.result.count_plan(self.steps(exceptions, self.result)):
                pass  # a preview only counts what it would write
            if self.result.counts["adopted"] and self.mailing_list.adoption is None:
                self.result.notes.append(NOT_ADOPTED_YET)
            return
        if self.brake is None or only_adds(self.mailing_list.id):
            self.write(self.result.count_plan(self.steps(exceptions, self.result)))
            return
        writes = self.writes_past_brake(exceptions, self.brake)
        if writes is not None:
            self.write(writes)

    def write(self, writes: Iterable[Step]) -> None:
        """Send the writes as they come, folding each answer into the audience copy."""
        updates = MirrorUpdates(self.mirror)
        try:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                writer = Writer(
                    self.target(), pool, lambda done, written: self.account(updates, done, written)
                )
                for step in writes:
                    self.progress("writing", self.written, self.result.writes_planned)
                    writer.add(step)
                writer.finish()
        finally:
            updates.close()
            db.session.commit()  # ends the streaming read; later writes see the new copy
        self.after_writes()
        db.session.commit()

    def steps(self, exceptions: Exceptions, result: SyncResult) -> Iterator[Step]:
        """The plan, streamed; problems with a recipient's fields go to `result`."""
        wanted = iter(()) if self.leaving else self.wanted(result)
        return plan(wanted, self.mirror.stream(), exceptions)

    def writes_past_brake(self, exceptions: Exceptions, brake: Brake) -> Iterable[Step] | None:
        """The plan's writes once the brake let them through; None when it holds the run.

        The brake needs the plan's counts before the first write, so the plan is counted
        once without writing. The writes it found are kept and sent, unless there are more
        than KEPT_WRITES of them: then the plan is walked again as it streams, so that
        memory stays flat. A daily run changes a few contacts, so it walks the plan once.
        """
        counted = SyncResult(dry_run=True)
        kept: list[Step] | None = []
        for step in counted.count_plan(self.steps(exceptions, counted)):
            if kept is not None:
                kept.append(step)
                if len(kept) > KEPT_WRITES:
                    kept = None
        hold = check(counted.counts, self.mirror.managed, brake.limits, brake.allowed)
        if hold is not None:
            self.result.hold(counted, hold)
            return None
        if kept is None:
            return self.result.count_plan(self.steps(exceptions, self.result))
        self.result.take_plan(counted)
        return kept

    def wanted(self, result: SyncResult) -> Iterator[Wanted]:
        """The list's recipients by address as the audience should have them; why values
        were left out and, once all are read, how many people have no address go to
        `result`."""
        wanted_of = wanting(self.specs, role_tags=self.mailing_list.role_tags)
        recipients = exported_recipients(self.mailing_list, self.specs).stream(db.session)
        for recipient in recipients:
            wanted, problems = wanted_of(recipient)
            for problem in problems:
                result.issue(recipient.email, "field", problem)
            yield wanted
        result.counts["skipped_no_email"] = recipients.skipped

    def refused_addresses(self) -> set[str]:
        return set(db.session.scalars(RefusedAddress.emails_of(self.mailing_list.id)))

    def bring_back_requests(self) -> set[str]:
        statement = select(BringBackRequest.email).where(
            BringBackRequest.mailing_list_id == self.mailing_list.id,
            BringBackRequest.done_at.is_(None),
        )
        return set(db.session.scalars(statement))

    @property
    def workers(self) -> int:
        return int(self.config["MAILCHIMP_MAX_CONNECTIONS"])

    def target(self) -> Target:
        return Target(
            client=self.client,
            list_id=self.audience_id,
            tag=self.mailing_list.managed_tag,
            field_tags=tuple(spec.tag for spec in self.specs),
            workers=self.workers,
            batch_threshold=int(self.config["MAILCHIMP_BATCH_ARCHIVE_THRESHOLD"]),
            batch_poll=float(self.config["MAILCHIMP_BATCH_POLL"]),
            batch_timeout=float(self.config["MAILCHIMP_BATCH_TIMEOUT"]),
            permissions=permissions_on(self.mailing_list),
        )

    def account(self, updates: MirrorUpdates, steps: list[Step], written: Written) -> None:
        """Fold what one call did into the counts and the audience copy."""
        by_email = {step.email: step for step in steps}
        for email, reason, message in written.refused:
            self.moved(by_email, email, "refused")
            self.result.refuse(email, reason, raw(message))
        for email in written.unsubscribed:
            self.moved(by_email, email, "kept_unsubscribed")
        for email in written.existing:
            self.moved(by_email, email, "already_in_audience")
        for email, message in written.failed:
            self.moved(by_email, email, "errors")
            self.result.issue(email, "error", message)
        self.running_batches.extend(written.running_batches)
        self.brought_back.extend(
            email
            for email, status, _changed in written.members
            if status == "subscribed"
            and email in by_email
            and by_email[email].action is Action.RESUBSCRIBE
        )
        updates.record(steps, written)
        self.written += len(steps)
        self.progress("writing", self.written, self.result.writes_planned)

    def after_writes(self) -> None:
        """Batches Mailchimp goes on with are read first by the next export; a leader's
        request to bring a contact back is done once it is subscribed; a decision to
        adopt is done once, so contacts someone signs up later are never taken over."""
        if self.adopting:
            self.mailing_list.adoption = ADOPTED
        for batch_id in self.running_batches:
            db.session.add(
                PendingBatch(
                    mailing_list_id=self.mailing_list.id, batch_id=batch_id, submitted_at=now()
                )
            )
            self.result.notes.append(Message(STILL_RUNNING, {"batch": batch_id}))
        if self.brought_back:
            db.session.execute(
                update(BringBackRequest)
                .where(
                    BringBackRequest.mailing_list_id == self.mailing_list.id,
                    BringBackRequest.email.in_(self.brought_back),
                    BringBackRequest.done_at.is_(None),
                )
                .values(done_at=now())
            )

    def moved(self, steps: dict[str, Step], email: str, counter: str) -> None:
        if email in steps:
            self.result.moved(steps[email], counter)
