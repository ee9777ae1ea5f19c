"""API keys and member ids as Mailchimp defines them."""

from __future__ import annotations

import hashlib
import re

KEY_PATTERN = re.compile(r"^[0-9a-f]{32}-[a-z]{2,4}[0-9]{1,3}$")


def is_well_formed(api_key: str) -> bool:
    """32 lowercase hex characters, a dash, a data centre such as us6."""
    return bool(KEY_PATTERN.match(api_key.strip()))


def datacenter(api_key: str) -> str:
    return api_key.rsplit("-", 1)[-1]


def masked(api_key: str | None) -> str:
    """What may be shown of a key: the last four characters of its secret part (and its
    data centre, which is no secret)."""
    if not api_key:
        return ""
    secret, _, centre = api_key.rpartition("-")
    return f"…{secret[-4:]}-{centre}" if secret else f"…{api_key[-4:]}"


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the lowercased address (mixed case gives another id)."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()
