"""Groups (the organisation tree) and role types."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from mcbridge.admin.base import ScopedModelView, SubtreeFilter, scoped_groups
from mcbridge.auth import Scope, current_scope
from mcbridge.extensions import db
from mcbridge.models import Group, Role


def role_count(_view: Any, _context: Any, group: Group, _name: str) -> int:
    return db.session.scalar(select(func.count()).where(Role.group_id == group.id)) or 0


class GroupView(ScopedModelView):
    """Groups by path; leaders create and edit groups below the ones they lead."""

    scope_rule = Scope.groups
    column_list = ("path", "description", "roles")
    column_labels = {
        "path": lazy_gettext("Group"),
        "name": lazy_gettext("Name"),
        "description": lazy_gettext("Description"),
        "parent": lazy_gettext("Parent group"),
        "roles": lazy_gettext("Roles"),
    }
    column_formatters = {"roles": role_count}
    column_searchable_list = ("name",)
    column_sortable_list = ("name",)
    column_default_sort = "name"
    column_filters = (
        SubtreeFilter(Group.id, lazy_gettext("Group"), lambda ids: Group.id.in_(ids)),
    )
    form_columns = ("name", "parent", "description")
    form_args = {
        "name": {"label": lazy_gettext("Name")},
        "parent": {"label": lazy_gettext("Parent group"), "query_factory": scoped_groups},
        "description": {"label": lazy_gettext("Description")},
    }

    def edit_form(self, obj: Group | None = None) -> Any:
        """A leader's own group keeps its place: its parent is outside their scope."""
        form = super().edit_form(obj)
        if obj is not None and is_led_by_non_admin(obj):
            del form.parent
        return form

    def on_model_change(self, form: Any, model: Group, is_created: bool) -> None:
        if model.would_create_cycle(model.parent):
            raise ValidationError(gettext("A group cannot be placed below itself."))
        if model.parent is None and not current_scope().everything:
            raise ValidationError(gettext("Only administrators can create top-level groups."))

    def on_model_delete(self, model: Group) -> None:
        if model.children:
            raise ValidationError(gettext("Delete or move the groups below this one first."))
        if is_led_by_non_admin(model):
            raise ValidationError(gettext("Only an administrator can delete the group you lead."))


def is_led_by_non_admin(group: Group) -> bool:
    scope = current_scope()
    if scope.everything:
        return False
    led = db.session.scalars(scope.led_group_ids()).all()
    return group.id in led


class RoleTypeView(ScopedModelView):
    """Role types are shared by the whole organisation: everyone reads, admins change."""

    scope_rule = Scope.shared
    column_list = ("name", "manages")
    column_labels = {"name": lazy_gettext("Name"), "manages": lazy_gettext("Leads the group")}
    column_descriptions = {
        "manages": lazy_gettext("Holders of this role manage the group and the groups below it.")
    }
    column_searchable_list = ("name",)
    column_default_sort = "name"
    form_columns = ("name", "manages")
    form_args = {
        "name": {"label": lazy_gettext("Name")},
        "manages": {"label": lazy_gettext("Leads the group")},
    }

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return current_scope().everything

    can_edit = can_create
    can_delete = can_create
