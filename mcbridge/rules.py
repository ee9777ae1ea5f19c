"""A mailing list's rules in the words a group leader uses: on the list pages, in the
subscriber view and its CSV download, and in the `recipients` command."""

from __future__ import annotations

from flask_babel import gettext

from mcbridge.models import Subscription


def describe_rule(rule: Subscription) -> str:
    """A rule in the words a group leader uses."""
    if rule.group is not None:
        return gettext(
            "%(role_types)s in %(group)s and the groups below",
            role_types=", ".join(role_type.name for role_type in rule.role_types),
            group=rule.group.path,
        )
    if rule.excluded:
        return gettext("Excluded: %(person)s", person=rule.person)
    return gettext("Added directly: %(person)s", person=rule.person)
