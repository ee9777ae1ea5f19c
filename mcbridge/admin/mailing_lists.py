"""Mailing lists and their rules: role rules, people added directly, people excluded."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_admin.contrib.sqla.fields import QuerySelectMultipleField
from flask_admin.model.form import InlineFormAdmin
from flask_admin.model.template import EndpointLinkRowAction
from flask_babel import LazyString, gettext, lazy_gettext
from markupsafe import Markup, escape
from wtforms import SelectField
from wtforms.validators import NumberRange, StopValidation, ValidationError

from mcbridge.admin import brake_settings
from mcbridge.admin.base import (
    ScopedGroupLoader,
    ScopedModelView,
    ScopedPeopleLoader,
    SubtreeFilter,
    all_role_types,
    require_in_scope,
)
from mcbridge.admin.dates import example, parse_date
from mcbridge.admin.forms import TagsField
from mcbridge.admin.people import gender_choices, language_choices
from mcbridge.auth import Scope
from mcbridge.extensions import db
from mcbridge.field_condition import (
    BIRTHDAY,
    CONDITION_NAMES,
    FIELD_NAMES,
    WITHOUT_VALUE,
    conditions_for,
)
from mcbridge.jobs.labels import state_badge
from mcbridge.models import MailingList, Subscription
from mcbridge.models.mailing_lists import FILTER_COLUMNS
from mcbridge.rules import describe_rule


def rules_column(_view: Any, _context: Any, mailing_list: MailingList, _name: str) -> Markup:
    return Markup("<br>").join(escape(describe_rule(rule)) for rule in mailing_list.subscriptions)


def name_column(_view: Any, _context: Any, mailing_list: MailingList, _name: str) -> Markup:
    link = url_for("mcbridge_subscribers.recipients", list_id=mailing_list.id)
    return Markup('<a href="%s">%s</a>') % (link, mailing_list.name)


def mailchimp_column(_view: Any, _context: Any, mailing_list: MailingList, _name: str) -> Markup:
    if not mailing_list.is_linked:
        return Markup('<span class="text-muted small">%s</span>') % gettext("not linked")
    return state_badge(mailing_list.last_sync_state)


def check_rule(rule: Subscription) -> None:
    """Each row of the rules table is exactly one kind of rule, completely filled in."""
    if rule.group is not None:
        if rule.person is not None:
            raise ValidationError(
                gettext("A rule names either a group with role types or a person, not both.")
            )
        if not rule.role_types:
            raise ValidationError(
                gettext("The rule for %(group)s needs at least one role type.", group=rule.group)
            )
        if rule.excluded:
            raise ValidationError(gettext("Only people can be excluded, not groups."))
        require_in_scope(rule.group)
    elif rule.person is None:
        raise ValidationError(
            gettext("Each rule needs either a group with role types or a person.")
        )
    elif rule.role_types:
        raise ValidationError(gettext("Role types only apply to group rules."))
    elif rule.tag_rules:
        raise ValidationError(gettext("Tags only apply to group rules."))
    check_rule_tags(rule)


def check_rule_tags(rule: Subscription) -> None:
    both = set(rule.required_tags) & set(rule.excluded_tags)
    if both:
        raise ValidationError(
            gettext(
                "A rule cannot both require and exclude the tag %(tags)s.",
                tags=", ".join(sorted(both)),
            )
        )


def check_filters(mailing_list: MailingList) -> None:
    """An age range that nobody can be in is a mistake, not an empty list."""
    minimum, maximum = mailing_list.filter_min_age, mailing_list.filter_max_age
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValidationError(
            gettext(
                "The lowest age (%(minimum)d) is above the highest (%(maximum)d).",
                minimum=minimum,
                maximum=maximum,
            )
        )


def none_if_blank(value: Any) -> Any:
    """The empty choice of a filter stores nothing (no filter), not an empty text."""
    return value or None


def stripped(value: str | None) -> str | None:
    """A value typed with spaces around it means the value: "Migros " is "Migros"."""
    return none_if_blank(value.strip()) if value else None


def field_choices() -> list[tuple[str, Any]]:
    return [("", "—"), *FIELD_NAMES.items()]


def condition_choices() -> list[tuple[str, Any]]:
    return [("", "—"), *CONDITION_NAMES.items()]


def value_hint() -> str:
    return gettext(
        "Compared without regard to capitals. For the birthday, a day (for example "
        "%(example)s). Nothing for “is empty” and “is not empty”.",
        example=example(),
    )


def check_field_condition(form: Any, field: Any) -> None:
    """The condition on a person field is complete and makes sense, or is refused with a
    message naming what is wrong; the form keeps what was typed to be corrected.

    A refusal stops the field's validation: the Optional() Flask-Admin adds after this
    check (the column may be empty) would otherwise erase it when no value was typed."""
    problem = field_condition_problem(
        form.filter_field.data, form.filter_condition.data, field.data
    )
    if problem:
        raise StopValidation(problem)


def field_condition_problem(
    chosen: str | None, condition: str | None, value: str | None
) -> str | None:
    """What is wrong with a field, condition and value typed together; None if nothing."""
    if not chosen and not condition:
        return (
            gettext("Choose a field and a condition for the value, or clear the value.")
            if value
            else None
        )
    if not chosen or not condition:
        return gettext("A condition on a person field needs both the field and the condition.")
    words = {"field": FIELD_NAMES[chosen], "condition": CONDITION_NAMES[condition]}
    if condition not in conditions_for(chosen):
        return gettext("“%(condition)s” does not apply to the %(field)s.", **words)
    if condition in WITHOUT_VALUE:
        return (
            gettext("“%(condition)s” takes no value: clear the value.", **words) if value else None
        )
    if not value:
        return gettext("“%(field)s %(condition)s” needs a value.", **words)
    if chosen == BIRTHDAY:
        return date_problem(value)
    return None


def date_problem(value: str) -> str | None:
    try:
        parse_date(value)
    except ValueError as error:
        return str(error)
    return None


def store_field_condition(mailing_list: MailingList) -> None:
    """A birthday's day is kept as ISO text (2000-01-31), whatever form it was typed in."""
    if mailing_list.filter_field == BIRTHDAY and mailing_list.filter_value:
        mailing_list.filter_value = parse_date(mailing_list.filter_value).isoformat()


class SubscriptionInline(InlineFormAdmin):
    form_columns = (
        "id",
        "group",
        "role_types",
        "required_tags",
        "excluded_tags",
        "person",
        "excluded",
    )
    form_extra_fields = {
        "required_tags": TagsField(
            lazy_gettext("Only people with one of these tags"),
            description=lazy_gettext("Tags separated by commas; empty: any tag or none."),
        ),
        "excluded_tags": TagsField(
            lazy_gettext("Never people with one of these tags"),
            description=lazy_gettext("Tags separated by commas."),
        ),
    }
    form_overrides = {"role_types": QuerySelectMultipleField}
    form_args = {
        "group": {"label": lazy_gettext("Group (and the groups below)")},
        "role_types": {"label": lazy_gettext("Role types"), "query_factory": all_role_types},
        "person": {"label": lazy_gettext("Person")},
        "excluded": {
            "label": lazy_gettext("Exclude this person"),
            "description": lazy_gettext("An excluded person never receives the list."),
        },
    }
    form_ajax_refs = {"person": ScopedPeopleLoader("person"), "group": ScopedGroupLoader("group")}


class MailingListView(ScopedModelView):
    scope_rule = Scope.mailing_lists
    column_list = ("name", "group", "rules", "mailchimp")
    column_labels = {
        "name": lazy_gettext("Name"),
        "group": lazy_gettext("Group"),
        "rules": lazy_gettext("Who receives it"),
        "description": lazy_gettext("Description"),
        "sync_all_delivery_addresses": lazy_gettext("Send to all delivery addresses"),
        "subscriptions": lazy_gettext("Rules"),
        "mailchimp": lazy_gettext("Mailchimp"),
        "delivery_labels": lazy_gettext("Only additional addresses with these labels"),
        "filter_language": lazy_gettext("Only recipients speaking"),
        "filter_gender": lazy_gettext("Only recipients of gender"),
        "filter_min_age": lazy_gettext("Only recipients aged at least"),
        "filter_max_age": lazy_gettext("Only recipients aged at most"),
        "filter_field": lazy_gettext("Only recipients whose"),
        "filter_condition": lazy_gettext("Condition"),
        "filter_value": lazy_gettext("Value"),
    }
    column_formatters = {"rules": rules_column, "name": name_column, "mailchimp": mailchimp_column}
    column_searchable_list = ("name", "description")
    column_sortable_list = ("name", ("group", "group.name"))
    column_default_sort = "name"
    column_filters = (
        SubtreeFilter(MailingList.group_id, lazy_gettext("Group"), MailingList.group_id.in_),
    )
    form_columns = (
        "group",
        "name",
        "description",
        "sync_all_delivery_addresses",
        "delivery_labels",
        *FILTER_COLUMNS,
        *brake_settings.COLUMNS,
        "subscriptions",
    )
    form_overrides = {
        "delivery_labels": TagsField,
        "filter_language": SelectField,
        "filter_gender": SelectField,
        "filter_field": SelectField,
        "filter_condition": SelectField,
        **brake_settings.OVERRIDES,
    }
    edit_template = "mcbridge/admin/mailing_list_edit.html"
    form_args = {
        "group": {"label": lazy_gettext("Group")},
        "name": {"label": lazy_gettext("Name")},
        "description": {"label": lazy_gettext("Description")},
        "sync_all_delivery_addresses": {
            "label": lazy_gettext("Send to all delivery addresses"),
            "description": lazy_gettext(
                "Besides each recipient's primary email, also send to every additional "
                "address they marked as a delivery address."
            ),
        },
        "delivery_labels": {
            "label": lazy_gettext("Only additional addresses with these labels"),
            "description": lazy_gettext(
                "Labels separated by commas (for example: work). Empty: every delivery address."
            ),
        },
        "filter_language": {
            "label": lazy_gettext("Only recipients speaking"),
            "choices": language_choices,
            "coerce": none_if_blank,
        },
        "filter_gender": {
            "label": lazy_gettext("Only recipients of gender"),
            "choices": gender_choices,
            "coerce": none_if_blank,
        },
        "filter_min_age": {
            "label": lazy_gettext("Only recipients aged at least"),
            "description": lazy_gettext(
                "Years, from the birthday; people without one are left out."
            ),
            "validators": [NumberRange(min=0, max=150)],
        },
        "filter_max_age": {
            "label": lazy_gettext("Only recipients aged at most"),
            "validators": [NumberRange(min=0, max=150)],
        },
        "filter_field": {
            "label": lazy_gettext("Only recipients whose"),
            "choices": field_choices,
            "coerce": none_if_blank,
        },
        "filter_condition": {
            "label": lazy_gettext("Condition"),
            "choices": condition_choices,
            "coerce": none_if_blank,
        },
        "filter_value": {
            "label": lazy_gettext("Value"),
            "description": LazyString(value_hint),
            "filters": [stripped],
            "validators": [check_field_condition],
        },
        **brake_settings.FORM_ARGS,
    }
    form_ajax_refs = {"group": ScopedGroupLoader("group")}
    inline_models = (SubscriptionInline(Subscription),)
    column_extra_row_actions = [  # Flask-Admin concatenates it to a list
        EndpointLinkRowAction(
            "fa fa-users",
            "mcbridge_subscribers.recipients",
            title=lazy_gettext("Subscribers"),
            id_arg="list_id",
        ),
    ]

    def update_model(self, form: Any, model: MailingList) -> bool:
        """Fill the whole form in before anything is written.

        A new rule row joins the list, and so the session, before its fields are set; the
        person field's lookup would then flush it half-filled, which the database refuses
        (creating a list never met this: the new list is added to the session last).
        """
        with db.session.no_autoflush:
            return super().update_model(form, model)

    def on_model_delete(self, model: MailingList) -> None:
        """A linked list is unlinked first, on its Mailchimp page, where the leader says
        what happens to its contacts there (left as they are, or archived by an export on
        record): deleting it here would leave that unsaid, and its run record with it."""
        if model.is_linked:
            raise ValidationError(
                gettext(
                    "“%(name)s” is linked to Mailchimp: disconnect it on its Mailchimp page "
                    "first, choosing whether its contacts there stay as they are or are "
                    "archived. Nothing was deleted.",
                    name=model.name,
                )
            )

    def on_model_change(self, form: Any, model: MailingList, is_created: bool) -> None:
        require_in_scope(model.group)
        check_filters(model)
        store_field_condition(model)
        for rule in model.subscriptions:
            check_rule(rule)
