"""Accounts that sign in to the admin."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from mcbridge.emails import normalize_email
from mcbridge.models.base import Base, ref, table_name
from mcbridge.models.people import Person


def password_hash_method() -> str:
    """Werkzeug's hashing method; scrypt unless configured (tests use a cheaper one)."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    """A sign-in. Admins see everything; others see what their person leads (see auth.py)."""

    __tablename__ = table_name("users")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey(ref("people"), ondelete="SET NULL"), unique=True
    )
    last_login_at: Mapped[datetime | None]
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    person: Mapped[Person | None] = relationship()

    @validates("email")
    def _normalize(self, _key: str, value: str) -> str | None:
        return normalize_email(value)

    def set_password(self, password: str) -> None:
        """A new password also signs the account out everywhere (see `get_id`)."""
        self.password_hash = generate_password_hash(password, password_hash_method())
        self.rotate_session_token()

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie. With the session
        token in it, rotating the token makes every cookie issued before worthless, on the
        server's word: signing out or changing the password revokes them, even copied ones."""
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def __str__(self) -> str:
        return self.email
