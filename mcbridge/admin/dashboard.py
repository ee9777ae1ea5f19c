"""The first page after sign-in: what the user manages, in numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_admin import AdminIndexView, expose
from sqlalchemy import func, select

from mcbridge.admin.base import SignedInMixin
from mcbridge.auth import current_scope, sign_in_redirect
from mcbridge.extensions import db
from mcbridge.models import Group, MailingList, Person, Role, role_is_active


def scoped_count(model: Any, condition: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(condition)) or 0


class DashboardView(SignedInMixin, AdminIndexView):
    """Counts of groups, people, active roles and lists within the user's scope."""

    @expose("/")
    def index(self) -> Any:
        scope = current_scope()
        if not scope.signed_in:
            return sign_in_redirect()
        mailing_lists = db.session.scalars(
            select(MailingList).where(scope.mailing_lists()).order_by(MailingList.name)
        ).all()
        return self.render(
            "mcbridge/admin/dashboard.html",
            is_leader=scope.is_leader(),
            counts={
                "groups": scoped_count(Group, scope.groups()),
                "people": scoped_count(Person, scope.people()),
                "roles": scoped_count(Role, scope.roles() & role_is_active(date.today())),
                "mailing_lists": len(mailing_lists),
            },
            mailing_lists=mailing_lists,
        )

    def is_accessible(self) -> bool:
        """The dashboard handles strangers itself (redirect), so the menu always shows it."""
        return True
