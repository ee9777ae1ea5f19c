"""Sign-in accounts, managed by administrators only."""

from __future__ import annotations

import secrets
from typing import Any

from flask import flash
from flask_admin.actions import action
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from mcbridge.admin.base import ScopedModelView, ScopedPeopleLoader, id_or_none
from mcbridge.admin.forms import valid_email
from mcbridge.auth import Scope
from mcbridge.config import LANGUAGES
from mcbridge.i18n import LANGUAGE_NAMES
from mcbridge.mail import MailNotSentError, mail_enabled
from mcbridge.models import User
from mcbridge.password_links import INVITATION, send_password_link

MINIMUM_PASSWORD_LENGTH = 10


def locale_choices() -> list[SelectChoice]:
    """Each language by its own name, marked as that language (screen readers then read
    "Deutsch" in German on a French page)."""
    return [
        SelectChoice("", gettext("Browser language")),
        *(SelectChoice(code, LANGUAGE_NAMES[code], {"lang": code}) for code in LANGUAGES),
    ]


class UserView(ScopedModelView):
    admin_only = True
    scope_rule = Scope.shared
    column_list = ("email", "person", "is_admin", "active", "last_login_at")
    column_labels = {
        "email": lazy_gettext("Email"),
        "person": lazy_gettext("Person"),
        "is_admin": lazy_gettext("Administrator"),
        "active": lazy_gettext("May sign in"),
        "last_login_at": lazy_gettext("Last sign-in"),
        "locale": lazy_gettext("Language"),
    }
    column_searchable_list = ("email",)
    column_default_sort = "email"
    form_columns = ("email", "new_password", "person", "is_admin", "active", "locale")
    form_extra_fields = {
        "new_password": PasswordField(
            lazy_gettext("Password"),
            validators=[Optional(), Length(min=MINIMUM_PASSWORD_LENGTH)],
        )
    }
    form_overrides = {"locale": SelectField}
    form_args = {
        "email": {"label": lazy_gettext("Email"), "validators": [valid_email]},
        "person": {
            "label": lazy_gettext("Person"),
            "description": lazy_gettext(
                "The person this account belongs to: their leading roles decide what they see."
            ),
        },
        "is_admin": {"label": lazy_gettext("Administrator")},
        "active": {"label": lazy_gettext("May sign in")},
        "locale": {"label": lazy_gettext("Language"), "choices": locale_choices},
    }
    form_ajax_refs = {"person": ScopedPeopleLoader("person")}

    def create_form(self, obj: Any = None) -> Any:
        form = super().create_form(obj)
        form.new_password.description = new_account_password_hint()
        return form

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        form.new_password.description = gettext("Leave empty to keep the current password.")
        return form

    def on_model_change(self, form: Any, model: User, is_created: bool) -> None:
        """A new account without a password gets an unguessable one, replaced by the one its
        holder chooses through the invitation (sent once the account is saved)."""
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created and mail_enabled():
            model.set_password(secrets.token_urlsafe(32))
        elif is_created:
            raise ValidationError(
                gettext("This installation sends no mail (MAIL_URL): give the account a password.")
            )
        model.locale = model.locale or None
        if model.id == current_user.id and not (model.is_admin and model.active):
            raise ValidationError(gettext("You cannot remove your own administrator access."))

    def after_model_change(self, form: Any, model: User, is_created: bool) -> None:
        if is_created and not form.new_password.data:
            invite([model])

    @action(
        "invite",
        lazy_gettext("Send an invitation"),
        lazy_gettext("Mail the selected accounts a link to choose their password?"),
    )
    def action_invite(self, ids: Any) -> None:
        """Again after a lost or expired invitation; also how an existing account's holder
        gets to choose their own password instead of one an administrator made up."""
        numbers = [number for value in ids if (number := id_or_none(value)) is not None]
        invite(self.get_query().filter(User.id.in_(numbers)).all())

    def on_model_delete(self, model: User) -> None:
        if model.id == current_user.id:
            raise ValidationError(gettext("You cannot delete your own account."))


def new_account_password_hint() -> str:
    if mail_enabled():
        return gettext(
            "Leave empty to send an invitation by mail: the person chooses their own password."
        )
    return gettext(
        "This installation sends no mail (MAIL_URL), so invitations cannot be sent: "
        "set a password and give it to the person."
    )


def invite(users: list[User]) -> None:
    """Invitations to these accounts, each told: sent, or why not and what to do instead."""
    if not mail_enabled():
        flash(
            gettext("This installation sends no mail (MAIL_URL): no invitation was sent."),
            "error",
        )
        return
    for user in users:
        try:
            send_password_link(user, INVITATION)
        except MailNotSentError as error:
            flash(
                gettext(
                    "The invitation to %(email)s could not be sent (%(reason)s). Try again "
                    "later, or set a password for the account.",
                    email=user.email,
                    reason=str(error),
                ),
                "error",
            )
        else:
            flash(gettext("An invitation was sent to %(email)s.", email=user.email), "success")
