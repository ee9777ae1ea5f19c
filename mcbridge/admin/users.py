"""Sign-in accounts, managed by administrators only."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.validators import Length, Optional, ValidationError

from mcbridge.admin.base import ScopedModelView, ScopedPeopleLoader
from mcbridge.admin.forms import valid_email
from mcbridge.auth import Scope
from mcbridge.config import LANGUAGES
from mcbridge.i18n import LANGUAGE_NAMES
from mcbridge.models import User

MINIMUM_PASSWORD_LENGTH = 10


def locale_choices() -> list[tuple[str, str]]:
    return [
        ("", gettext("Browser language")),
        *((code, LANGUAGE_NAMES[code]) for code in LANGUAGES),
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
            description=lazy_gettext("Leave empty to keep the current password."),
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

    def on_model_change(self, form: Any, model: User, is_created: bool) -> None:
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created:
            raise ValidationError(gettext("A new account needs a password."))
        model.locale = model.locale or None
        if model.id == current_user.id and not (model.is_admin and model.active):
            raise ValidationError(gettext("You cannot remove your own administrator access."))

    def on_model_delete(self, model: User) -> None:
        if model.id == current_user.id:
            raise ValidationError(gettext("You cannot delete your own account."))
