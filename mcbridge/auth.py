"""Who may see and change what.

An admin sees everything. Anyone else sees the groups where their person holds an active
role of a managing role type, every group below those, the people holding roles there and
those groups' mailing lists. The scope is SQL (a subquery), never a Python list of ids, so
it stays one query however large the subtree, and every view filters through it.

Who is signed in comes from an `Identity`. Without a host identity mcbridge uses its own
accounts (`OwnAccounts`: the `User` model and its sign-in page); a host application with
its own users passes an object with the four methods of `Identity` to `MCBridge`.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Protocol

from flask import Flask, current_app, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user, login_user
from sqlalchemy import ColumnElement, Select, exists, false, select, true
from werkzeug.wrappers import Response

from mcbridge import clock
from mcbridge.extensions import db, login_manager
from mcbridge.models import Group, MailingList, Person, Role, RoleType, User, role_is_active
from mcbridge.models import subtree_ids as subtree_ids_of


class Identity(Protocol):
    """What mcbridge asks about the user of the current request.

    A host implements it over its own users (typically reading Flask-Login's
    `current_user`); mcbridge never sees the host's user model itself.
    """

    def is_signed_in(self) -> bool:
        """Someone is signed in (mcbridge's views are closed to strangers)."""
        ...

    def is_admin(self) -> bool:
        """The signed-in user administers mcbridge: sees and changes everything."""
        ...

    def person_id(self) -> int | None:
        """The id of the signed-in user's row in mcbridge's people table, if any: a
        user leads the groups where that person holds a role of a managing type."""
        ...

    def label(self) -> str:
        """How the signed-in user is named where mcbridge records who acted (who gave
        consent on a list's Mailchimp tab, started an export, asked to bring an address
        back), e.g. their e-mail address. Kept as text: a host's users are no rows of
        mcbridge's, and the record must outlive the account."""
        ...


class OwnAccounts:
    """mcbridge's own accounts (`User`), signed in through mcbridge's sign-in page."""

    def is_signed_in(self) -> bool:
        return bool(current_user and current_user.is_authenticated)

    def is_admin(self) -> bool:
        return self.is_signed_in() and bool(current_user.is_admin)

    def person_id(self) -> int | None:
        return current_user.person_id if self.is_signed_in() else None

    def label(self) -> str:
        return current_user.email if self.is_signed_in() else ""


def current_identity() -> Identity:
    return current_app.extensions["mcbridge"].identity


def uses_own_accounts() -> bool:
    """mcbridge signs users in itself (no host identity)."""
    return isinstance(current_identity(), OwnAccounts)


def current_account_id() -> int | None:
    """The signed-in mcbridge account, to record who consented or started an export; a
    host's user has no account in mcbridge's users table, so nothing is recorded."""
    return current_user.id if uses_own_accounts() and current_user.is_authenticated else None


LABEL_LENGTH = 255


def current_actor_label() -> str | None:
    """Who acts in this request, as `Identity.label` names them, for the records of who
    acted; None outside a request (the daily schedule, the command line, a worker) or for
    a stranger."""
    if not has_request_context() or not current_identity().is_signed_in():
        return None
    return current_identity().label()[:LABEL_LENGTH] or None


def sign_in_redirect() -> Response:
    """Where a stranger goes: mcbridge's sign-in page, or the host's (its login manager's
    own handling of an unauthorised request)."""
    if uses_own_accounts():
        return redirect(url_for("mcbridge_account.sign_in", next=request.full_path))
    return current_app.login_manager.unauthorized()


class Scope:
    """What one user may reach; `everything` for admins."""

    def __init__(
        self,
        person_id: int | None,
        *,
        signed_in: bool,
        admin: bool = False,
        today: date | None = None,
    ) -> None:
        self.person_id = person_id
        self.signed_in = signed_in
        self.everything = signed_in and admin
        self.today = today or clock.today()

    def led_group_ids(self) -> Select:
        """Groups where the user's person holds an active role of a managing type."""
        return (
            select(Role.group_id)
            .join(RoleType, RoleType.id == Role.role_type_id)
            .where(
                Role.person_id == self.person_id,
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
        """People holding any role (past ones too, so leaders can renew them) in scope.

        The group tree is read first and its ids written into the query: PostgreSQL
        mis-estimates the recursive walk nested in a query over a million people, and
        then hashes every role in scope even where a search leaves a handful to check."""
        if self.everything:
            return true()
        return exists().where(Role.person_id == Person.id, Role.group_id.in_(self.group_id_list()))

    def group_id_list(self) -> list[int]:
        with db.session.no_autoflush:
            return list(db.session.scalars(self.group_ids()))

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
        if not self.signed_in:
            return false()
        return column.in_(self.group_ids())

    def _within_id(self, group_id: int) -> ColumnElement[bool]:
        subtree = self.group_ids().subquery()
        return subtree.c.id == group_id


def current_scope() -> Scope:
    """The signed-in user's scope, computed once per request."""
    if "mcbridge_scope" not in g:
        identity = current_identity()
        signed_in = identity.is_signed_in()
        g.mcbridge_scope = Scope(
            identity.person_id() if signed_in else None,
            signed_in=signed_in,
            admin=signed_in and identity.is_admin(),
        )
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


def check_identity(identity: object) -> None:
    """A host's identity lacking one of the methods would fail on some page much later:
    refused at start-up, naming what is missing."""
    missing = [name for name in IDENTITY_METHODS if not callable(getattr(identity, name, None))]
    if missing:
        raise ValueError(
            f"MCBridge(identity=...) lacks {', '.join(missing)}: an identity answers "
            f"{', '.join(IDENTITY_METHODS)} (see mcbridge.auth.Identity)."
        )


IDENTITY_METHODS = ("is_signed_in", "is_admin", "person_id", "label")


def init_login(app: Flask, identity: Identity | None) -> Identity:
    """The identity mcbridge asks: the host's, or mcbridge's own accounts and sign-in.

    A host with its own Flask-Login manager but no identity cannot tell mcbridge who
    administers it: refused at start-up rather than guessed from the host's user model.
    """
    if identity is not None:
        check_identity(identity)
        return identity
    if hasattr(app, "login_manager"):
        raise ValueError(
            "The host app has its own Flask-Login manager: pass MCBridge(identity=...) "
            "to say who is signed in, who administers mcbridge and which person they are."
        )
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    app.after_request(keep_own_session)
    login_manager.login_view = "mcbridge_account.sign_in"
    login_manager.session_protection = "strong"
    return OwnAccounts()
