"""People, their additional addresses, and the first role that places them in a group."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.helpers import get_redirect_target
from flask_admin.model.fields import AjaxSelectField
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectField
from wtforms.validators import Optional as OptionalValidator
from wtforms.validators import ValidationError

from mcbridge import clock
from mcbridge.admin.base import (
    SEARCH_COUNTED,
    ScopedGroupLoader,
    ScopedModelView,
    ShownCount,
    SubtreeFilter,
    all_role_types,
)
from mcbridge.admin.choices import BLANK_CHOICE
from mcbridge.admin.forms import TagsField, valid_email
from mcbridge.admin.person_tags import BulkTagsMixin, tags_column
from mcbridge.auth import Scope, current_scope
from mcbridge.explain import list_memberships
from mcbridge.extensions import db
from mcbridge.models import (
    GENDERS,
    LANGUAGES,
    AdditionalEmail,
    Person,
    Role,
    role_is_active,
)
from mcbridge.models.groups import lineages
from mcbridge.models.people import PROFILE_COLUMNS
from mcbridge.models.search_index import SEARCHED_COLUMNS
from mcbridge.search import match_order, person_search, sorted_from_matches

SORTED_FROM_MATCHES = "sorted_from_matches"  # the execution option a search marks

GENDER_LABELS = {
    "female": lazy_gettext("female"),
    "male": lazy_gettext("male"),
    "other": lazy_gettext("other"),
}


def gender_choices() -> list[tuple[str, Any]]:
    return [("", "—"), *((value, GENDER_LABELS[value]) for value in GENDERS)]


LANGUAGE_LABELS = {
    "de": lazy_gettext("German"),
    "fr": lazy_gettext("French"),
    "it": lazy_gettext("Italian"),
    "en": lazy_gettext("English"),
}


def language_choices() -> list[tuple[str, Any]]:
    """The contact languages, by name; empty leaves the Mailchimp contact's own."""
    return [("", "—"), *((value, LANGUAGE_LABELS[value]) for value in LANGUAGES)]


def email_column(_view: Any, _context: Any, person: Person, _name: str) -> Markup:
    """The address, flagged when Mailchimp reported it bouncing: it needs correcting."""
    if not person.email:
        return Markup("")
    if person.email_bounced_at is None:
        return escape(person.email)
    badge = Markup(' <span class="badge badge-danger" title="%s">%s</span>') % (
        gettext("Mailchimp reported this address as bouncing"),
        gettext("bouncing"),
    )
    return escape(person.email) + badge


def details_link(view: Any, _context: Any, person: Person, name: str) -> Markup:
    """The name opens the person's page, where their lists and statuses are."""
    url = view.get_url(".details_view", id=person.id)
    return Markup('<a href="%s">%s</a>') % (url, getattr(person, name) or "")


def roles_column(_view: Any, context: Any, person: Person, _name: str) -> Markup:
    """The person's active roles in groups the user may see: a leader learns nothing of
    other regions, and an ended role no longer describes the person."""
    return Markup("<br>").join(escape(str(role)) for role in visible_roles(context, person))


def visible_roles(context: Any, person: Person) -> list[Role]:
    """Read once for the whole page of the table (its `data`), then per row from `g`."""
    shown: dict[int, list[Role]] = g.setdefault("visible_roles", {})
    if person.id not in shown:
        ids = [row.id for row in context.get("data") or [person]]
        shown.update({person_id: [] for person_id in ids})
        for role in db.session.scalars(
            select(Role)
            .where(Role.person_id.in_(ids), current_scope().roles(), role_is_active(clock.today()))
            .options(selectinload(Role.group), selectinload(Role.role_type))
            .order_by(Role.id)
        ):
            shown[role.person_id].append(role)
        # The groups above theirs, for their paths; kept while the page renders.
        group_ids = {role.group_id for roles in shown.values() for role in roles}
        g.shown_groups = lineages(db.session, list(group_ids))
    return shown[person.id]


class AdditionalEmailInline(InlineFormAdmin):
    form_columns = ("id", "email", "label", "mailings")
    form_args = {
        "email": {"label": lazy_gettext("Address"), "validators": [valid_email]},
        "label": {"label": lazy_gettext("Label")},
        "mailings": {
            "label": lazy_gettext("Delivery address"),
            "description": lazy_gettext("Mailing lists may send to this address."),
        },
    }


class PersonView(BulkTagsMixin, ScopedModelView):
    """People in the user's groups; a leader places a new person with a first role."""

    scope_rule = Scope.people
    can_view_details = True
    details_template = "mcbridge/admin/person_details.html"
    column_list = ("last_name", "first_name", "email", "company", "roles", "tags")
    column_labels = {
        "last_name": lazy_gettext("Last name"),
        "first_name": lazy_gettext("First name"),
        "nickname": lazy_gettext("Nickname"),
        "gender": lazy_gettext("Gender"),
        "birthday": lazy_gettext("Birthday"),
        "company": lazy_gettext("Company"),
        "language": lazy_gettext("Language"),
        "email": lazy_gettext("Primary email"),
        "roles": lazy_gettext("Roles"),
        "tags": lazy_gettext("Tags"),
        "additional_emails": lazy_gettext("Additional emails"),
    }
    column_formatters = {
        "roles": roles_column,
        "tags": tags_column,
        "email": email_column,
        "last_name": details_link,
        "first_name": details_link,
    }
    column_searchable_list = SEARCHED_COLUMNS
    column_sortable_list = ("last_name", "first_name", "email", "company")
    column_default_sort = [("last_name", False), ("first_name", False)]
    column_filters = (
        SubtreeFilter(
            Person.id,
            lazy_gettext("Has a role in"),
            lambda ids: Person.roles.any(Role.group_id.in_(ids)),
        ),
    )
    form_columns = (
        *PROFILE_COLUMNS,
        "tag_names",
        "email",
        "additional_emails",
    )
    form_overrides = {"gender": SelectField, "language": SelectField}
    form_args = {
        "first_name": {"label": lazy_gettext("First name")},
        "last_name": {"label": lazy_gettext("Last name")},
        "nickname": {"label": lazy_gettext("Nickname")},
        "gender": {"label": lazy_gettext("Gender"), "choices": gender_choices},
        "birthday": {"label": lazy_gettext("Birthday")},
        "company": {"label": lazy_gettext("Company")},
        "language": {"label": lazy_gettext("Language"), "choices": language_choices},
        "email": {"label": lazy_gettext("Primary email"), "validators": [valid_email]},
    }
    form_extra_fields = {
        "tag_names": TagsField(
            lazy_gettext("Tags"),
            description=lazy_gettext("Free tags separated by commas, e.g. Vorstand, J+S."),
        )
    }
    inline_models = (AdditionalEmailInline(AdditionalEmail),)
    form_ajax_refs = {"first_role_group": ScopedGroupLoader("first_role_group")}

    def get_query(self) -> Any:
        return (
            super()
            .get_query()
            .options(selectinload(Person.roles).selectinload(Role.group), selectinload(Person.tags))
        )

    def get_list(
        self,
        page: Any,
        sort_column: Any,
        sort_desc: bool,
        search: Any,
        filters: Any,
        execute: bool = True,
        page_size: Any = None,
    ) -> Any:
        """A search's matches are counted up to `SEARCH_COUNTED` only (see `_apply_search`),
        or all of them along with the page where that costs less (`counted_with_page`)."""
        count, found = super().get_list(
            page, sort_column, sort_desc, search, filters, False, page_size
        )
        if not search:
            return count, (found.all() if execute else found)
        if execute and counted_with_page(found):
            rows = found.add_columns(func.count().over()).all()
            if rows:
                return ShownCount(rows[0][1]), [row[0] for row in rows]
        return counted_up_to(found, SEARCH_COUNTED), (found.all() if execute else found)

    def _apply_search(
        self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str
    ) -> tuple[Any, Any, Any, Any]:
        """mcbridge's people search (every word, in any order, on the database's index) in
        place of Flask-Admin's, which scans each column for each word.

        Its matches are not counted here: a common word matches a tenth of a million people,
        and counting them all cost more than finding the page (`get_list` counts as far as
        the pager needs to say "more than 1,000")."""
        found = person_search(search)
        sorting = sorted_from_matches(search)
        query = query.filter(*found).execution_options(**{SORTED_FROM_MATCHES: sorting})
        return query, None, joins, count_joins

    def _order_by(
        self, query: Any, joins: Any, sort_joins: Any, sort_field: Any, sort_desc: bool
    ) -> tuple[Any, Any]:
        """Sort keys that sort a search's matches (see `mcbridge.search.match_order`), which
        `_apply_search` marks on the query, as Flask-Admin sorts after searching."""
        if sort_field is not None and marked_sorted_from_matches(query):
            sort_field = match_order(sort_field)
        return super()._order_by(query, joins, sort_joins, sort_field, sort_desc)

    @expose("/details/")
    def details_view(self) -> Any:
        """A person's page: roles, addresses (bouncing ones flagged) and the lists that
        reach them, why, and their status in each linked list's audience."""
        person = self.get_one(request.args.get("id"))
        today = clock.today()
        roles = db.session.scalars(
            select(Role)
            .where(Role.person_id == person.id, current_scope().roles())
            .order_by(Role.start_on, Role.id)
            .options(selectinload(Role.group), selectinload(Role.role_type))
        ).all()
        return self.render(
            self.details_template,
            person=person,
            roles=roles,
            today=today,
            memberships=list_memberships(person, today),
            return_url=get_redirect_target() or self.get_url(".index_view"),
        )

    def create_form(self, obj: Any = None) -> Any:
        """New people come with a first role, or a leader would lose sight of them at once."""
        form = super().create_form(obj)
        form.first_role_type.query_factory = all_role_types
        return form

    def get_create_form(self) -> Any:
        form_class = super().get_create_form()
        form_class.first_role_group = AjaxSelectField(
            self._form_ajax_refs["first_role_group"],
            lazy_gettext("First role: group"),
            allow_blank=True,
            validators=[OptionalValidator()],
        )
        form_class.first_role_type = QuerySelectField(
            lazy_gettext("First role: role type"),
            allow_blank=True,
            blank_text=BLANK_CHOICE,
            validators=[OptionalValidator()],
        )
        return form_class

    def on_model_change(self, form: Any, model: Person, is_created: bool) -> None:
        if model.first_name is None and model.last_name is None and model.nickname is None:
            raise ValidationError(gettext("Give the person at least a name or a nickname."))
        if is_created:
            self._add_first_role(form, model)

    def _add_first_role(self, form: Any, model: Person) -> None:
        group, role_type = form.first_role_group.data, form.first_role_type.data
        if bool(group) != bool(role_type):
            raise ValidationError(
                gettext("Choose both a group and a role type for the first role.")
            )
        if group is None and not current_scope().everything:
            raise ValidationError(
                gettext("Give the person a role in one of your groups, or you could not see them.")
            )
        if group is not None:
            model.roles.append(Role(group=group, role_type=role_type))

    def on_model_delete(self, model: Person) -> None:
        scope = current_scope()
        if any(not scope.contains_group(role.group_id) for role in model.roles):
            raise ValidationError(
                gettext(
                    "This person also holds roles in groups you do not manage; "
                    "end or delete their roles in your groups instead."
                )
            )


def counted_with_page(query: Any) -> bool:
    """Whether a search's matches are best counted in the statement that finds the page:
    a leader's, sorted from the index's matches, reads every match in the leader's groups
    to sort them anyway. Counted apart, the matches were found a second time, checking the
    leader's groups again (a region's leader, "marie" among a million people: the page 182
    ms and its count 58 ms apart; the page with its count 201 ms). An administrator's
    matches are everyone found (100,382 for "marie"): counting them all with the page cost
    141 ms more, counting up to `SEARCH_COUNTED` apart 14 ms."""
    return marked_sorted_from_matches(query) and not current_scope().everything


def marked_sorted_from_matches(query: Any) -> bool:
    """Whether `_apply_search` marked the query as sorted from the index's matches."""
    return bool(query.get_execution_options().get(SORTED_FROM_MATCHES))


def counted_up_to(query: Any, most: int) -> ShownCount:
    """The rows of a list's query (its page cut and order dropped), counted no further
    than `most`: beyond it, "more than `most`"."""
    found = query.limit(None).offset(None).order_by(None).limit(most + 1).subquery()
    return ShownCount.up_to(db.session.scalar(select(func.count()).select_from(found)) or 0, most)


__all__ = ["PersonView"]
