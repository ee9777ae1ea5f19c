"""What every mcbridge admin view shares: sign-in, scoping, and errors in plain words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import format_decimal, gettext, lazy_gettext, ngettext
from sqlalchemy import ColumnElement, Text, cast, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from mcbridge.admin.dates import LocaleModelConverter
from mcbridge.auth import Scope, current_scope, sign_in_redirect
from mcbridge.extensions import db
from mcbridge.i18n import ADMIN_TYPE_FORMATTERS
from mcbridge.models import Group, Person, RoleType, subtree_ids
from mcbridge.models.groups import PATH_SEPARATOR
from mcbridge.models.people import by_name
from mcbridge.search import SEARCHED, match_order, person_search, sorted_from_matches
from mcbridge.sql import LARGEST_ID

# The buttons and headings of inline lists, by field: Flask-Admin glues "Add"/"New" to the
# field's label ("Add Additional emails"), which no language reads well.
INLINE_LABELS = {
    "additional_emails": {
        "add": lazy_gettext("Add an address"),
        "new": lazy_gettext("New address"),
        "entry": lazy_gettext("Address %(num)d"),
    },
    "subscriptions": {
        "add": lazy_gettext("Add a rule"),
        "new": lazy_gettext("New rule"),
        "entry": lazy_gettext("Rule %(num)d"),
    },
}


class SignedInMixin:
    """Views for signed-in users; strangers go to the sign-in page, others get a 403."""

    admin_only = False

    def is_accessible(self) -> bool:
        scope = current_scope()
        if not scope.signed_in:
            return False
        return scope.everything or not self.admin_only

    def inaccessible_callback(self, _name: str, **_kwargs: Any) -> Response:
        if current_scope().signed_in:
            abort(403)
        return sign_in_redirect()

    def is_visible(self) -> bool:
        """Off the menu for strangers, even where the page handles them itself (the
        dashboard): a signed-out menu offers only what works signed out."""
        return current_scope().signed_in and super().is_visible()  # type: ignore[misc]


class SignedInView(SignedInMixin, BaseView):
    """A custom (non-model) page behind sign-in."""


class ReachedFromListsMixin:
    """A page reached from each mailing list, not from the menu: its bare address (a
    bookmark, a hand-shortened URL) goes to the mailing lists rather than a 404."""

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self) -> Response:
        return redirect(url_for("mcbridge_mailing_lists.index_view"))


SEARCH_COUNTED = 1_000  # a search's matches are counted up to this many: 20 pages of 50


class ShownCount(int):
    """A list's count as Flask-Admin computes its pages from it (an int) and as its tab
    shows it: in the user's language, and, where `at_least` is set, as more than the
    number that was counted up to (people search counts no further than it needs)."""

    at_least: int | None = None

    @classmethod
    def more_than(cls, counted: int) -> ShownCount:
        shown = cls(counted + 1)
        shown.at_least = counted
        return shown

    @classmethod
    def up_to(cls, count: int, most: int) -> ShownCount:
        """A count that went no further than past `most`: beyond it, "more than `most`"."""
        return cls.more_than(most) if count > most else cls(count)

    def __str__(self) -> str:
        if self.at_least is not None:
            return gettext("more than %(count)s", count=format_decimal(self.at_least))
        return format_decimal(int(self))


def pages_of(total: int, size: int) -> ShownCount:
    """A paged table's number of pages (at least one); past a count that stopped (a
    `ShownCount` "more than N"), more than the pages it reached."""
    at_least = getattr(total, "at_least", None)
    if at_least is not None:
        return ShownCount.more_than(at_least // size)
    return ShownCount(max((total + size - 1) // size, 1))


class ScopedModelView(SignedInMixin, ModelView):
    """A model view that only ever reads and writes rows inside the user's scope.

    Every path Flask-Admin takes to a row (list, count, edit, delete, bulk actions) goes
    through `get_query`/`get_one`, so filtering there is what makes a guessed URL of another
    group a 404 that changes nothing.
    """

    scope_rule: Callable[[Scope], ColumnElement[bool]]
    page_size = 50
    can_set_page_size = True
    can_view_details = False
    create_modal = False
    edit_modal = False
    # Without "Save and Add Another", which leaves an edited row for an empty form.
    edit_template = "mcbridge/admin/model_edit.html"
    inline_labels = INLINE_LABELS
    column_type_formatters = ADMIN_TYPE_FORMATTERS
    model_form_converter = LocaleModelConverter

    def scope_filter(self) -> ColumnElement[bool]:
        return type(self).scope_rule(current_scope())

    def get_query(self) -> Any:
        return super().get_query().filter(self.scope_filter())

    def get_count_query(self) -> Any:
        return super().get_count_query().filter(self.scope_filter())

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        return (None if count is None else ShownCount(count)), rows

    def get_one(self, id: Any) -> Any:
        found = self.get_query().filter(self.model.id == int_or_404(id)).one_or_none()
        if found is None:
            abort(404)
        return found

    @action(
        "delete",
        lazy_gettext("Delete"),
        lazy_gettext("Are you sure you want to delete the selected records?"),
    )
    def action_delete(self, ids: Any) -> None:
        """Bulk delete, row by row through `delete_model` so every deletion rule applies.

        Flask-Admin's own compares the integer ids as strings, which PostgreSQL refuses,
        and shows raw database errors.
        """
        numbers = [number for value in ids if (number := id_or_none(value)) is not None]
        deleted = sum(
            1
            for model in self.get_query().filter(self.model.id.in_(numbers)).all()
            if self.delete_model(model)
        )
        if deleted:
            flash(
                ngettext("%(num)d record was deleted.", "%(num)d records were deleted.", deleted),
                "success",
            )

    def _get_list_extra_args(self) -> Any:
        """Flask-Admin reads these numbers with `int()`, however large: beyond what SQL takes
        they are a 404 here rather than a database error later."""
        for name in ("page", "page_size", "sort"):
            if name in request.args:
                int_or_404(request.args[name])
        return super()._get_list_extra_args()

    def _get_filter_groups(self) -> Any:
        """Flask-Admin caches its filters' operations at start-up, outside any request: they
        are named again for each list page, in its user's language."""
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    def _process_ajax_references(self) -> Any:
        """The searches of the group filters, served by Flask-Admin's own `ajax/lookup/`
        beside those of the form's fields."""
        filters = [flt for flt in self.column_filters or () if isinstance(flt, SubtreeFilter)]
        return {**super()._process_ajax_references(), **{f.loader.name: f.loader for f in filters}}

    def filter_searches(self, active_filters: list[Any]) -> dict[str, dict[str, Any]]:
        """What static/filter-search.js gives each group filter's field, by the filter's
        argument: where to search, and the path of the group chosen in the URL (the one
        choice a page carries; none for a group out of the user's scope)."""
        searches = {}
        for index, flt in enumerate(self._filters or ()):
            if isinstance(flt, SubtreeFilter):
                values = [value for active, _name, value in active_filters if active == index]
                groups = [group for value in values if (group := flt.loader.get_one(value))]
                searches[self.get_filter_arg(index, flt)] = {
                    "url": self.get_url(".ajax_lookup", name=flt.loader.name),
                    "placeholder": str(flt.loader.options["placeholder"]),
                    "label": str(flt.name),
                    "chosen": {str(group.id): group.path for group in groups},
                }
        return searches

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, IntegrityError):
            db.session.rollback()
            flash(
                gettext(
                    "This change conflicts with other records (a duplicate, or a record "
                    "still in use). Nothing was saved."
                ),
                "error",
            )
            return True
        return super().handle_view_exception(exc)


def id_or_none(value: Any) -> int | None:
    """A number from a request (an id, a page): digits only, at most LARGEST_ID; else None."""
    text = str(value)
    if text.isascii() and text.isdigit() and int(text) <= LARGEST_ID:
        return int(text)
    return None


def int_or_404(value: Any) -> int:
    number = id_or_none(value)
    if number is None:
        abort(404)
    return number


def page_number() -> int:
    """The page asked for by `page=` (the first when absent); any other value is a 404."""
    return max(int_or_404(request.args.get("page", "1")), 1)


def require_in_scope(group: Group | None) -> None:
    """Refuse to save a row whose group the user does not manage (a crafted form)."""
    if group is None or not current_scope().contains_group(group.id):
        raise ValidationError(gettext("You can only use groups you manage."))


def all_role_types() -> Any:
    return db.session.scalars(select(RoleType).order_by(RoleType.name)).all()


PEOPLE_PER_SEARCH = 10  # what Flask-Admin's search field asks for


class ScopedPeopleLoader(QueryAjaxModelLoader):
    """Person search for form fields, limited to people the user may see. Built with its
    view class, before any app: it finds the app's session when it searches."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name,
            LocalProxy(lambda: db.session),
            Person,
            fields=list(SEARCHED),
            placeholder=lazy_gettext("Type a name or an address"),
            minimum_input_length=1,
        )

    def get_query(self) -> Any:
        return super().get_query().filter(current_scope().people())

    def get_one(self, pk: Any) -> Any:
        number = id_or_none(pk)
        if number is None:
            return None
        return self.get_query().filter(Person.id == number).one_or_none()

    def get_list(self, term: str, offset: int = 0, limit: int = PEOPLE_PER_SEARCH) -> Any:
        """Everyone matching every word typed, so the full name the picker shows finds its
        person in either order ("Marie Baumann", "baumann mar"). Flask-Admin's own search
        looks for the whole text in one column and finds nobody by a full name.

        `offset` and `limit` come from the URL as any integer: bounded here.
        """
        bounded = min(int_or_404(limit), PEOPLE_PER_SEARCH)
        keys = by_name()
        if sorted_from_matches(term):
            keys = tuple(match_order(key) for key in keys)
        return (
            self.get_query()
            .filter(*person_search(term))
            .order_by(*keys)
            .offset(int_or_404(offset or 0))
            .limit(bounded)
            .all()
        )


GROUPS_PER_SEARCH = 20  # at most, whatever a request asks: Select2 asks for pages of 10
GROUP_FILTER = "group_filter"  # the name the group filters' searches go by


def group_paths() -> Any:
    """Every group with its path from the root, walked in the database: typed text then
    matches any part of the path a choice shows, and only the matches come back. A group
    caught in a cycle has no root to start from and is left out, so the walk always ends."""
    roots = select(Group.id.label("id"), cast(Group.name, Text).label("path")).where(
        Group.parent_id.is_(None)
    )
    tree = roots.cte("group_paths", recursive=True, nesting=True)
    below = select(Group.id, tree.c.path + PATH_SEPARATOR + Group.name).join(
        tree, Group.parent_id == tree.c.id
    )
    return tree.union_all(below)


class ScopedGroupLoader(QueryAjaxModelLoader):
    """Group search for the group filters and group fields: a page ships the one chosen
    group, not all of them (5,000 paths weighed ~400 KB a page); the choices come as the
    user types, only groups in their scope, found by words of their path in any order."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name,
            LocalProxy(lambda: db.session),
            Group,
            fields=[Group.name],
            placeholder=lazy_gettext("Type part of the group's path"),
            minimum_input_length=0,
        )

    def get_query(self) -> Any:
        return super().get_query().filter(current_scope().groups())

    def get_one(self, pk: Any) -> Any:
        """The group a form or a filter names, if the user may use it; read while a form's
        changes are pending, so without flushing them half-done."""
        number = id_or_none(pk)
        if number is None:
            return None
        with db.session.no_autoflush:
            return self.get_query().filter(Group.id == number).one_or_none()

    def get_list(self, term: str, offset: int = 0, limit: int = GROUPS_PER_SEARCH) -> Any:
        """Groups whose path holds every word typed (none typed: all of them, a page at a
        time), by path. `offset` and `limit` come from the URL as any integer: bounded."""
        paths = group_paths()
        return (
            self.get_query()
            .join(paths, paths.c.id == Group.id)
            .filter(
                *(paths.c.path.icontains(word, autoescape=True) for word in (term or "").split())
            )
            .order_by(func.lower(paths.c.path), Group.id)
            .offset(int_or_404(offset or 0))
            .limit(min(int_or_404(limit), GROUPS_PER_SEARCH))
            .all()
        )


class SubtreeFilter(BaseSQLAFilter):
    """ "In group, including the groups below it", for any model with a group column. Its
    choices load as the user types (`loader`, a search the view serves, see
    `ScopedModelView.filter_searches`), so a page weighs the same with 10 or 5,000 groups."""

    def __init__(self, column: Any, name: str, condition: Callable[[Any], Any]) -> None:
        super().__init__(column, name, data_type="select2-ajax")
        self.condition = condition
        self.loader = ScopedGroupLoader(GROUP_FILTER)

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        """The group's tree is read first and its ids written into the query, as the scope
        does (`Scope.people`): a recursive walk nested in a query over a million people
        is mis-estimated by PostgreSQL (0.3 s for a page of fifty)."""
        with db.session.no_autoflush:
            ids = list(db.session.scalars(subtree_ids([int_or_404(value)])))
        return query.filter(self.condition(ids))

    def operation(self) -> str:
        return gettext("is or is below")
