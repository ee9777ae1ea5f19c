"""Mailchimp connections and their audiences, managed by administrators only.

A connection's key is checked against Mailchimp before it is saved (reading its audiences
is the check), stored encrypted and shown by its last four characters. Replacing the key
updates every list that uses the connection at once; a key that no longer reaches one of
those lists' audiences is refused, so a rotation cannot strand a list.
"""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin.actions import action
from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy import select
from wtforms import PasswordField
from wtforms.validators import Optional, ValidationError

from mcbridge.admin.base import ScopedGroupLoader, ScopedModelView
from mcbridge.auth import Scope
from mcbridge.clock import now
from mcbridge.connections import read_audiences, store_audiences
from mcbridge.extensions import db
from mcbridge.mailchimp.audience import AudienceInfo
from mcbridge.mailchimp.errors import KeyRefusedError, MailchimpError
from mcbridge.mailchimp.keys import is_well_formed, masked
from mcbridge.models import ConnectionAudience, MailchimpConnection, MailingList

GROUPS_DESCRIPTION = lazy_gettext(
    "Lists of these groups, and of every group below them, may use it."
)


def checked_audiences(api_key: str) -> list[AudienceInfo]:
    """The key's audiences, or a form error saying in plain words why there are none."""
    if not is_well_formed(api_key):
        raise ValidationError(
            gettext("This is not an API key: it looks like 0123456789abcdef0123456789abcdef-us6.")
        )
    try:
        return read_audiences(api_key)
    except KeyRefusedError as error:
        raise ValidationError(gettext("Mailchimp refused this API key.")) from error
    except MailchimpError as error:
        raise ValidationError(
            gettext(
                "Mailchimp could not be reached: %(problem)s",
                problem=error.user_message().render(),
            )
        ) from error


def stranded_lists(connection: MailchimpConnection, found: list[AudienceInfo]) -> list[str]:
    """Lists of the connection whose audience the new key does not reach."""
    reached = {info.id for info in found}
    lists = db.session.scalars(
        select(MailingList).where(MailingList.connection_id == connection.id)
    ).all()
    return [ml.name for ml in lists if ml.mailchimp_list_id not in reached]


class ConnectionView(ScopedModelView):
    admin_only = True
    scope_rule = Scope.shared
    column_list = ("name", "api_key", "groups", "audiences", "created_at")
    column_labels = {
        "name": lazy_gettext("Name"),
        "api_key": lazy_gettext("API key"),
        "groups": lazy_gettext("Groups that may use it"),
        "audiences": lazy_gettext("Audiences"),
        "created_at": lazy_gettext("Added"),
    }
    column_formatters = {
        "api_key": lambda _view, _context, model, _name: masked(model.api_key),
        "audiences": lambda _view, _context, model, _name: len(model.audiences),
    }
    column_default_sort = "name"
    form_columns = ("name", "new_key", "groups")
    form_extra_fields = {
        "new_key": PasswordField(
            lazy_gettext("Mailchimp API key"),
            validators=[Optional()],
            description=lazy_gettext(
                "Mailchimp › Account › Extras › API keys › Create A Key. Leave empty to keep "
                "the saved key; a new one is checked first and replaces it for every list."
            ),
            render_kw={"autocomplete": "off"},
        )
    }
    form_args = {
        "name": {"label": lazy_gettext("Name")},
        "groups": {
            "label": lazy_gettext("Groups that may use it"),
            "description": GROUPS_DESCRIPTION,
        },
    }
    form_ajax_refs = {"groups": ScopedGroupLoader("groups")}

    def on_model_change(self, form: Any, model: MailchimpConnection, is_created: bool) -> None:
        key = (form.new_key.data or "").strip()
        if not key:
            if is_created:
                raise ValidationError(gettext("A new connection needs an API key."))
            return
        found = checked_audiences(key)
        stranded = [] if is_created else stranded_lists(model, found)
        if stranded:
            raise ValidationError(
                gettext(
                    "This key does not reach the audience of: %(lists)s. Nothing was changed.",
                    lists=", ".join(stranded),
                )
            )
        model.api_key = key
        if is_created:
            model.created_at = now()
        store_audiences(model, found)

    @action(
        "refresh",
        lazy_gettext("Read audiences again"),
        lazy_gettext("Read the audiences of the selected connections from Mailchimp?"),
    )
    def action_refresh(self, ids: Any) -> None:
        numbers = [int(value) for value in ids if str(value).isdigit()]
        for connection in self.get_query().filter(MailchimpConnection.id.in_(numbers)).all():
            try:
                store_audiences(connection, read_audiences(connection.api_key))
            except MailchimpError as error:
                flash(f"{connection.name}: {error.user_message().render()}", "error")
        db.session.commit()
        flash(
            ngettext(
                "%(num)d connection read again.", "%(num)d connections read again.", len(numbers)
            ),
            "success",
        )


class AudienceView(ScopedModelView):
    """Which groups may use each audience; audiences come from Mailchimp, not from here."""

    admin_only = True
    scope_rule = Scope.shared
    can_create = False
    column_list = ("connection", "name", "audience_id", "member_count", "groups", "refreshed_at")
    column_labels = {
        "connection": lazy_gettext("Connection"),
        "name": lazy_gettext("Audience"),
        "audience_id": lazy_gettext("Audience id"),
        "member_count": lazy_gettext("Members"),
        "groups": lazy_gettext("Groups that may use it"),
        "refreshed_at": lazy_gettext("Read from Mailchimp"),
    }
    column_default_sort = "name"
    column_formatters = {"connection": lambda _view, _context, model, _name: model.connection.name}
    form_columns = ("groups",)
    form_args = {
        "groups": {
            "label": lazy_gettext("Groups that may use it"),
            "description": GROUPS_DESCRIPTION,
        }
    }
    form_ajax_refs = {"groups": ScopedGroupLoader("groups")}


CONNECTION_MODELS = (
    (ConnectionView, MailchimpConnection, lazy_gettext("Mailchimp connections"), "connections"),
    (AudienceView, ConnectionAudience, lazy_gettext("Mailchimp audiences"), "audiences"),
)
