"""Who may see and change what.

An admin sees everything. Anyone else sees the groups where their person holds an active
role of a managing role type, every group below those, the people holding roles there and
those groups' mailing lists. The scope is SQL (a subquery), never a Python list of ids, so
it stays one query however large the subtree, and every view filters through it.
"""

from __future__ import annotations

import hmac
from datetime import date

from flask import Flask, current_app, g, request, session
from flask_login import current_user, login_user
from sqlalchemy import ColumnElement, Select, exists, false, select, true
from werkzeug.wrappers import Response

from mcbridge import clock
from mcbridge.extensions import db, login_manager
from mcbridge.models import Group, MailingList, Person, Role, RoleType, User, role_is_active
from mcbridge.models import subtree_ids as subtree_ids_of


class Scope:
    """What one user may reach; `everything` for admins."""

    def __init__(self, user: User | None, today: date | None = None) -> None:
        self.user = user
        self.everything = bool(user and user.is_admin)
        self.today = today or clock.today()

    def led_group_ids(self) -> Select:
        """Groups where the user's person holds an active role of a managing type."""
        person_id = self.user.person_id if self.user else None
        return (
            select(Role.group_id)
            .join(RoleType, RoleType.id == Role.role_type_id)
            .where(
                Role.person_id == person_id,
                RoleType.manages.is_(true()),
                role_is_active(self.today),
            )
        )

    def group_ids(self) -> Select:
        return subtree_ids_of(self.led_group_ids())

    def is_leader(self) -> bool:
        return self.everything or bool(db.session.scalar(select(exists(self.led_group_ids()))))

    def shared(self) -> ColumnElement[bool]:
        """Rows every signed-in user may read (role types)."""
        return true()

    def groups(self) -> ColumnElement[bool]:
        return self._within(Group.id)

    def roles(self) -> ColumnElement[bool]:
        return self._within(Role.group_id)

    def mailing_lists(self) -> ColumnElement[bool]:
        return self._within(MailingList.group_id)

    def people(self) -> ColumnElement[bool]:
        """People holding any role (past ones too, so leaders can renew them) in scope."""
        if self.everything:
            return true()
        return exists().where(Role.person_id == Person.id, Role.group_id.in_(self.group_ids()))

    def contains_group(self, group_id: int | None) -> bool:
        """Checked while a form's changes are pending: no autoflush of half-validated rows."""
        if self.everything:
            return True
        if group_id is None:
            return False
        with db.session.no_autoflush:
            return bool(db.session.scalar(select(exists().where(self._within_id(group_id)))))

    def _within(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        if self.everything:
            return true()
        if self.user is None:
            return false()
        return column.in_(self.group_ids())

    def _within_id(self, group_id: int) -> ColumnElement[bool]:
        subtree = self.group_ids().subquery()
        return subtree.c.id == group_id


def current_scope() -> Scope:
    """The signed-in user's scope, computed once per request."""
    if "mcbridge_scope" not in g:
        user = current_user if current_user.is_authenticated else None
        g.mcbridge_scope = Scope(user)
    return g.mcbridge_scope


def load_user(user_id: str) -> User | None:
    """The user a session or remember-me cookie names, if its session token is still the
    account's (see `User.get_id`); cookies from before the token existed name no one."""
    number, _, token = user_id.partition(":")
    user = db.session.get(User, int(number)) if number.isdigit() else None
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(user.session_token.encode(), token.encode()) else None


def keep_own_session(response: Response) -> Response:
    """A password change rotates the account's session token, revoking all its sessions;
    the browser that made the change gets the new token, so only the others are signed out.
    A remember-me cookie it held is issued again (Flask-Login's own hook runs after this).

    Only a user Flask-Login already loaded for this request is looked at (`g._login_user`,
    its cache), so static files cost no query.
    """
    user = g.get("_login_user")
    if isinstance(user, User) and session.get("_user_id") != user.get_id():
        remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        login_user(user, remember=remembered in request.cookies)
    return response


def init_login(app: Flask) -> None:
    """Use mcbridge's sign-in unless the host app brought its own login manager."""
    if hasattr(app, "login_manager"):
        return
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    app.after_request(keep_own_session)
    login_manager.login_view = "mcbridge_account.sign_in"
    login_manager.session_protection = "strong"
