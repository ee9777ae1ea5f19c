"""What the subscriber view shows beside the addresses: each person's own roles, sorting,
the people excluded, and why the last export did not go through.

Everything is bounded: the roles are read for the shown page only, sorting happens in SQL
before the page is cut, and the excluded are a list's explicit rules (a short list, still
capped), so a list of a million recipients costs the same few queries as one of ten.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, true

from mcbridge.extensions import db
from mcbridge.models import (
    FINISHED_STATES,
    MailingList,
    Person,
    Subscription,
    SyncIssue,
    SyncRun,
)
from mcbridge.models.people import by_name
from mcbridge.models.resolution import NAME_ORDER
from mcbridge.recipients import Recipients
from mcbridge.search import match_order

SORTABLE = ("name", "email")
EXCLUDED_SHOWN = 200
ISSUES_SHOWN = 3


@dataclass(frozen=True)
class Sort:
    """A column to sort the recipients by (None: the order people came in), and whether
    descending, as `sort=name` or `sort=-name` in the page's address."""

    column: str | None = None
    descending: bool = False

    @classmethod
    def from_request(cls, value: str) -> Sort:
        """An unknown column falls back to the default order rather than failing."""
        column = value.removeprefix("-")
        if column not in SORTABLE:
            return cls()
        return cls(column, value.startswith("-"))

    @property
    def param(self) -> str | None:
        if self.column is None:
            return None
        return f"-{self.column}" if self.descending else self.column

    def toggled(self, column: str) -> str:
        """The `sort` value of a column's header link: ascending first, then reversed."""
        return f"-{column}" if self.column == column and not self.descending else column

    def aria(self, column: str) -> str:
        if self.column != column:
            return "none"
        return "descending" if self.descending else "ascending"

    def apply(self, statement: Select, from_matches: bool = False) -> Select:
        """The recipients in this order, ties broken by person and address so pages never
        overlap (an address is a list's row once). Every key runs the same way, so the
        stored resolution's index serves either direction without a sort; `from_matches`,
        keys no index serves (mcbridge.resolution.Order)."""
        if self.column is None:
            return statement
        columns = statement.selected_columns
        by_name = (*(columns[name] for name in NAME_ORDER), columns.email)
        keys = by_name if self.column == "name" else (columns.email,)
        if from_matches:
            keys = tuple(match_order(key) for key in keys)
        ordered = [key.desc() if self.descending else key.asc() for key in keys]
        return statement.order_by(None).order_by(*ordered)


def roles_by_person(recipients: Recipients, person_ids: list[int]) -> dict[int, list[Any]]:
    """The roles that reach each shown person, in one query for the page."""
    found: dict[int, list[Any]] = defaultdict(list)
    if person_ids:
        for row in db.session.execute(recipients.reasons(person_ids)):
            found[row.person_id].append(row)
    return found


def excluded_people(mailing_list_id: int) -> tuple[int, list[Person]]:
    """The people excluded from the list (they never receive it), counted and the first
    ones by name."""
    statement = (
        select(Person)
        .join(Subscription, Subscription.person_id == Person.id)
        .where(Subscription.mailing_list_id == mailing_list_id, Subscription.excluded.is_(true()))
    )
    count = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    shown = db.session.scalars(statement.order_by(*by_name()).limit(EXCLUDED_SHOWN))
    return count, list(shown)


def failed_export(mailing_list: MailingList) -> SyncRun | None:
    """The last export, when it failed or ended partial: the view says why and links to it."""
    if mailing_list.last_sync_state not in ("failed", "partial"):
        return None
    return db.session.scalar(
        select(SyncRun)
        .where(
            SyncRun.mailing_list_id == mailing_list.id,
            SyncRun.dry_run.is_(False),
            SyncRun.state.in_(FINISHED_STATES),
        )
        .order_by(SyncRun.created_at.desc(), SyncRun.id.desc())
        .limit(1)
    )


def first_issues(run: SyncRun | None) -> list[SyncIssue]:
    """The first addresses a partial export could not write, as examples of why."""
    if run is None:
        return []
    statement = select(SyncIssue).where(SyncIssue.run_id == run.id).order_by(SyncIssue.id)
    return list(db.session.scalars(statement.limit(ISSUES_SHOWN)))
