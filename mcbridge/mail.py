"""Sending mail (invitations, password resets) through the SMTP server MAIL_URL names.

MAIL_URL is `smtp://user:password@host:port` (add `?starttls=true` to upgrade the
connection) or `smtps://…` for TLS from the first byte. The password is only ever handed
to the SMTP server: errors, logs and pages name the server by `SmtpServer.__str__`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

logger = logging.getLogger(__name__)

SCHEMES = {"smtp": 25, "smtps": 465}
TRUE_WORDS = ("1", "true", "yes", "on")
SMTP_TIMEOUT_SECONDS = 20


class MailNotSentError(Exception):
    """The SMTP server could not be reached or refused the mail; the message names the
    server (never its password) and the reason."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port}"


def parse_mail_url(url: str) -> SmtpServer:
    """The server a MAIL_URL names; a ValueError that never quotes the password otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(
            "MAIL_URL must look like smtp://user:password@host:port or smtps://…, "
            f"not a URL starting with {parts.scheme or '(nothing)'}:"
        )
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError:
        raise ValueError(f"MAIL_URL's port for {parts.hostname} is not a number") from None
    options = parse_qs(parts.query)
    return SmtpServer(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        starttls=options.get("starttls", ["no"])[0].lower() in TRUE_WORDS,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def check_mail_url(url: str) -> None:
    """Fail at start-up on a MAIL_URL that cannot work, not when the first invitation goes."""
    if url:
        parse_mail_url(url)


def mail_server() -> SmtpServer | None:
    """The configured server; None when the installation sends no mail."""
    url = current_app.config.get("MAIL_URL") or ""
    return parse_mail_url(url) if url else None


def mail_enabled() -> bool:
    return mail_server() is not None


def render_mail(template: str, locale: str, **context: object) -> tuple[str, str, str]:
    """Subject, plain text and HTML of `template` (`.txt` and `.html` beside each other,
    the subject on the text's first line) in the recipient's language."""
    with force_locale(locale):
        text = render_template(f"{template}.txt", mail_locale=locale, **context)
        html = render_template(f"{template}.html", mail_locale=locale, **context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n"), html


def send_mail(to: str, subject: str, text: str, html: str) -> None:
    """Send a plain text mail with its HTML alternative; MailNotSentError when it did not go."""
    server = mail_server()
    if server is None:
        raise MailNotSentError("MAIL_URL is not set")
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    try:
        with connect(server) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        reason = f"{server}: {type(error).__name__}"
        logger.warning("mail to a user not sent through %s", reason)
        raise MailNotSentError(reason) from None


def connect(server: SmtpServer) -> smtplib.SMTP:
    """An open, authenticated SMTP session over TLS when the URL asks for it."""
    if server.implicit_tls:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host,
            server.port,
            timeout=SMTP_TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if server.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if server.username:
            smtp.login(server.username, server.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp
