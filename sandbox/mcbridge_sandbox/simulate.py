"""What people and Mailchimp itself do to an audience, outside any API call: an
unsubscribe link, an admin's unsubscribe or archive in Mailchimp's pages, a bounce, an
email change, a profile edit, a sign-up form. Each changes the store as Mailchimp would and
fires webhooks with the matching source.

A person's own unsubscribe and a bounce leave the contact in a compliance state; an
admin's unsubscribe does not, so a later write may re-subscribe that contact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.api import params
from mcbridge_sandbox.keys import subscriber_hash
from mcbridge_sandbox.member_writes import MemberInput, member_writes
from mcbridge_sandbox.models import Audience, Member

if TYPE_CHECKING:
    from mcbridge_sandbox.runtime import SandboxRuntime

SIGNUP_IP = "203.0.113.7"
BOUNCE_REASONS = ("hard", "abuse")


def unsubscribe(
    runtime: SandboxRuntime, audience: Audience, email: str, reason: str = "", abuse: bool = False
) -> Member:
    """The person clicked "unsubscribe" in an email, or (`abuse`) reported it as spam."""
    with member_writes(runtime, audience, source="user") as writer:
        member = writer.existing(subscriber_hash(email))
        writer.set_status(
            member, "unsubscribed", compliance=True, reason="abuse" if abuse else "manual"
        )
        if reason:
            member.unsubscribe_reason = reason
            writer.store.members.save(member)
    return member


def admin_unsubscribe(runtime: SandboxRuntime, audience: Audience, email: str) -> Member:
    """An admin unsubscribed the contact in Mailchimp's pages: no compliance state."""
    with member_writes(runtime, audience, source="admin") as writer:
        member = writer.existing(subscriber_hash(email))
        writer.set_status(member, "unsubscribed")
    return member


def admin_archive(runtime: SandboxRuntime, audience: Audience, email: str) -> Member:
    """An admin archived the contact in Mailchimp's pages (archived contacts are not
    billed): webhook `unsubscribe` with action `delete`, source admin."""
    with member_writes(runtime, audience, source="admin") as writer:
        member = writer.existing(subscriber_hash(email))
        writer.archive_member(member)
    return member


def bounce(runtime: SandboxRuntime, audience: Audience, email: str, reason: str) -> Member:
    """A hard bounce or an abuse report: Mailchimp cleans the address."""
    if reason not in BOUNCE_REASONS:
        raise problems.invalid_field("reason", "Must be hard or abuse.")
    with member_writes(runtime, audience, source="admin") as writer:
        member = writer.existing(subscriber_hash(email))
        writer.set_status(member, "cleaned", compliance=True, reason=reason)
    return member


def change_email(
    runtime: SandboxRuntime, audience: Audience, old_email: str, new_email: str
) -> Member:
    with member_writes(runtime, audience, source="user") as writer:
        member = writer.existing(subscriber_hash(old_email))
        writer.change_email(member, new_email)
    return member


def update_profile(
    runtime: SandboxRuntime, audience: Audience, email: str, merge_fields: Mapping[str, Any]
) -> Member:
    with member_writes(runtime, audience, source="user") as writer:
        member = writer.existing(subscriber_hash(email))
        return writer.update(member, MemberInput(merge_fields=dict(merge_fields)), None)


def sign_up(
    runtime: SandboxRuntime, audience: Audience, email: str, merge_fields: Mapping[str, Any]
) -> Member:
    """A sign-up form: the person's own consent, which also lifts a permanent deletion and
    any compliance state, and is no re-subscription for the consent ledger."""
    member_hash = subscriber_hash(email)
    with member_writes(runtime, audience, source="user") as writer:
        writer.lift_forgotten(member_hash)
        member = writer.find(member_hash)
        if member is None:
            given = MemberInput(
                email=email,
                merge_fields=dict(merge_fields),
                ip_signup=SIGNUP_IP,
                timestamp_signup=writer.now,
            )
            return writer.add_new(email, "subscribed", given)
        writer.set_status(member, "subscribed", own_consent=True)
        writer.update(member, MemberInput(merge_fields=dict(merge_fields)), None)
    return member


Simulation = Callable[["SandboxRuntime", Audience, Mapping[str, Any]], Member]

SIMULATIONS: dict[str, Simulation] = {
    "unsubscribe": lambda rt, aud, body: unsubscribe(
        rt,
        aud,
        _email(body),
        params.optional(body, "reason", str) or "",
        abuse=params.optional(body, "abuse", bool) is True,
    ),
    "admin-unsubscribe": lambda rt, aud, body: admin_unsubscribe(rt, aud, _email(body)),
    "admin-archive": lambda rt, aud, body: admin_archive(rt, aud, _email(body)),
    "bounce": lambda rt, aud, body: bounce(
        rt, aud, _email(body), params.optional(body, "reason", str) or "hard"
    ),
    "email-change": lambda rt, aud, body: change_email(
        rt,
        aud,
        params.required(body, "old_email", str),
        params.required(body, "new_email", str),
    ),
    "profile-update": lambda rt, aud, body: update_profile(
        rt, aud, _email(body), params.required(body, "merge_fields", dict)
    ),
    "signup": lambda rt, aud, body: sign_up(
        rt, aud, _email(body), params.optional(body, "merge_fields", dict) or {}
    ),
}


def simulation(action: str) -> Simulation:
    found = SIMULATIONS.get(action)
    if found is None:
        raise problems.not_found()
    return found


def _email(body: Mapping[str, Any]) -> str:
    return params.required(body, "email", str)
