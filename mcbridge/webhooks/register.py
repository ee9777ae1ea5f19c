"""Registering a list's webhook on its audience, and removing it."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import suppress

from flask import current_app, request, url_for

from mcbridge.extensions import db
from mcbridge.mailchimp.audience import delete_webhook, register_webhook
from mcbridge.mailchimp.client import Client
from mcbridge.mailchimp.errors import MailchimpError
from mcbridge.models import MailingList


def webhook_url(mailing_list: MailingList, secret: str) -> str:
    """Where Mailchimp posts events: MCBRIDGE_PUBLIC_URL when set (behind a proxy),
    else the address this request came in on."""
    path = url_for("mcbridge_webhooks.receive", list_id=mailing_list.id, secret=secret)
    base = current_app.config.get("MCBRIDGE_PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path


def connect_webhook(client: Client, mailing_list: MailingList) -> None:
    """Register (again) the list's webhook; a failure is noted, not fatal: each export
    reads unsubscribes and bounces from the audience anyway.

    The secret's hash is committed here, although callers own commits elsewhere: Mailchimp
    checks the URL with a GET (answered by another request, in another session) before it
    answers the registration, and that GET must find the hash. The caller commits the
    webhook's id or error afterwards.
    """
    forget_webhook(client, mailing_list)
    secret = secrets.token_urlsafe(32)
    mailing_list.webhook_secret_hash = hashlib.sha256(secret.encode()).hexdigest()
    db.session.commit()
    try:
        mailing_list.webhook_id = register_webhook(
            client, mailing_list.mailchimp_list_id or "", webhook_url(mailing_list, secret)
        )
        mailing_list.webhook_error = None
    except MailchimpError as error:
        mailing_list.webhook_secret_hash = None
        mailing_list.webhook_error = error.detail or error.title or str(error.status)


def forget_webhook(client: Client | None, mailing_list: MailingList) -> None:
    if client is not None and mailing_list.webhook_id and mailing_list.mailchimp_list_id:
        # Gone already, or the key no longer works: either way nothing is left to undo.
        with suppress(MailchimpError):
            delete_webhook(client, mailing_list.mailchimp_list_id, mailing_list.webhook_id)
    mailing_list.webhook_id = None
    mailing_list.webhook_secret_hash = None
