"""What people and Mailchimp itself do to an audience, outside any API call: an
unsubscribe link, a bounce, an email change, a profile edit, a sign-up form. Each changes
the store as Mailchimp would and fires webhooks with the matching source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcbridge.sandbox import problems
from mcbridge.sandbox.keys import subscriber_hash
from mcbridge.sandbox.member_writes import MemberInput, member_writes
from mcbridge.sandbox.models import Audience, Member
from mcbridge.sandbox.runtime import SandboxRuntime

SIGNUP_IP = "203.0.113.7"
BOUNCE_REASONS = ("hard", "abuse")


def unsubscribe(
    runtime: SandboxRuntime, audience: Audience, email: str, reason: str = ""
) -> Member:
    """The person clicked "unsubscribe" in an email."""
    with member_writes(runtime, audience, source="user") as writer:
        member = writer.existing(subscriber_hash(email))
        writer.set_status(member, "unsubscribed", action="unsub", reason="manual")
        if reason:
            member.unsubscribe_reason = reason
            writer.store.members.save(member)
    return member


def bounce(runtime: SandboxRuntime, audience: Audience, email: str, reason: str) -> Member:
    """A hard bounce or an abuse report: Mailchimp cleans the address."""
    if reason not in BOUNCE_REASONS:
        raise problems.invalid_field("reason", "Must be hard or abuse.")
    with member_writes(runtime, audience, source="admin") as writer:
        member = writer.existing(subscriber_hash(email))
        writer.set_status(member, "cleaned", reason=reason)
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
    """A sign-up form: the person's own consent, which also lifts a permanent deletion."""
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
        writer.set_status(member, "subscribed")
        writer.update(member, MemberInput(merge_fields=dict(merge_fields)), None)
    return member
