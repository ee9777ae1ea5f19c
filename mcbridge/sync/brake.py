"""The brake: an export that would archive or change much of what a list manages stops
before its first write, and waits for a leader to confirm.

A wrong rule, a group moved by mistake or an import that emptied a table would otherwise
archive half an audience overnight. The export streams (it writes while it compares), so
the decision needs the plan's counts first: the export counts its plan once without
writing (`Export.writes_past_brake`), and these functions judge the counts.

The share is of the contacts the list manages (added by mcbridge, subscribed, in the
audience copy), counted as the plan walks the copy (`Mirror.stream`). A run a leader
confirmed may make the archives and changes they saw; only what goes beyond those is
judged again, so a list that moved on materially since holds again. A daily export
carries no confirmation: it never passes on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import exists, select

from mcbridge.extensions import db
from mcbridge.messages import N_, Message
from mcbridge.models import AudienceMember, MailingList

DEFAULT_ARCHIVE_SHARE = 0.10
DEFAULT_ARCHIVE_MIN = 10
DEFAULT_CHANGE_SHARE = 0.50

# The run counters that archive a contact, and those that change one in place. Adopting
# contacts ("adopted") is neither: a leader asked for it explicitly, on record.
ARCHIVING = ("archived",)
CHANGING = ("updated", "untagged")

ARCHIVES_HELD = N_(
    "Held by the brake: this export would archive %(count)s of the %(managed)s contacts "
    "the list manages (the limit is %(share)s %%). Check the list's rules and recipients, "
    "then confirm on the run's page if it is right."
)
CHANGES_HELD = N_(
    "Held by the brake: this export would change %(count)s of the %(managed)s contacts "
    "the list manages (the limit is %(share)s %%). Check the list's fields and rules, then "
    "confirm on the run's page if it is right."
)


@dataclass(frozen=True)
class Limits:
    """When the brake holds: more than `archive_share` (or `change_share`) of the managed
    contacts, and at least `minimum` of them (a small list may lose a few at once)."""

    archive_share: float
    minimum: int
    change_share: float


@dataclass(frozen=True)
class Allowance:
    """The archives and changes of a held run, which a leader confirmed."""

    archives: int = 0
    changes: int = 0


@dataclass(frozen=True)
class Brake:
    """What one export is held by: the list's limits, and what a leader confirmed."""

    limits: Limits
    allowed: Allowance | None = None


@dataclass(frozen=True)
class Hold:
    """Why an export was held: `reason` names it for notices (one mail per reason)."""

    reason: str
    message: Message


def setting(value: float | None, name: str, default: float) -> float:
    """The list's own setting, else the installation's (MCBRIDGE_BRAKE_…), else the default."""
    if value is not None:
        return value
    return float(current_app.config.get(name, default))


def limits_of(mailing_list: MailingList) -> Limits:
    return Limits(
        archive_share=setting(
            mailing_list.brake_archive_share, "MCBRIDGE_BRAKE_ARCHIVE_SHARE", DEFAULT_ARCHIVE_SHARE
        ),
        minimum=int(
            setting(
                mailing_list.brake_archive_min, "MCBRIDGE_BRAKE_ARCHIVE_MIN", DEFAULT_ARCHIVE_MIN
            )
        ),
        change_share=setting(
            mailing_list.brake_change_share, "MCBRIDGE_BRAKE_CHANGE_SHARE", DEFAULT_CHANGE_SHARE
        ),
    )


def only_adds(mailing_list_id: int) -> bool:
    """An audience copy without a subscribed contact: an export can then only add (or bring
    back what it archived), which the brake never holds, so counting its plan before the
    first write would be a pass over every recipient for nothing (an initial export's)."""
    subscribed = exists().where(
        AudienceMember.mailing_list_id == mailing_list_id, AudienceMember.status == "subscribed"
    )
    return not db.session.scalar(select(subscribed))


def archives_and_changes(counts: Mapping[str, int]) -> Allowance:
    """What a plan's counts would archive and change, in the shape a leader confirms."""
    return Allowance(
        archives=sum(counts.get(name, 0) for name in ARCHIVING),
        changes=sum(counts.get(name, 0) for name in CHANGING),
    )


def too_many(count: int, managed: int, share: float, minimum: int) -> bool:
    return count >= max(minimum, 1) and count > share * managed


def check(
    counts: Mapping[str, int], managed: int, limits: Limits, allowed: Allowance | None
) -> Hold | None:
    """The hold a plan with these counts meets, or None when it may write."""
    planned = archives_and_changes(counts)
    confirmed = allowed or Allowance()
    archives = planned.archives - confirmed.archives
    changes = planned.changes - confirmed.changes
    if too_many(archives, managed, limits.archive_share, limits.minimum):
        return Hold(
            "brake-archive",
            held_message(ARCHIVES_HELD, planned.archives, managed, limits.archive_share),
        )
    if too_many(changes, managed, limits.change_share, limits.minimum):
        return Hold(
            "brake-change",
            held_message(CHANGES_HELD, planned.changes, managed, limits.change_share),
        )
    return None


def held_message(text: str, count: int, managed: int, share: float) -> Message:
    return Message(text, {"count": count, "managed": managed, "share": round(share * 100, 1)})
