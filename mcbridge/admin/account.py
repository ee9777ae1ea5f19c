"""Signing in and out, and choosing the language."""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime
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
from wtforms.validators import DataRequired

from mcbridge.auth import sign_in_redirect, uses_own_accounts
from mcbridge.config import LANGUAGES
from mcbridge.emails import normalize_email
from mcbridge.extensions import db
from mcbridge.jobs import QUEUE_UNREACHABLE
from mcbridge.models import User
from mcbridge.models.users import password_hash_method
from mcbridge.security import sign_in_throttle


@cache
def decoy_hash(method: str) -> str:
    """Checked against when the address is unknown, so that a wrong address takes as long as
    a wrong password and sign-in timing does not reveal who has an account."""
    return generate_password_hash(secrets.token_hex(16), method)


class SignInForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired()])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired()])
    remember = BooleanField(lazy_gettext("Keep me signed in"))


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
        if not form.validate_on_submit():
            return self.sign_in_page(form)
        throttle = sign_in_throttle()
        try:
            wait = throttle.wait_seconds(form.email.data)
            if wait:
                return self.too_many_attempts(form, wait)
            user = authenticate(form.email.data, form.password.data)
            if user is None:
                throttle.failed(form.email.data)
                flash(gettext("Wrong email or password."), "error")
                return self.sign_in_page(form)
            throttle.succeeded(form.email.data)
        except QUEUE_UNREACHABLE:
            return self.paused(form)
        login_user(user, remember=form.remember.data)
        user.last_login_at = datetime.now(UTC).replace(tzinfo=None)
        db.session.commit()
        flash(gettext("Welcome, you are signed in."), "success")
        return redirect(safe_next(request.args.get("next")) or self.home())

    def sign_in_page(self, form: SignInForm) -> str:
        return self.render("mcbridge/admin/sign_in.html", form=form)

    def paused(self, form: SignInForm) -> Response:
        """Failed attempts are counted in Redis: without it, nobody signs in (a sign-in
        that cannot be counted would give an attacker unlimited tries)."""
        flash(
            gettext(
                "Sign-in is paused: the service that counts failed attempts is unreachable. "
                "Please try again in a few minutes."
            ),
            "error",
        )
        return make_response(self.sign_in_page(form), 503)

    def too_many_attempts(self, form: SignInForm, wait: int) -> Response:
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
        response = make_response(self.sign_in_page(form), 429)
        response.headers["Retry-After"] = str(wait)
        return response

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
