"""Adopting an audience's contacts: a leader's decision, on record, about the subscribed
contacts an audience already held that mcbridge did not add.

Left alone (the default, and while undecided), such a contact that is also a recipient has
its fields updated but is never tagged nor archived: it belongs to whoever signed it up.
Adopted, it gets the list's tag at the next export and is managed from then on like the
contacts mcbridge adds. Adoption happens once: contacts signed up after that export are
never taken over silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select

from mcbridge.auth import current_actor_label
from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.models import MailingList, SyncRun
from mcbridge.models.mailing_lists import ADOPTED

# The states of a run that made its writes (a failed or held one wrote nothing).
WROTE = ("unchanged", "success", "partial")


@dataclass(frozen=True)
class AdoptionState:
    """What the Mailchimp tab shows: the decision, the latest preview (whose "would be
    adopted" count shows whom it concerns) and, once done, the export that adopted them."""

    decision: str | None
    preview: SyncRun | None
    adopted_by: SyncRun | None

    @property
    def done(self) -> bool:
        return self.decision == ADOPTED


def adoption_state(mailing_list: MailingList) -> AdoptionState:
    done = mailing_list.adoption == ADOPTED
    return AdoptionState(
        mailing_list.adoption,
        None if done else latest_preview(mailing_list.id),
        adopting_run(mailing_list) if done else None,
    )


def latest_preview(mailing_list_id: int) -> SyncRun | None:
    return run_that_wrote(mailing_list_id, SyncRun.dry_run.is_(True), first=False)


def adopting_run(mailing_list: MailingList) -> SyncRun | None:
    """The export that adopted the contacts: the first one that made its writes after the
    leader's decision (that export is what turned the decision into "adopted")."""
    if mailing_list.adoption_at is None:
        return None
    return run_that_wrote(
        mailing_list.id,
        SyncRun.dry_run.is_(False),
        SyncRun.started_at >= mailing_list.adoption_at,
        first=True,
    )


def run_that_wrote(
    mailing_list_id: int, *conditions: ColumnElement[bool], first: bool
) -> SyncRun | None:
    """The list's first (or latest) run meeting `conditions` that was neither held nor
    failed."""
    return db.session.scalar(
        select(SyncRun)
        .where(SyncRun.mailing_list_id == mailing_list_id, SyncRun.state.in_(WROTE), *conditions)
        .order_by(SyncRun.id if first else SyncRun.id.desc())
        .limit(1)
    )


def record_decision(mailing_list: MailingList, decision: str | None) -> None:
    """The decision with who took it and when; None (undecided) forgets both, as linking
    to another audience does: its contacts are another matter. The caller commits."""
    mailing_list.adoption = decision
    mailing_list.adoption_by_label = current_actor_label() if decision else None
    mailing_list.adoption_at = now() if decision else None
