"""Groups (the organisation tree) and role types."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import g, request, url_for
from flask_admin import expose
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from mcbridge.admin.base import ScopedModelView, SubtreeFilter, id_or_none, scoped_groups
from mcbridge.auth import Scope, current_scope
from mcbridge.extensions import db
from mcbridge.models import Group, Role


def role_counts(group_ids: list[int]) -> dict[int, int]:
    """The number of roles of each group, in one query for all of them."""
    counts = db.session.execute(
        select(Role.group_id, func.count())
        .where(Role.group_id.in_(group_ids))
        .group_by(Role.group_id)
    )
    return dict(counts.all())


def role_count(_view: Any, _context: Any, group: Group, _name: str) -> int:
    """Read from the counts the table's page fetched at once (GroupView.get_list), not one
    query per row."""
    return g.group_role_counts.get(group.id, 0)


@dataclass
class GroupNode:
    """A group in the tree, with its number of roles and the groups right below it."""

    group: Group
    roles: int
    children: list[GroupNode] = field(default_factory=list)


def name_order(group: Group) -> str:
    """Names as a reader sorts them: "Élan" with the E's, case ignored."""
    letters = unicodedata.normalize("NFKD", group.name)
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()


def group_tree(groups: list[Group], role_counts: dict[int, int]) -> list[GroupNode]:
    """The groups as a forest: a group whose parent is not among them (the group a leader
    leads) is a root. Built in memory from one read: an organisation's tree is small."""
    present = {group.id for group in groups}
    below: dict[int | None, list[Group]] = defaultdict(list)
    for group in sorted(groups, key=name_order):
        below[group.parent_id if group.parent_id in present else None].append(group)

    def node(group: Group) -> GroupNode:
        return GroupNode(group, role_counts.get(group.id, 0), [node(c) for c in below[group.id]])

    return [node(root) for root in below[None]]


# Flask-Admin's list arguments: with any of them the groups are a table (search, filters,
# sorting, pages); without, a tree.
TABLE_ARGUMENTS = ("table", "search", "sort", "desc", "page", "page_size")


def wants_table() -> bool:
    return any(name in TABLE_ARGUMENTS or name.startswith("flt") for name in request.args)


class GroupView(ScopedModelView):
    """Groups as a tree, or by path in a table to search and filter; leaders create and
    edit groups below the ones they lead."""

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

    @property
    def extra_js(self) -> list[str]:  # type: ignore[override]
        return [url_for("mcbridge.static", filename="group-tree.js")]

    @expose("/")
    def index_view(self) -> Any:
        if wants_table():
            return super().index_view()
        groups = db.session.scalars(select(Group).where(self.scope_filter())).all()
        return self.render(
            "mcbridge/admin/group_tree.html",
            tree=group_tree(list(groups), role_counts([group.id for group in groups])),
            return_url=request.full_path,
        )

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        """The table's page, with the role counts of its groups read in one query."""
        count, groups = super().get_list(*args, **kwargs)
        g.group_role_counts = role_counts([group.id for group in groups])
        return count, groups

    def create_form(self, obj: Group | None = None) -> Any:
        """ "Add a group below" in the tree names the parent: the form starts with it."""
        form = super().create_form(obj)
        parent_id = id_or_none(request.args.get("parent", ""))
        if request.method == "GET" and parent_id is not None:
            form.parent.data = db.session.scalar(
                select(Group).where(Group.id == parent_id, self.scope_filter())
            )
        return form

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
