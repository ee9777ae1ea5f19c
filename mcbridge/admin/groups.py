"""Groups (the organisation tree) and role types."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import g, request, url_for
from flask_admin import expose
from flask_babel import gettext, lazy_gettext
from sqlalchemy import Row, func, select
from wtforms.validators import ValidationError

from mcbridge.admin.base import ScopedGroupLoader, ScopedModelView, SubtreeFilter, id_or_none
from mcbridge.auth import Scope, current_scope
from mcbridge.extensions import db
from mcbridge.models import Group, Role, subtree_ids


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


# Groups drawn on one tree page: ~650 bytes each keep it under 100 KB however large the
# organisation; the groups below the last level drawn are a link to their own tree.
TREE_PAGE_GROUPS = 100


@dataclass
class GroupNode:
    """A group in the tree: the groups right below it (`below` of them), those drawn on
    this page (`children`: none when they did not fit); once drawn, the group itself and
    its number of roles (see `describe`)."""

    id: int
    children: list[GroupNode] = field(default_factory=list)
    below: int = 0
    group: Group | None = None
    roles: int = 0

    @property
    def own_tree(self) -> bool:
        """The groups below it fit on a tree page under it; if not, the table lists them."""
        return self.below < TREE_PAGE_GROUPS


def name_order(group: Row[Any]) -> str:
    """Names as a reader sorts them: "Élan" with the E's, case ignored."""
    letters = unicodedata.normalize("NFKD", group.name)
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()


def group_tree(groups: Sequence[Row[Any]]) -> list[GroupNode]:
    """The groups (rows of id, parent_id and name) as a forest: a group whose parent is
    not among them (the group a leader leads) is a root. Built in memory from one read of
    the groups' places alone; only the groups drawn are read whole."""
    present = {group.id for group in groups}
    below: dict[int | None, list[Row[Any]]] = defaultdict(list)
    for group in sorted(groups, key=name_order):
        below[group.parent_id if group.parent_id in present else None].append(group)

    def node(group: Row[Any]) -> GroupNode:
        children = [node(child) for child in below[group.id]]
        return GroupNode(group.id, children, len(children))

    return [node(root) for root in below[None]]


def drawn_levels(roots: list[GroupNode], most: int = TREE_PAGE_GROUPS) -> list[GroupNode]:
    """The forest cut to `most` groups, level by level from the roots: a group's children
    are drawn all together or not at all (then the tree says how many are below and links
    to them). Returns the groups drawn, whose roles are then counted in one query."""
    drawn = roots[:most]
    for node in drawn:  # grows as levels are added: breadth first
        if len(drawn) + len(node.children) <= most:
            drawn.extend(node.children)
        else:
            node.children = []
    return drawn


def describe(drawn: list[GroupNode]) -> None:
    """The drawn groups and their numbers of roles, one query each."""
    ids = [node.id for node in drawn]
    groups = {
        group.id: group for group in db.session.scalars(select(Group).where(Group.id.in_(ids)))
    }
    counts = role_counts(ids)
    for node in drawn:
        node.group, node.roles = groups[node.id], counts.get(node.id, 0)


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
        "parent": {"label": lazy_gettext("Parent group")},
        "description": {"label": lazy_gettext("Description")},
    }
    form_ajax_refs = {"parent": ScopedGroupLoader("parent")}

    @property
    def extra_js(self) -> list[str]:  # type: ignore[override]
        return [url_for("mcbridge.static", filename="group-tree.js")]

    @expose("/")
    def index_view(self) -> Any:
        if wants_table():
            return super().index_view()
        top = self.tree_top()
        query = select(Group.id, Group.parent_id, Group.name).where(self.scope_filter())
        if top is not None:
            query = query.where(Group.id.in_(subtree_ids([top.id])))
        roots = group_tree(db.session.execute(query).all())
        describe(drawn_levels(roots))
        return self.render(
            "mcbridge/admin/group_tree.html",
            tree=roots[:TREE_PAGE_GROUPS],
            undrawn_roots=len(roots) - TREE_PAGE_GROUPS,
            top=top,
            return_url=request.full_path,
        )

    def tree_top(self) -> Group | None:
        """The group whose subtree the tree shows (`below=`, the link of a group whose
        groups below did not fit on its page): one in the user's scope, or a 404."""
        if "below" not in request.args:
            return None
        return self.get_one(request.args["below"])

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
