"""Links that let a person choose their password: invitations and password resets.

A link carries a token signed with the app's secret (itsdangerous): the account, the
purpose and a digest of the account's password hash and session token. Setting a password
changes both, so a link works once; signing out everywhere also ends the links of the
account. It expires after MCBRIDGE_INVITATION_HOURS or MCBRIDGE_RESET_HOURS. Nothing is
stored: no table, no migration.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_request_context, url_for
from flask_babel import gettext, lazy_gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer

from mcbridge.clock import now_utc
from mcbridge.extensions import db
from mcbridge.i18n import page_language
from mcbridge.mail import MailNotSentError, render_mail, send_mail
from mcbridge.models import User

INVITATION = "invitation"
RESET = "reset"
VALIDITY_SETTINGS = {INVITATION: "MCBRIDGE_INVITATION_HOURS", RESET: "MCBRIDGE_RESET_HOURS"}
SALT = "mcbridge-password-link"
# The session key a link's token waits under once opened: out of the address bar and logs.
PASSWORD_TOKEN = "password_link_token"

logger = logging.getLogger(__name__)


class LinkRefusedError(Exception):
    """A link that cannot set a password; its message tells the person why, in their words."""


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def account_state(user: User) -> str:
    """Changes whenever the password or the session token does, ending earlier links."""
    material = f"{user.id}:{user.password_hash}:{user.session_token}".encode()
    return hashlib.sha256(material).hexdigest()


def password_link(user: User, purpose: str) -> str:
    """The absolute address of the page where the account's holder sets a password: on
    MCBRIDGE_PUBLIC_URL when set, so that a request with a forged Host header cannot have a
    reset mail point to another site (and hand it the token)."""
    token = serializer().dumps({"user": user.id, "purpose": purpose, "state": account_state(user)})
    public_url = current_app.config.get("MCBRIDGE_PUBLIC_URL")
    if not public_url:
        return url_for("mcbridge_account.open_password_link", token=token, _external=True)
    return public_url.rstrip("/") + url_for("mcbridge_account.open_password_link", token=token)


def validity_hours(purpose: str) -> float:
    return float(current_app.config[VALIDITY_SETTINGS[purpose]])


def account_for_token(token: str) -> tuple[User, str]:
    """The account a link may set the password of, and the link's purpose; LinkRefusedError
    saying what is wrong otherwise."""
    try:
        data, issued_at = serializer().loads(token, return_timestamp=True)
    except BadSignature:
        raise LinkRefusedError(
            gettext("This link is not valid. Check that it was copied whole, or ask for a new one.")
        ) from None
    purpose = data.get("purpose")
    if purpose not in VALIDITY_SETTINGS:
        raise LinkRefusedError(gettext("This link is not valid."))
    age_hours = (now_utc() - issued_at).total_seconds() / 3600
    if age_hours >= validity_hours(purpose):
        raise LinkRefusedError(gettext("This link has expired. Ask for a new one."))
    user = db.session.get(User, data.get("user"))
    if user is None or not user.active or not same_state(user, data.get("state")):
        raise LinkRefusedError(
            gettext("This link was already used or is no longer valid. Ask for a new one.")
        )
    return user, purpose


def same_state(user: User, state: Any) -> bool:
    return isinstance(state, str) and hmac.compare_digest(state, account_state(user))


MAIL_TEXTS = {
    INVITATION: {
        "subject": lazy_gettext("Your mcbridge account"),
        "intro": lazy_gettext(
            "An account on mcbridge was opened for you. Choose your password to sign in."
        ),
        "action": lazy_gettext("Choose my password"),
    },
    RESET: {
        "subject": lazy_gettext("Choose a new mcbridge password"),
        "intro": lazy_gettext(
            "Someone asked for a new password for your mcbridge account. If it was not you, "
            "ignore this mail: your password stays as it is."
        ),
        "action": lazy_gettext("Choose a new password"),
    },
}


@dataclass(frozen=True)
class PasswordMail:
    """What a password mail needs, read from the account in the request: the mail itself
    may then be written and sent where there is no request and no database (a thread)."""

    address: str
    locale: str
    purpose: str
    link: str

    @classmethod
    def to(cls, user: User, purpose: str) -> PasswordMail:
        """In the account's saved language; without one, in the request's: the language
        of the browser asking for a reset, or of the page the administrator invites from."""
        return cls(user.email, mail_locale(user), purpose, password_link(user, purpose))

    def send(self) -> None:
        """In the recipient's language; MailNotSentError if it did not go."""
        subject, text, html = render_mail(
            "mcbridge/mail/password_link",
            self.locale,
            texts=MAIL_TEXTS[self.purpose],
            link=self.link,
            hours=validity_hours(self.purpose),
            email=self.address,
        )
        send_mail(self.address, subject, text, html)


def mail_locale(user: User) -> str:
    if user.locale:
        return user.locale
    if has_request_context():
        return page_language()
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def send_password_link(user: User, purpose: str) -> None:
    """The invitation or reset mail, now: the caller tells whether it went."""
    PasswordMail.to(user, purpose).send()


def send_password_link_later(user: User, purpose: str) -> None:
    """The mail written and sent by a thread of its own, so the request answers as fast
    for an address with an account as for one without: its timing says nothing about who
    has one. A mail that could not go is logged (without the address), never told."""
    mail = PasswordMail.to(user, purpose)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=deliver, args=(app, mail), daemon=True).start()


def deliver(app: Flask, mail: PasswordMail) -> None:
    with app.app_context():
        try:
            mail.send()
        except MailNotSentError:
            logger.warning("a %s link could not be sent", mail.purpose)
