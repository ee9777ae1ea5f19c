"""Flask-Admin views, one module per area, registered into a given Admin."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext

from mcbridge.admin.account import AccountView
from mcbridge.admin.connections import CONNECTION_MODELS
from mcbridge.admin.dashboard import DashboardView
from mcbridge.admin.exports import MAILCHIMP_EXPORT, ExportsView
from mcbridge.admin.groups import GroupView, RoleTypeView
from mcbridge.admin.mailchimp_link import MailchimpLinkView
from mcbridge.admin.mailing_lists import MailingListView
from mcbridge.admin.operations import OperationsView
from mcbridge.admin.people import PersonView
from mcbridge.admin.roles import RoleView
from mcbridge.admin.subscribers import SubscribersView, register_export
from mcbridge.admin.suppressed import SuppressedView
from mcbridge.admin.users import UserView
from mcbridge.admin.why import WhyView
from mcbridge.extensions import Database
from mcbridge.models import Group, MailingList, Person, Role, RoleType, User
from mcbridge.resources import TRANSLATIONS


def create_admin(app: Flask) -> Admin:
    """The standalone admin: mcbridge's dashboard is its home page."""
    return Admin(
        app,
        name="mcbridge",
        index_view=DashboardView(name=lazy_gettext("Dashboard"), url="/admin"),
        theme=Bootstrap4Theme(base_template="mcbridge/admin/base.html", fluid=True),
    )


def register_views(
    admin: Admin, database: Database, url_prefix: str = "", *, own_accounts: bool = True
) -> None:
    """Add mcbridge's views; inside a host's admin they gather under one menu category.

    Endpoints carry an `mcbridge_` prefix so they never clash with a host's own views.
    mcbridge's accounts are managed here only when it signs users in itself. The model
    views work in `database`, the one mcbridge was given in this app.
    """
    if admin.translations_path is None:
        # Flask-Admin's catalogs compiled from the .po files it ships (the Makefile and the
        # wheel's build do it): the .mo files in its wheel are older and lack some messages.
        admin.translations_path = str(TRANSLATIONS)
    hosted = not isinstance(admin.index_view, DashboardView)
    category = "mcbridge" if hosted else None
    if hosted:
        admin.add_view(
            DashboardView(
                name=lazy_gettext("Dashboard"),
                category=category,
                endpoint="mcbridge_dashboard",
                url=f"{url_prefix}dashboard",
            )
        )
    models = (
        (GroupView, Group, lazy_gettext("Groups"), "groups"),
        (PersonView, Person, lazy_gettext("People"), "people"),
        (RoleView, Role, lazy_gettext("Roles"), "roles"),
        (MailingListView, MailingList, lazy_gettext("Mailing lists"), "mailing-lists"),
        (RoleTypeView, RoleType, lazy_gettext("Role types"), "role-types"),
        *([(UserView, User, lazy_gettext("Users"), "users")] if own_accounts else []),
        *CONNECTION_MODELS,
    )
    for view_class, model, name, slug in models:
        admin.add_view(
            view_class(
                model,
                database.sqlalchemy,
                name=name,
                category=category,
                endpoint=f"mcbridge_{slug.replace('-', '_')}",
                url=f"{url_prefix}{slug}",
            )
        )
    admin.add_view(SubscribersView(endpoint="mcbridge_subscribers", url=f"{url_prefix}subscribers"))
    admin.add_view(ExportsView(endpoint="mcbridge_exports", url=f"{url_prefix}exports"))
    admin.add_view(WhyView(endpoint="mcbridge_why", url=f"{url_prefix}why"))
    admin.add_view(SuppressedView(endpoint="mcbridge_suppressed", url=f"{url_prefix}suppressed"))
    admin.add_view(MailchimpLinkView(endpoint="mcbridge_mailchimp", url=f"{url_prefix}mailchimp"))
    admin.add_view(
        OperationsView(
            name=lazy_gettext("Operations"),
            category=category,
            endpoint="mcbridge_operations",
            url=f"{url_prefix}operations",
        )
    )
    register_export(MAILCHIMP_EXPORT)
    admin.add_view(AccountView(endpoint="mcbridge_account", url=f"{url_prefix}account"))
