"""API keys, data centres and the identifiers Mailchimp hands out.

Keys are secrets: everything that shows or records one goes through `mask_key`.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets

KEY_PATTERN = re.compile(r"^(?P<body>[0-9a-f]{32})-(?P<dc>[a-z]{2,4}[0-9]{1,3})$")
DC_PATTERN = re.compile(r"^[a-z]{2,4}[0-9]{1,3}$")


def new_api_key(dc: str) -> str:
    if not DC_PATTERN.match(dc):
        raise ValueError(f"{dc!r} is not a data centre name such as us1")
    return f"{secrets.token_hex(16)}-{dc}"


def is_api_key(text: str) -> bool:
    return bool(KEY_PATTERN.match(text))


def data_centre(api_key: str) -> str:
    return api_key.rsplit("-", 1)[-1]


def mask_key(api_key: str) -> str:
    """Enough to tell keys apart on a page or in a log, never enough to use one."""
    match = KEY_PATTERN.match(api_key)
    if match is None:
        return "…"
    return f"…{match['body'][-4:]}-{match['dc']}"


def subscriber_hash(email: str) -> str:
    """Mailchimp identifies a member by the MD5 of the lowercased address."""
    return hashlib.md5(email.lower().encode("utf-8"), usedforsecurity=False).hexdigest()


def new_id(length: int = 10) -> str:
    """Audience, batch, webhook and unique-email ids are short lowercase hex strings.

    They are names, not secrets, and members get one each, so no system-random call.
    """
    return f"{random.getrandbits(length * 4):0{length}x}"


def new_web_id() -> int:
    return random.randrange(100_000_000, 1_000_000_000)
