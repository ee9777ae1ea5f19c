"""The subscriber view of a mailing list: who receives it, why, and its Export menu."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, request
from flask_admin import expose
from flask_babel import lazy_gettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from mcbridge.admin.base import (
    SEARCH_COUNTED,
    ReachedFromListsMixin,
    ShownCount,
    SignedInView,
    int_or_404,
    page_number,
    pages_of,
)
from mcbridge.admin.subscriber_view import (
    Sort,
    excluded_people,
    failed_export,
    first_issues,
    roles_by_person,
)
from mcbridge.auth import current_scope
from mcbridge.clock import now, today
from mcbridge.csv_export import spreadsheet_download
from mcbridge.extensions import db
from mcbridge.jobs import latest_unfinished, progress_of, show_interrupted_runs
from mcbridge.jobs.labels import phase_labels, state_badge
from mcbridge.models import (
    AudienceMember,
    MailchimpEvent,
    MailingList,
    RefusedAddress,
    StoredResolution,
    Subscription,
)
from mcbridge.recipients import Counts, recipients_of
from mcbridge.resolution import (
    searched_count,
    searched_page,
    stored_addresses,
    stored_resolution,
    stored_skipped,
    walked_people,
)
from mcbridge.rules import describe_filters, describe_rule
from mcbridge.schedule import backed_off, next_daily_attempt
from mcbridge.search import sorted_from_matches
from mcbridge.webhooks.review import profile_values

PAGE_SIZE = 50


@dataclass(frozen=True)
class ExportEntry:
    """One entry of the Export dropdown.

    Entries that change something (a sync) are POSTed with a CSRF token; downloads are
    links. `available` hides entries that make no sense for a list (Mailchimp when unlinked).
    """

    label: Any
    endpoint: str
    method: str = "GET"
    available: Callable[[MailingList], bool] = lambda _mailing_list: True


EXPORT_ENTRIES: list[ExportEntry] = [
    ExportEntry(lazy_gettext("CSV (spreadsheet)"), "mcbridge_subscribers.export_csv"),
    ExportEntry(lazy_gettext("Excel (.xlsx)"), "mcbridge_subscribers.export_xlsx"),
]


def register_export(entry: ExportEntry) -> None:
    """Add an entry to the Export dropdown of every subscriber view (later features do)."""
    if entry not in EXPORT_ENTRIES:
        EXPORT_ENTRIES.append(entry)


def load_list_in_scope(list_id: Any) -> MailingList:
    """The mailing list, if the user may see it; a 404 otherwise, whether or not it exists."""
    mailing_list = db.session.scalar(
        select(MailingList)
        .where(MailingList.id == int_or_404(list_id), current_scope().mailing_lists())
        .options(selectinload(MailingList.subscriptions).selectinload(Subscription.role_types))
    )
    if mailing_list is None:
        abort(404)
    return mailing_list


def audience_statuses(mailing_list_id: int, emails: list[str]) -> dict[str, str]:
    """Each shown address's status in the Mailchimp audience, as mcbridge last learned it
    (from a webhook or an export)."""
    if not emails:
        return {}
    rows = db.session.execute(
        select(AudienceMember.email, AudienceMember.status).where(
            AudienceMember.mailing_list_id == mailing_list_id, AudienceMember.email.in_(emails)
        )
    )
    return {row.email: row.status for row in rows}


def refused_count(mailing_list_id: int) -> int:
    refused = RefusedAddress.emails_of(mailing_list_id).subquery()
    return db.session.scalar(select(func.count()).select_from(refused)) or 0


def recipient_page(
    stored: StoredResolution, term: str, sort: Sort, page: int
) -> tuple[list[Any], ShownCount]:
    """One page of the stored recipients and how many match: without a search, the stored
    count; with one, the matches counted as far as twenty pages past this one
    (`SEARCH_COUNTED`), as the People list counts its search. A sorted search walks the
    sort's order to its page, or sorts the search index's matches when the first
    addresses in that order do not hold the page (`sorted_from_matches`)."""
    offset = (page - 1) * PAGE_SIZE
    if not term:
        statement = sort.apply(stored_addresses(stored.mailing_list_id))
        rows = db.session.execute(statement.limit(PAGE_SIZE).offset(offset)).all()
        return rows, ShownCount(stored.addresses)
    list_id = stored.mailing_list_id
    end = offset + PAGE_SIZE
    from_matches = sort.column is not None and sorted_from_matches(
        term, walked_people(list_id, sort.apply), end
    )
    found = searched_page(list_id, term, sort.apply, offset, PAGE_SIZE, from_matches)
    most = offset + SEARCH_COUNTED
    count = db.session.scalar(searched_count(list_id, term, most)) or 0
    return db.session.execute(found).all(), ShownCount.up_to(count, most)


def rule_texts(mailing_list: MailingList) -> dict[int, str]:
    """Each rule of the list in words, by id: the reason shown beside each recipient."""
    return {rule.id: describe_rule(rule) for rule in mailing_list.subscriptions}


class SubscribersView(ReachedFromListsMixin, SignedInView):
    """Resolved recipients of one list, paged and searchable, with the Export dropdown."""

    @expose("/<list_id>/")
    def recipients(self, list_id: str) -> str:
        mailing_list = load_list_in_scope(list_id)
        shown = stored_resolution(mailing_list)
        stored = shown.stored
        recipients = recipients_of(mailing_list)
        term = request.args.get("q", "").strip()
        page = page_number()
        sort = Sort.from_request(request.args.get("sort", ""))
        rows, total = recipient_page(stored, term, sort, page)
        queue_reachable = show_interrupted_runs(mailing_list.id)
        running = latest_unfinished(mailing_list.id)
        failed_run = failed_export(mailing_list)
        return self.render(
            "mcbridge/admin/subscribers.html",
            mailing_list=mailing_list,
            sort=sort,
            roles=roles_by_person(recipients, [row.person_id for row in rows]),
            excluded=excluded_people(mailing_list.id),
            failed_run=failed_run,
            failed_issues=first_issues(failed_run),
            counts=Counts(stored.people, stored.addresses, stored.skipped),
            catching_up=shown.catching_up,
            resolved_at=stored.resolved_at,
            rows=rows,
            total=total,
            page=page,
            pages=pages_of(total, PAGE_SIZE),
            term=term,
            rules=rule_texts(mailing_list),
            list_filters=describe_filters(mailing_list),
            skipped=db.session.execute(stored_skipped(mailing_list.id).limit(200)).all(),
            exports=[entry for entry in EXPORT_ENTRIES if entry.available(mailing_list)],
            last_state_badge=state_badge(mailing_list.last_sync_state),
            refused_count=refused_count(mailing_list.id),
            statuses=audience_statuses(mailing_list.id, [row.email for row in rows]),
            next_daily=next_daily_attempt(mailing_list, now()),
            backed_off=backed_off(mailing_list),
            address_changes=db.session.scalars(MailchimpEvent.open_changes(mailing_list.id)).all(),
            profile_values=profile_values,
            running=running,
            progress=progress_of(running) if running and queue_reachable else None,
            queue_reachable=queue_reachable,
            phases=phase_labels(),
        )

    @expose("/<list_id>/subscribers.csv")
    def export_csv(self, list_id: str) -> Response:
        return download(list_id, "csv")

    @expose("/<list_id>/subscribers.xlsx")
    def export_xlsx(self, list_id: str) -> Response:
        return download(list_id, "xlsx")


def download(list_id: str, kind: str) -> Response:
    """The list's recipients as a spreadsheet file (csv or xlsx), named after it and today."""
    mailing_list = load_list_in_scope(list_id)
    rules = rule_texts(mailing_list)
    name = f"{slug(mailing_list.name)}-{today().isoformat()}"
    return spreadsheet_download(mailing_list, rules, name, kind)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "mailing-list"
