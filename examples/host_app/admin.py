"""The host's own Flask-Admin: its home page and its members, for signed-in users only.
mcbridge's views join this admin under their own menu."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_babel import lazy_gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from .models import Person, db


class SignedIn:
    """Every page of the host's admin asks for a signed-in user first."""

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        return redirect(url_for("accounts.sign_in", next=request.full_path))


class HomeView(SignedIn, AdminIndexView):
    @expose("/")
    def index(self) -> str:
        return self.render("host_app/home.html", members=db.session.query(Person).count())


class MembersView(SignedIn, ModelView):
    column_list = ("name", "email")
    column_labels = {"name": lazy_gettext("Name"), "email": lazy_gettext("Email")}


def create_admin() -> Admin:
    admin = Admin(name=lazy_gettext("Rowing club"), index_view=HomeView())
    admin.add_view(MembersView(Person, db.session, name=lazy_gettext("Members")))
    return admin
