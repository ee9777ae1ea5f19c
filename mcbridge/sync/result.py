"""The outcome of one run: counts, per-address issues, and how it is recorded.

The state follows what a group leader needs to know: "unchanged" (nothing to do),
"success", "partial" (some addresses need attention, the rest went through), "failed"
(nothing was done, with the reason in plain words), "held" (the brake stopped it before
its first write, with what it would have done). Addresses Mailchimp already keeps out
(unsubscribed, bounced, refused before) are counted, never made into errors again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.messages import N_, Message, dumps
from mcbridge.models import COUNTERS, RefusedAddress, SyncIssue, SyncRun
from mcbridge.sync.brake import Hold
from mcbridge.sync.plan import WRITES, Action, Step

MAX_ISSUES = 1000
ARCHIVED_ELSEWHERE = Message(
    N_(
        "Archived in Mailchimp, not by mcbridge: it stays archived unless a leader asks to "
        "bring it back."
    )
)

# Who each kind of change concerned, listed on the run's page: bounded, since a list can
# have a million members; the counts stay exact.
LISTED_PER_KIND = 1000
# Looked up once: an enum's attribute costs a lookup through its class on every step.
UNCHANGED = Action.UNCHANGED
UNCHANGED_COUNTER = UNCHANGED.counter


@dataclass
class SyncResult:
    dry_run: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    issues: list[tuple[str, str, Message]] = field(default_factory=list)
    refusals: list[tuple[str, str, Message]] = field(default_factory=list)
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    notes: list[Message] = field(default_factory=list)
    failure: Message | None = None
    failure_kind: str | None = None
    hold_reason: str | None = None
    writes_planned: int = 0
    reads: int = 0
    writes: int = 0

    def count_plan(self, steps: Iterable[Step]) -> Iterator[Step]:
        """Every step of a plan counted; those that write to Mailchimp passed on.

        An unchanged member (most of them: a million in a large list's daily run) is only
        counted, in this loop, and the count is added once the plan ends or stops; a call
        to `planned` for each cost a large daily run about a second."""
        unchanged = 0
        try:
            for step in steps:
                if step.action is UNCHANGED:
                    unchanged += 1
                    continue
                self.planned(step)
                if step.action in WRITES:
                    yield step
        finally:
            self.counts[UNCHANGED_COUNTER] += unchanged

    def planned(self, step: Step) -> None:
        """A step that changes something, or that a run lists: counted, and listed among
        the first of its kind; a contact archived by someone else is also listed by address,
        so a leader can bring it back."""
        counter = step.action.counter
        self.counts[counter] += 1
        if step.action is Action.ARCHIVED_ELSEWHERE:
            self.issue(step.email, "archived_elsewhere", ARCHIVED_ELSEWHERE)
        if step.action in WRITES:
            self.writes_planned += 1
        sample = self.samples.setdefault(counter, [])
        if len(sample) < LISTED_PER_KIND:
            name = step.wanted.name if step.wanted else ""
            sample.append({"email": step.email, "name": name})

    def moved(self, step: Step, counter: str) -> None:
        """A planned write turned out otherwise (refused, kept out, failed): counted, and
        listed, under what happened (refusals and failures are the run's issues)."""
        self.counts[step.action.counter] -= 1
        self.counts[counter] += 1
        listed = self.samples.get(step.action.counter, [])
        moved = [person for person in listed if person["email"] == step.email]
        for person in moved:
            listed.remove(person)
            if counter in ("kept_unsubscribed", "already_in_audience"):
                self.samples.setdefault(counter, []).append(person)

    def refuse(self, email: str, reason: str, message: Message) -> None:
        self.refusals.append((email, reason, message))
        self.issue(email, "refused", message)

    def issue(self, email: str, kind: str, message: Message) -> None:
        self.issues.append((email, kind, message))

    def fail(self, message: Message, kind: str = "error") -> None:
        """End as failed; `kind` (key, audience, consent, transient, error) decides whether
        the daily schedule backs off (see schedule.py)."""
        self.failure = message
        self.failure_kind = kind

    def take_plan(self, counted: SyncResult) -> None:
        """The plan as it was counted before the first write (see the brake), which this
        run then carries out as it stands."""
        self.counts.update(counted.counts)
        self.samples = counted.samples
        self.issues = counted.issues
        self.writes_planned = counted.writes_planned

    def hold(self, counted: SyncResult, hold: Hold) -> None:
        """Held by the brake: nothing was written; the run shows what would have been,
        as a preview does (`counted`), and why it stopped."""
        self.take_plan(counted)
        self.notes.append(hold.message)
        self.hold_reason = hold.reason

    @property
    def state(self) -> str:
        if self.failure is not None:
            return "failed"
        if self.hold_reason is not None:
            return "held"
        if self.writes_planned == 0:
            return "unchanged"
        if any(kind in ("refused", "error") for _email, kind, _message in self.issues):
            return "partial"
        return "success"

    def people(self) -> dict[str, Any]:
        """Who each kind of change concerned, for the run's page (a preview's would-be)."""
        return {"samples": {kind: people for kind, people in self.samples.items() if people}}


def record(run: SyncRun, result: SyncResult) -> None:
    """Store the outcome on the run, the list and the refused-address memory; the job
    that ran the export commits."""
    run.state = result.state
    run.finished_at = now()
    run.message = dumps([result.failure] if result.failure else result.notes)
    run.failure = result.failure_kind
    for name in COUNTERS:
        setattr(run, name, max(result.counts.get(name, 0), 0))
    run.errors = len([issue for issue in result.issues if issue[1] == "error"])
    run.read_calls, run.write_calls = result.reads, result.writes
    run.preview = result.people()
    run.issues = [
        SyncIssue(email=email, kind=kind, message=dumps([message]) or "")
        for email, kind, message in result.issues[:MAX_ISSUES]
    ]
    remember_refusals(run.mailing_list_id, result.refusals)
    if not run.dry_run:
        run.mailing_list.last_sync_state = run.state
        run.mailing_list.last_synced_at = run.finished_at
        run.mailing_list.failure_streak = next_streak(run.mailing_list.failure_streak, result)


PERSISTENT_FAILURES = ("key", "audience", "consent")


def next_streak(streak: int, result: SyncResult) -> int:
    """Failures that will not heal by themselves count up; anything that worked resets."""
    if result.failure is None:
        return 0
    return streak + 1 if result.failure_kind in PERSISTENT_FAILURES else streak


def remember_refusals(mailing_list_id: int, refusals: list[tuple[str, str, Message]]) -> None:
    """Addresses refused for good are skipped (and shown) from now on."""
    known = set(db.session.scalars(RefusedAddress.emails_of(mailing_list_id)))
    for email, reason, message in refusals:
        if email not in known:
            db.session.add(
                RefusedAddress(
                    mailing_list_id=mailing_list_id,
                    email=email,
                    reason=reason,
                    message=message.render()[:2000],
                    refused_at=now(),
                )
            )
            known.add(email)
