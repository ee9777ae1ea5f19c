"""The host's own sign-in: Flask-Login with its `users` table, a command to add a user, and
what mcbridge asks about the signed-in user (its `Identity`)."""

from __future__ import annotations

import click
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from .models import User, db

login_manager = LoginManager()
login_manager.login_view = "accounts.sign_in"
accounts = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


class HostIdentity:
    """Answers mcbridge's questions from the host's users: the host's administrators
    administer mcbridge; no host user is one of mcbridge's people, so none leads a group
    there (a host linking its users to mcbridge's people would answer `person_id`)."""

    def is_signed_in(self) -> bool:
        return bool(current_user.is_authenticated)

    def is_admin(self) -> bool:
        return self.is_signed_in() and bool(current_user.is_admin)

    def person_id(self) -> int | None:
        return None

    def label(self) -> str:
        return current_user.email


class SignInForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired()])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired()])


def local_path(target: str | None) -> str:
    """Only a path on this site after signing in: anything else could send users elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("admin.index")


@accounts.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response:
    form = SignInForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            flash(gettext("Welcome, you are signed in."))
            return redirect(local_path(request.args.get("next")))
        flash(gettext("Wrong email or password."), "error")
    return render_template("host_app/sign_in.html", form=form)


@accounts.route("/sign-out", methods=["POST"])
@login_required
def sign_out() -> Response:
    logout_user()
    return redirect(url_for("accounts.sign_in"))


@click.command("create-user")
@click.argument("email")
@click.option("--admin", is_flag=True, help="The user administers the site and mcbridge.")
@click.password_option(envvar="HOST_USER_PASSWORD")
def create_user(email: str, admin: bool, password: str) -> None:
    """Add a user who signs in to the host (the password is asked, or HOST_USER_PASSWORD)."""
    address = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == address)) is not None:
        raise click.ClickException(gettext("%(email)s already has an account.", email=address))
    user = User(email=address, is_admin=admin)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"{user.email} added.")
