"""The first page after sign-in: what the user manages, in numbers."""

from __future__ import annotations

from typing import Any

from flask_admin import AdminIndexView, expose
from sqlalchemy import case, func, select

from mcbridge.admin.base import SignedInMixin
from mcbridge.auth import Scope, current_scope, sign_in_redirect
from mcbridge.clock import today
from mcbridge.extensions import db
from mcbridge.jobs.labels import state_badge
from mcbridge.models import (
    FINISHED_STATES,
    Group,
    MailingList,
    Person,
    Role,
    SyncRun,
    role_is_active,
)


def scoped_count(model: Any, condition: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(condition)) or 0


# Failures first, then partial exports, then the rest: what needs a leader comes first.
ATTENTION = {"failed": 0, "partial": 1}

# The dashboard shows this many lists at most: an administrator may see thousands, and the
# page must cost the same few queries for them as for a leader of three.
LISTS_SHOWN = 20


def lists_shown(scope: Scope) -> list[MailingList]:
    """The lists needing attention (last export failed or partial) first, then the most
    recently created, at most LISTS_SHOWN, by name."""
    attention = case(
        *((MailingList.last_sync_state == state, rank) for state, rank in ATTENTION.items()),
        else_=len(ATTENTION),
    )
    chosen = db.session.scalars(
        select(MailingList)
        .where(scope.mailing_lists())
        .order_by(attention, MailingList.id.desc())
        .limit(LISTS_SHOWN)
    ).all()
    return sorted(chosen, key=lambda mailing_list: (mailing_list.name, mailing_list.id))


def last_exports(mailing_lists: list[MailingList]) -> dict[int, SyncRun]:
    """Each list's latest real (not preview) finished export."""
    ids = [mailing_list.id for mailing_list in mailing_lists]
    latest = (
        select(func.max(SyncRun.id))
        .where(
            SyncRun.mailing_list_id.in_(ids),
            SyncRun.dry_run.is_(False),
            SyncRun.state.in_(FINISHED_STATES),
        )
        .group_by(SyncRun.mailing_list_id)
    )
    runs = db.session.scalars(select(SyncRun).where(SyncRun.id.in_(latest))).all()
    return {run.mailing_list_id: run for run in runs}


def export_health(mailing_lists: list[MailingList]) -> list[tuple[MailingList, SyncRun | None]]:
    """The linked lists with their last export, failures first: a failed export is
    otherwise seen only by whoever opens that list."""
    linked = [mailing_list for mailing_list in mailing_lists if mailing_list.is_linked]
    runs = last_exports(linked)
    rows = [(mailing_list, runs.get(mailing_list.id)) for mailing_list in linked]
    return sorted(
        rows, key=lambda row: ATTENTION.get(row[1].state if row[1] else "", len(ATTENTION))
    )


class DashboardView(SignedInMixin, AdminIndexView):
    """Counts of groups, people, active roles and lists within the user's scope."""

    @expose("/")
    def index(self) -> Any:
        scope = current_scope()
        if not scope.signed_in:
            return sign_in_redirect()
        mailing_lists = lists_shown(scope)
        return self.render(
            "mcbridge/admin/dashboard.html",
            is_leader=scope.is_leader(),
            counts={
                "groups": scoped_count(Group, scope.groups()),
                "people": scoped_count(Person, scope.people()),
                "roles": scoped_count(Role, scope.roles() & role_is_active(today())),
                "mailing_lists": scoped_count(MailingList, scope.mailing_lists()),
            },
            mailing_lists=mailing_lists,
            exports=export_health(mailing_lists),
            badge=state_badge,
        )

    def is_accessible(self) -> bool:
        """The dashboard handles strangers itself (redirect), so the menu always shows it."""
        return True
