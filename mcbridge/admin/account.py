"""Signing in and out, and choosing the language."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from functools import cache
from typing import Any

from flask import abort, flash, make_response, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from mcbridge.admin.users import MINIMUM_PASSWORD_LENGTH
from mcbridge.auth import sign_in_redirect, uses_own_accounts
from mcbridge.clock import now
from mcbridge.config import LANGUAGES
from mcbridge.emails import normalize_email
from mcbridge.extensions import db
from mcbridge.jobs import QUEUE_UNREACHABLE
from mcbridge.mail import mail_enabled
from mcbridge.models import User
from mcbridge.models.users import password_hash_method
from mcbridge.password_links import (
    PASSWORD_TOKEN,
    RESET,
    LinkRefusedError,
    account_for_token,
    send_password_link_later,
)
from mcbridge.security import SignInThrottle, password_reset_throttle, sign_in_throttle


@cache
def decoy_hash(method: str) -> str:
    """Checked against when the address is unknown, so that a wrong address takes as long as
    a wrong password and sign-in timing does not reveal who has an account."""
    return generate_password_hash(secrets.token_hex(16), method)


class SignInForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired()])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired()])
    remember = BooleanField(lazy_gettext("Keep me signed in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired()])


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        validators=[DataRequired(), Length(min=MINIMUM_PASSWORD_LENGTH)],
        description=lazy_gettext("At least %(num)d characters.", num=MINIMUM_PASSWORD_LENGTH),
    )
    confirm = PasswordField(
        lazy_gettext("The new password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("The two passwords are not the same.")),
        ],
    )


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: an open redirect would let a link send users elsewhere.

    Browsers read a backslash as a slash and drop tabs and line breaks (`/\\evil.example`
    is another host), and a control character would split the Location header (a 500).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or not target.isprintable():
        return None
    return target


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        check_password_hash(decoy_hash(password_hash_method()), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


class AccountView(BaseView):
    """Sign-in pages; they live in the admin to share its layout, but stay off the menu.

    Their POSTs are covered by the app-wide CSRF protection like every other form.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Named, or Flask-Admin titles its pages "Account View"."""
        kwargs.setdefault("name", lazy_gettext("Account"))
        super().__init__(**kwargs)

    def is_visible(self) -> bool:
        return False

    def home(self) -> str:
        return url_for(f"{self.admin.endpoint}.index")

    @expose("/")
    def index(self) -> Response:
        return redirect(url_for(".sign_in"))

    @expose("/sign-in", methods=("GET", "POST"))
    def sign_in(self) -> Any:
        if not uses_own_accounts():
            return sign_in_redirect()  # the host signs its users in, not mcbridge
        form = SignInForm()
        if not form.is_submitted():
            form.email.data = request.args.get("email", "")
        if not form.validate_on_submit():
            return self.sign_in_page(form)
        return counted(
            sign_in_throttle(),
            form.email.data,
            lambda: self.sign_in_page(form),
            lambda: self.check_password(form),
        )

    def check_password(self, form: SignInForm) -> Any:
        """Once the throttle let the attempt through: a failure counts, a success clears the
        account's count."""
        throttle = sign_in_throttle()
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.failed(form.email.data)
            flash(gettext("Wrong email or password."), "error")
            return self.sign_in_page(form)
        throttle.succeeded(form.email.data)
        login_user(user, remember=form.remember.data)
        user.last_login_at = now()
        db.session.commit()
        flash(gettext("Welcome, you are signed in."), "success")
        return redirect(safe_next(request.args.get("next")) or self.home())

    def sign_in_page(self, form: SignInForm) -> str:
        return self.render("mcbridge/admin/sign_in.html", form=form)

    @expose("/forgot-password", methods=("GET", "POST"))
    def forgot_password(self) -> Any:
        """A reset link by mail. The answer is the same whether an account uses the address
        or not, and requests are throttled like sign-ins (they send mail to someone)."""
        form = ForgotPasswordForm()
        if not mail_enabled() or not form.validate_on_submit():
            return self.forgot_password_page(form)
        return counted(
            password_reset_throttle(),
            form.email.data,
            lambda: self.forgot_password_page(form),
            lambda: request_reset(form.email.data),
        )

    def forgot_password_page(self, form: ForgotPasswordForm) -> str:
        return self.render(
            "mcbridge/admin/forgot_password.html", form=form, mail_enabled=mail_enabled()
        )

    @expose("/password/<token>")
    def open_password_link(self, token: str) -> Response:
        """Where an invitation or a reset link leads: the token moves into the session and
        the browser on to an address without it, so that it is written in no access log
        (the form's POST, the pages after) and sent in no Referer."""
        session[PASSWORD_TOKEN] = token
        return redirect(url_for(".set_password"))

    @expose("/password", methods=("GET", "POST"))
    def set_password(self) -> Any:
        """The account's holder chooses a password, which ends the link (see
        password_links.py) and every session of the account. A link that names no account
        it may still serve is a 404, like any other address of nothing, with a page that
        says what is wrong with it."""
        try:
            user, purpose = account_for_token(session.get(PASSWORD_TOKEN, ""))
        except LinkRefusedError as refused:
            flash(str(refused), "error")
            page = self.render("mcbridge/admin/set_password.html", form=None, purpose=None)
            return make_response(page, 404)
        form = SetPasswordForm()
        if not form.validate_on_submit():
            return self.render(
                "mcbridge/admin/set_password.html", form=form, user=user, purpose=purpose
            )
        user.set_password(form.password.data)
        db.session.commit()
        session.pop(PASSWORD_TOKEN, None)
        flash(gettext("Your password is set. You can sign in with it now."), "success")
        return redirect(url_for(".sign_in", email=user.email))

    @expose("/sign-out", methods=("POST",))
    def sign_out(self) -> Response:
        """Revokes the session server-side: this cookie and any copy of it, and every other
        session and remember-me cookie of the account, stop working (see `User.get_id`)."""
        if uses_own_accounts() and current_user.is_authenticated:
            current_user.rotate_session_token()
            db.session.commit()
        logout_user()
        flash(gettext("You are signed out."), "info")
        return redirect(url_for(".sign_in"))

    @expose("/language/<code>", methods=("POST",))
    def language(self, code: str) -> Response:
        if code not in LANGUAGES:
            abort(404)
        session["locale"] = code
        if uses_own_accounts() and current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
        return redirect(safe_next(request.form.get("next")) or self.home())


def counted(
    throttle: SignInThrottle,
    email: str,
    page: Callable[[], str],
    attempt: Callable[[], Any],
) -> Any:
    """The attempt, unless the throttle refuses it (429) or cannot count it (503): `page` is
    the form again, with the reason."""
    try:
        wait = throttle.wait_seconds(email)
        if wait:
            return too_many_attempts(page, wait)
        return attempt()
    except QUEUE_UNREACHABLE:
        return paused(page)


def request_reset(email: str) -> Response:
    """Counted like a failed sign-in, and answered the same whether the account exists."""
    password_reset_throttle().failed(email)
    send_reset_link(email)
    flash(
        gettext(
            "If an account uses this address, a link to choose a new password is on its "
            "way. Check your mailbox."
        ),
        "info",
    )
    return redirect(url_for(".sign_in"))


def paused(page: Callable[[], str]) -> Response:
    """Attempts are counted in Redis: without it, nobody signs in and no reset mail goes (an
    attempt that cannot be counted would give an attacker unlimited tries)."""
    flash(
        gettext(
            "Sign-in is paused: the service that counts failed attempts is unreachable. "
            "Please try again in a few minutes."
        ),
        "error",
    )
    return make_response(page(), 503)


def too_many_attempts(page: Callable[[], str], wait: int) -> Response:
    """The same refusal whether the account exists or not, and no password checked."""
    minutes = math.ceil(wait / 60)
    flash(
        ngettext(
            "Too many failed sign-ins for this account or from this network. "
            "Please try again in %(num)d minute.",
            "Too many failed sign-ins for this account or from this network. "
            "Please try again in %(num)d minutes.",
            minutes,
        ),
        "error",
    )
    response = make_response(page(), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def send_reset_link(email: str) -> None:
    """A reset mail to an active account using this address; nothing for anyone else."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is not None and user.active:
        send_password_link_later(user, RESET)
