"""Roles: who holds which role type in which group, from when to when."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup
from sqlalchemy import not_
from sqlalchemy.orm import joinedload

from mcbridge.admin.base import (
    ScopedGroupLoader,
    ScopedModelView,
    ScopedPeopleLoader,
    SubtreeFilter,
    all_role_types,
    require_in_scope,
)
from mcbridge.admin.forms import dates_in_order
from mcbridge.auth import Scope
from mcbridge.clock import today
from mcbridge.extensions import db
from mcbridge.models import Role, role_is_active
from mcbridge.models.groups import lineages


def status_column(_view: Any, _context: Any, role: Role, _name: str) -> Markup:
    if role.is_active(today()):
        return Markup('<span class="badge badge-success">%s</span>') % gettext("active")
    if role.start_on and role.start_on > today():
        return Markup('<span class="badge badge-info">%s</span>') % gettext("future")
    return Markup('<span class="badge badge-secondary">%s</span>') % gettext("ended")


class ActiveFilter(BaseSQLAFilter):
    """Roles active today, or not: leaders look for current members most of the time."""

    def __init__(self) -> None:
        super().__init__(
            Role.id,
            lazy_gettext("Active today"),
            options=(("1", lazy_gettext("yes")), ("0", lazy_gettext("no"))),
        )

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        active = role_is_active(today())
        return query.filter(active if value == "1" else not_(active))

    def operation(self) -> str:
        return gettext("is")


class RoleView(ScopedModelView):
    scope_rule = Scope.roles
    column_list = ("person", "role_type", "group", "start_on", "end_on", "status")
    column_labels = {
        "person": lazy_gettext("Person"),
        "role_type": lazy_gettext("Role type"),
        "group": lazy_gettext("Group"),
        "start_on": lazy_gettext("From"),
        "end_on": lazy_gettext("Until"),
        "status": lazy_gettext("Status"),
        "role_type.name": lazy_gettext("Role type"),
        "person.last_name": lazy_gettext("Last name"),
        "person.first_name": lazy_gettext("First name"),
        "person.email": lazy_gettext("Email"),
    }
    column_formatters = {"status": status_column}
    column_sortable_list = (
        ("person", "person.last_name"),
        ("role_type", "role_type.name"),
        ("group", "group.name"),
        "start_on",
        "end_on",
    )
    column_searchable_list = ("person.last_name", "person.first_name", "person.email")
    column_filters = (
        SubtreeFilter(Role.group_id, lazy_gettext("Group"), Role.group_id.in_),
        "role_type.name",
        ActiveFilter(),
    )
    form_columns = ("person", "group", "role_type", "start_on", "end_on")
    form_args = {
        "person": {"label": lazy_gettext("Person")},
        "group": {"label": lazy_gettext("Group")},
        "role_type": {"label": lazy_gettext("Role type"), "query_factory": all_role_types},
        "start_on": {"label": lazy_gettext("From")},
        "end_on": {"label": lazy_gettext("Until"), "validators": [dates_in_order]},
    }
    form_ajax_refs = {"person": ScopedPeopleLoader("person"), "group": ScopedGroupLoader("group")}

    def get_query(self) -> Any:
        return (
            super()
            .get_query()
            .options(joinedload(Role.person), joinedload(Role.group), joinedload(Role.role_type))
        )

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        """The page's roles, with the groups above theirs read in one query: each group is
        shown by its path, which read the groups above it one query per level and row. They
        are kept on `g` while the page renders: the session holds its objects weakly."""
        count, roles = super().get_list(*args, **kwargs)
        g.shown_groups = lineages(db.session, [role.group_id for role in roles])
        return count, roles

    def on_model_change(self, form: Any, model: Role, is_created: bool) -> None:
        require_in_scope(model.group)


__all__ = ["RoleView"]
