"""Secrets encrypted at rest: Mailchimp API keys are stored as Fernet tokens.

The keys come from MCBRIDGE_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first:
the first encrypts, all decrypt, which is what makes rotation possible). Without it, a key
is generated once into the instance folder, as the secret key is, so a demo works.
`flask mcbridge rotate-encryption-key` re-encrypts every secret with the newest key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

KEYS_FILE = "encryption_keys"


class UndecryptableError(RuntimeError):
    """A stored secret was encrypted with a key that is no longer configured."""


def write_private(path: Path, text: str, *, replace: bool = False) -> None:
    """Write a secret readable by its owner alone (0600) from its first byte: a file written,
    then narrowed, is readable by anyone in between. Without `replace` an existing file is
    kept, as when another process starting at the same moment created it first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    os.fchmod(descriptor, 0o600)  # a replaced file keeps its old mode otherwise
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def instance_keys_file() -> Path:
    return Path(current_app.instance_path) / KEYS_FILE


def configured_keys() -> list[str]:
    """The Fernet keys, newest first: from the configuration, else the instance file."""
    setting = current_app.config.get("MCBRIDGE_ENCRYPTION_KEYS") or ""
    keys = [key.strip() for key in setting.replace("\n", ",").split(",") if key.strip()]
    if keys:
        return keys
    path = instance_keys_file()
    write_private(path, Fernet.generate_key().decode() + "\n")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def cipher() -> MultiFernet:
    """The app's cipher, built once per app (and again after a rotation)."""
    keys = tuple(configured_keys())
    cached = current_app.extensions.get("mcbridge_cipher")
    if cached is None or cached[0] != keys:
        cached = (keys, MultiFernet([Fernet(key) for key in keys]))
        current_app.extensions["mcbridge_cipher"] = cached
    return cached[1]


def encrypt(plain: str) -> str:
    return cipher().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UndecryptableError(
            "A stored secret cannot be decrypted with the configured MCBRIDGE_ENCRYPTION_KEYS; "
            "keep the old key in the list until the secrets are re-encrypted."
        ) from None


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; Python code only ever sees the plain value."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, _dialect: Any) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, _dialect: Any) -> str | None:
        return None if value is None else decrypt(value)


def add_instance_key() -> None:
    """Put a new newest key into the instance file (when keys are not configured)."""
    path = instance_keys_file()
    keys = configured_keys()
    write_private(path, "\n".join([Fernet.generate_key().decode(), *keys]) + "\n", replace=True)
