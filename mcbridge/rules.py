"""A mailing list's rules in the words a group leader uses: on the list pages, in the
subscriber view and its CSV download, and in the `recipients` command."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext

from mcbridge.field_condition import FIELD_NAMES
from mcbridge.i18n import day
from mcbridge.messages import N_
from mcbridge.models import MailingList, Subscription

# Each condition on a person field as a clause after "Only recipients": the negations say
# that an empty field passes them (mcbridge.field_condition).
FIELD_CLAUSES = {
    "is": N_("whose %(field)s is “%(value)s”"),
    "is_not": N_("whose %(field)s is not “%(value)s” or is empty"),
    "contains": N_("whose %(field)s contains “%(value)s”"),
    "not_contains": N_("whose %(field)s does not contain “%(value)s” or is empty"),
    "starts_with": N_("whose %(field)s starts with “%(value)s”"),
    "empty": N_("whose %(field)s is empty"),
    "not_empty": N_("whose %(field)s is not empty"),
    "before": N_("born before %(value)s"),
    "after": N_("born after %(value)s"),
}


def describe_rule(rule: Subscription) -> str:
    """A rule in the words a group leader uses."""
    if rule.group is not None:
        text = gettext(
            "%(role_types)s in %(group)s and the groups below",
            role_types=", ".join(role_type.name for role_type in rule.role_types),
            group=rule.group.path,
        )
        return " ".join([text, *tag_conditions(rule)])
    if rule.excluded:
        return gettext("Excluded: %(person)s", person=rule.person)
    return gettext("Added directly: %(person)s", person=rule.person)


def tag_conditions(rule: Subscription) -> list[str]:
    """The tag tests of a group rule, as clauses that follow its role types and group."""
    clauses = []
    if rule.required_tags:
        clauses.append(gettext("with one of the tags %(tags)s", tags=", ".join(rule.required_tags)))
    if rule.excluded_tags:
        clauses.append(gettext("without the tags %(tags)s", tags=", ".join(rule.excluded_tags)))
    return clauses


def describe_filters(mailing_list: MailingList) -> str | None:
    """The list's filters and preferred labels in one plain sentence for the subscriber
    view ("Only recipients speaking French, aged 18–30, whose company contains “Migros”.");
    None when it has none."""
    # The names of languages and genders are the people form's; the admin package imports
    # this module, so they are read when first needed.
    from mcbridge.admin.people import GENDER_LABELS, LANGUAGE_LABELS

    clauses = []
    if mailing_list.filter_language:
        language = LANGUAGE_LABELS[mailing_list.filter_language]
        clauses.append(gettext("speaking %(language)s", language=language))
    if mailing_list.filter_gender:
        gender = GENDER_LABELS[mailing_list.filter_gender]
        clauses.append(gettext("of gender %(gender)s", gender=gender))
    age = age_range(mailing_list.filter_min_age, mailing_list.filter_max_age)
    if age:
        clauses.append(age)
    on_field = field_clause(mailing_list)
    if on_field:
        clauses.append(on_field)
    sentences = []
    if clauses:
        sentences.append(gettext("Only recipients %(filters)s.", filters=", ".join(clauses)))
    if mailing_list.sync_all_delivery_addresses and mailing_list.delivery_labels:
        labels = ", ".join(mailing_list.delivery_labels)
        sentences.append(
            gettext("Additional addresses only with the label %(labels)s.", labels=labels)
        )
    return " ".join(sentences) or None


def age_range(minimum: int | None, maximum: int | None) -> str | None:
    if minimum is not None and maximum is not None:
        return gettext("aged %(minimum)d–%(maximum)d", minimum=minimum, maximum=maximum)
    if minimum is not None:
        return gettext("aged %(minimum)d or more", minimum=minimum)
    if maximum is not None:
        return gettext("aged %(maximum)d or less", maximum=maximum)
    return None


def field_clause(mailing_list: MailingList) -> str | None:
    """The list's condition on a person field as a clause ("whose company contains
    “Migros”"), a birthday's day in the reader's language; None when it has none."""
    field, condition = mailing_list.filter_field, mailing_list.filter_condition
    if not field or not condition:
        return None
    value = mailing_list.filter_value or ""
    if condition in ("before", "after"):
        value = day(date.fromisoformat(value))
    return gettext(FIELD_CLAUSES[condition], field=FIELD_NAMES[field], value=value)
