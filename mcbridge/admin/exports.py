"""Exporting a mailing list to Mailchimp: start, preview, follow a run, read the history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup
from sqlalchemy import delete, exists, func, select
from werkzeug.wrappers import Response

from mcbridge.admin.base import (
    ReachedFromListsMixin,
    SignedInView,
    int_or_404,
    page_number,
    pages_of,
)
from mcbridge.admin.subscribers import ExportEntry, load_list_in_scope
from mcbridge.auth import current_account_id, current_scope
from mcbridge.extensions import db
from mcbridge.jobs import AlreadyRunningError, enqueue_sync, progress_of, show_interrupted_runs
from mcbridge.jobs.export import confirm_held
from mcbridge.jobs.labels import (
    counter_labels,
    phase_labels,
    preview_counter_labels,
    state_badge,
)
from mcbridge.models import COUNTERS, MailingList, RefusedAddress, SyncIssue, SyncRun
from mcbridge.sync.result import LISTED_PER_KIND

HISTORY_PAGE = 25


def load_run_in_scope(run_id: Any) -> SyncRun:
    run = db.session.scalar(
        select(SyncRun)
        .join(MailingList, MailingList.id == SyncRun.mailing_list_id)
        .where(SyncRun.id == int_or_404(run_id), current_scope().mailing_lists())
    )
    if run is None:
        abort(404)
    return run


def run_link(run: SyncRun) -> Markup:
    return Markup('<a href="%s">%s</a>') % (
        url_for("mcbridge_exports.run", run_id=run.id),
        gettext("Follow the run"),
    )


class ExportsView(ReachedFromListsMixin, SignedInView):
    """Starting exports and previews, and the record of every run."""

    @expose("/<list_id>/start", methods=("POST",))
    def start(self, list_id: str) -> Response:
        return self._enqueue(list_id, dry_run=False)

    @expose("/<list_id>/preview", methods=("POST",))
    def preview(self, list_id: str) -> Response:
        return self._enqueue(list_id, dry_run=True)

    def _enqueue(self, list_id: str, *, dry_run: bool) -> Response:
        mailing_list = load_list_in_scope(list_id)
        back = url_for("mcbridge_subscribers.recipients", list_id=mailing_list.id)
        if not mailing_list.is_linked:
            flash(gettext("Link this list to a Mailchimp audience first."), "error")
            return redirect(back)
        try:
            run = enqueue_sync(
                mailing_list, trigger="manual", user_id=current_account_id(), dry_run=dry_run
            )
        except AlreadyRunningError as running:
            flash_already_running(running)
            return redirect(back)
        if dry_run:
            return redirect(url_for(".run", run_id=run.id))
        flash(Markup("%s %s") % (gettext("Export to Mailchimp started."), run_link(run)), "success")
        return redirect(back)

    @expose("/runs/<run_id>/confirm", methods=("POST",))
    def confirm(self, run_id: str) -> Response:
        """A leader (or admin) lets a run the brake held go ahead, for the numbers it showed."""
        held = load_run_in_scope(run_id)
        back = url_for(".run", run_id=held.id)
        if not awaits_confirmation(held):
            flash(gettext("This run no longer waits for a confirmation."), "warning")
            return redirect(back)
        try:
            run = confirm_held(held, current_account_id())
        except AlreadyRunningError as running:
            flash_already_running(running)
            return redirect(back)
        flash(gettext("Export confirmed and started."), "success")
        return redirect(url_for(".run", run_id=run.id))

    @expose("/runs/<run_id>")
    def run(self, run_id: str) -> str:
        run = load_run_in_scope(run_id)
        queue_reachable = show_interrupted_runs(run.mailing_list_id)
        would_be = run.dry_run or run.state == "held"
        return self.render(
            "mcbridge/admin/export_run.html",
            run=run,
            issues=issues_section(run),
            badge=state_badge(run.state, preview=run.dry_run),
            progress=progress_of(run) if queue_reachable else None,
            queue_reachable=queue_reachable,
            counter_labels=preview_counter_labels() if would_be else counter_labels(),
            would_be=would_be,
            awaits_confirmation=awaits_confirmation(run),
            counter_order=COUNTERS,
            phases=phase_labels(),
            people=people_pages(run),
            listed_per_kind=LISTED_PER_KIND,
        )

    @expose("/runs/<run_id>/progress.json")
    def progress(self, run_id: str) -> Response:
        run = load_run_in_scope(run_id)
        show_interrupted_runs(run.mailing_list_id)
        return jsonify(progress_of(run))

    @expose("/<list_id>/history")
    def history(self, list_id: str) -> str:
        mailing_list = load_list_in_scope(list_id)
        queue_reachable = show_interrupted_runs(mailing_list.id)
        page = page_number()
        runs_query = select(SyncRun).where(SyncRun.mailing_list_id == mailing_list.id)
        total = db.session.scalar(select(func.count()).select_from(runs_query.subquery())) or 0
        runs = db.session.scalars(
            runs_query.order_by(SyncRun.id.desc())
            .limit(HISTORY_PAGE)
            .offset((page - 1) * HISTORY_PAGE)
        ).all()
        return self.render(
            "mcbridge/admin/export_history.html",
            mailing_list=mailing_list,
            runs=runs,
            page=page,
            pages=pages_of(total, HISTORY_PAGE),
            badge=state_badge,
            refused=refused_addresses(mailing_list.id),
            counter_labels=counter_labels(),
            queue_reachable=queue_reachable,
        )

    @expose("/<list_id>/refused/forget", methods=("POST",))
    def forget_refused(self, list_id: str) -> Response:
        """Try refused addresses again at the next export (after fixing them in Mailchimp)."""
        mailing_list = load_list_in_scope(list_id)
        db.session.execute(
            delete(RefusedAddress).where(RefusedAddress.mailing_list_id == mailing_list.id)
        )
        db.session.commit()
        flash(gettext("Refused addresses will be tried again at the next export."), "success")
        return redirect(url_for(".history", list_id=mailing_list.id))


def flash_already_running(running: AlreadyRunningError) -> None:
    message = gettext("An export of this list is already running.")
    link = run_link(running.run) if running.run else ""
    flash(Markup("%s %s") % (message, link), "warning")


def awaits_confirmation(run: SyncRun) -> bool:
    """A held run can be confirmed while it is the list's latest: a later run replaced
    its numbers (a new held run is confirmed instead)."""
    later = exists().where(SyncRun.mailing_list_id == run.mailing_list_id, SyncRun.id > run.id)
    return (
        run.state == "held" and run.mailing_list.is_linked and not db.session.scalar(select(later))
    )


PEOPLE_PAGE = 50
ISSUES_PAGE = 100


@dataclass(frozen=True)
class Section:
    """One page of a part of the run's page: the people of a kind of change, or the
    addresses that need attention."""

    kind: str
    rows: list[Any]
    page: int
    pages: int


def paged(kind: str, total: int, size: int) -> tuple[int, int]:
    """The page of this part asked for (`kind=`, `page=`), the first for the others; and how
    many pages it has."""
    pages = max((total + size - 1) // size, 1)
    page = min(page_number(), pages) if request.args.get("kind") == kind else 1
    return page, pages


def people_pages(run: SyncRun) -> list[Section]:
    """Each kind of change's people, as recorded on the run, a page each."""
    recorded = (run.preview or {}).get("samples", {})
    sections = []
    for kind in COUNTERS:
        people = recorded.get(kind) or []
        if people:
            page, pages = paged(kind, len(people), PEOPLE_PAGE)
            shown = people[(page - 1) * PEOPLE_PAGE : page * PEOPLE_PAGE]
            sections.append(Section(kind, shown, page, pages))
    return sections


def issues_section(run: SyncRun) -> Section:
    """The addresses refused, not written or archived by someone else, a page at a time."""
    of_run = select(SyncIssue).where(SyncIssue.run_id == run.id)
    total = db.session.scalar(select(func.count()).select_from(of_run.subquery())) or 0
    page, pages = paged("issues", total, ISSUES_PAGE)
    rows = db.session.scalars(
        of_run.order_by(SyncIssue.id).limit(ISSUES_PAGE).offset((page - 1) * ISSUES_PAGE)
    ).all()
    return Section("issues", list(rows), page, pages)


def refused_addresses(mailing_list_id: int) -> list[RefusedAddress]:
    return list(db.session.scalars(RefusedAddress.of_list(mailing_list_id)))


def is_linked(mailing_list: MailingList) -> bool:
    return mailing_list.is_linked


MAILCHIMP_EXPORT = ExportEntry(
    lazy_gettext("Mailchimp"), "mcbridge_exports.start", method="POST", available=is_linked
)
