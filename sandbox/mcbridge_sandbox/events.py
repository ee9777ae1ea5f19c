"""What changed in an audience, as the webhook layer needs to hear about it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from mcbridge_sandbox.models import Member


@dataclass(frozen=True)
class MemberEvent:
    """`details` holds the type-specific webhook fields (action, reason, old_email, ...)."""

    type: str
    member: Member
    details: dict[str, str] = field(default_factory=dict)


def snapshot(member: Member) -> Member:
    """Events are delivered after the write; later writes must not change what they say."""
    return copy.deepcopy(member)
