"""Receiving Mailchimp's deliveries: unsubscribes, bounces, profile and address changes.

Mailchimp signs nothing, so each list's webhook URL carries an unguessable secret, stored
here only as a hash and compared in constant time. A wrong secret or a malformed delivery
gets a 4xx and changes nothing; the same event delivered twice is recorded once. A
well-formed delivery that no longer concerns a list (deleted, unlinked, moved to another
audience) is answered 200 and ignored: Mailchimp disables a webhook that keeps failing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import IntegrityError

from mcbridge.extensions import csrf, db
from mcbridge.models import AudienceMember, MailchimpEvent, MailingList
from mcbridge.sql import upsert
from mcbridge.sync.bounces import flag
from mcbridge.sync.result import now

blueprint = Blueprint("mcbridge_webhooks", __name__, url_prefix="/mailchimp/webhook")

KINDS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
REVIEWED_KINDS = ("upemail", "profile")
FIRED_AT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class MalformedError(ValueError):
    """The delivery is not one Mailchimp would send; the message says what is wrong."""


def secret_matches(mailing_list: MailingList, secret: str) -> bool:
    expected = mailing_list.webhook_secret_hash or ""
    given = hashlib.sha256(secret.encode()).hexdigest()
    return bool(expected) and hmac.compare_digest(expected, given)


def listening_list(list_id: int, secret: str) -> MailingList | None:
    """The list the URL names; None if it is gone. A wrong secret is a 404."""
    mailing_list = db.session.get(MailingList, list_id)
    if mailing_list is not None and not secret_matches(mailing_list, secret):
        abort(404)
    return mailing_list


def concerns(mailing_list: MailingList | None, form: Any) -> bool:
    return (
        mailing_list is not None
        and mailing_list.is_linked
        and form.get("data[list_id]") == mailing_list.mailchimp_list_id
    )


def parse(form: Any, list_id: int) -> MailchimpEvent:
    kind = form.get("type", "")
    if kind not in KINDS:
        raise MalformedError(f"unknown type {kind!r}")
    fired_at = form.get("fired_at", "")
    if not FIRED_AT.match(fired_at):
        raise MalformedError("fired_at must look like 2026-01-01 10:00:00")
    if not form.get("data[list_id]"):
        raise MalformedError("the delivery names no data[list_id]")
    email = form.get("data[old_email]" if kind == "upemail" else "data[email]", "").strip().lower()
    if "@" not in email:
        raise MalformedError("the delivery names no email address")
    new_email = form.get("data[new_email]", "").strip().lower() or None
    if kind == "upemail" and (new_email is None or "@" not in new_email):
        raise MalformedError("upemail needs data[new_email]")
    details = {key[5:-1]: value for key, value in form.items() if key.startswith("data[")}
    return MailchimpEvent(
        mailing_list_id=list_id,
        kind=kind,
        email=email,
        new_email=new_email,
        fired_at=fired_at,
        source=form.get("data[source]", "")[:10] or "mailchimp",
        details=details,
        received_at=now(),
        review="open" if kind in REVIEWED_KINDS else None,
    )


def status_after(event: MailchimpEvent) -> str | None:
    """The contact's status in Mailchimp after the event. An `unsubscribe` with
    `action=delete` is an admin archiving (or deleting) the contact, not the person
    leaving; a `cleaned` with `reason=abuse` is a spam complaint: never send again, as
    after an unsubscribe (it says nothing about the address being wrong)."""
    details = event.details or {}
    if event.kind == "unsubscribe":
        return "archived" if details.get("action") == "delete" else "unsubscribed"
    if event.kind == "cleaned":
        return "unsubscribed" if details.get("reason") == "abuse" else "cleaned"
    return "subscribed" if event.kind == "subscribe" else None


def apply_event(event: MailchimpEvent) -> None:
    """What the event changes in mcbridge: the status in the audience copy (the subscriber
    view shows it, the next export respects it) and the bounce flag on people. A contact
    archived by someone else loses the mark of having been archived by mcbridge."""
    status = status_after(event)
    if status is not None:
        row = {
            "mailing_list_id": event.mailing_list_id,
            "email": event.email,
            "status": status,
            "fields": "",
            "managed": False,
            "archived_by_mcbridge_at": None,
        }
        columns = ("status", "archived_by_mcbridge_at")
        db.session.execute(upsert(AudienceMember, ["mailing_list_id", "email"], columns), [row])
    if status == "cleaned":
        flag([event.email])


@blueprint.route("/<int:list_id>/<secret>", methods=("GET", "POST"))
@csrf.exempt
def receive(list_id: int, secret: str) -> Response:
    mailing_list = listening_list(list_id, secret)
    if request.method == "GET":
        return Response("ok", mimetype="text/plain")
    try:
        event = parse(request.form, list_id)
    except MalformedError as problem:
        return Response(f"malformed delivery: {problem}", status=400, mimetype="text/plain")
    if not concerns(mailing_list, request.form):
        return Response("ignored: no longer concerns a linked list", mimetype="text/plain")
    db.session.add(event)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return Response("already recorded", mimetype="text/plain")
    apply_event(event)
    db.session.commit()
    return Response("recorded", mimetype="text/plain")
