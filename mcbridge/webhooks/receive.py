"""Receiving Mailchimp's deliveries: unsubscribes, bounces, profile and address changes.

Mailchimp signs nothing, so each list's webhook URL carries an unguessable secret, stored
here only as a hash and compared in constant time. A wrong secret or a malformed delivery
gets a 4xx and changes nothing; so does a body that is not valid UTF-8 or an address
that is not one. The same event delivered twice is recorded once. A well-formed delivery
that no longer concerns a list (deleted, unlinked, moved to another audience), or an
address mcbridge does not manage in that audience, is answered 200 and ignored: Mailchimp
disables a webhook that keeps failing, and whoever can post to the audience must not flag,
unsubscribe or re-address anyone else in the organisation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, request
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from mcbridge.clock import now
from mcbridge.emails import email_problem
from mcbridge.extensions import db
from mcbridge.models import AudienceMember, MailchimpEvent, MailingList
from mcbridge.sql import LARGEST_ID, upsert
from mcbridge.sync.bounces import flag

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


def form_of(body: bytes) -> MultiDict[str, str]:
    """The delivery's fields, decoded strictly: invalid UTF-8 is refused, not replaced."""
    try:
        text = body.decode("ascii")
        return MultiDict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedError("the body is not form-encoded UTF-8") from error


def checked_address(form: Any, key: str) -> str:
    """An address from the delivery, validated as a form's would be."""
    address = form.get(key, "").strip().lower()
    if not address:
        raise MalformedError(f"the delivery names no {key}")
    problem = email_problem(address)
    if problem:
        raise MalformedError(f"{key} is not an email address: {problem}")
    return address


def manages(event: MailchimpEvent) -> bool:
    """The event's address is a contact mcbridge put in this list's audience."""
    statement = select(
        exists().where(
            AudienceMember.mailing_list_id == event.mailing_list_id,
            AudienceMember.email == event.email,
            AudienceMember.managed.is_(True),
        )
    )
    return bool(db.session.scalar(statement))


def parse(form: Any, list_id: int) -> MailchimpEvent:
    kind = form.get("type", "")
    if kind not in KINDS:
        raise MalformedError(f"unknown type {kind!r}")
    fired_at = form.get("fired_at", "")
    if not FIRED_AT.match(fired_at):
        raise MalformedError("fired_at must look like 2026-01-01 10:00:00")
    if not form.get("data[list_id]"):
        raise MalformedError("the delivery names no data[list_id]")
    email = checked_address(form, "data[old_email]" if kind == "upemail" else "data[email]")
    new_email = checked_address(form, "data[new_email]") if kind == "upemail" else None
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


@blueprint.route(f"/<int(max={LARGEST_ID}):list_id>/<secret>", methods=("GET", "POST"))
def receive(list_id: int, secret: str) -> Response:
    mailing_list = listening_list(list_id, secret)
    if request.method == "GET":
        return Response("ok", mimetype="text/plain")
    try:
        form = form_of(request.get_data())
        event = parse(form, list_id)
    except MalformedError as problem:
        return Response(f"malformed delivery: {problem}", status=400, mimetype="text/plain")
    if not concerns(mailing_list, form):
        return Response("ignored: no longer concerns a linked list", mimetype="text/plain")
    if not manages(event):
        return Response("ignored: not a contact mcbridge manages", mimetype="text/plain")
    db.session.add(event)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return Response("already recorded", mimetype="text/plain")
    apply_event(event)
    db.session.commit()
    return Response("recorded", mimetype="text/plain")
