"""Accounts made outside the admin's pages: by the `create-admin`, `seed-demo` and
`bootstrap` commands."""

from __future__ import annotations

from sqlalchemy import select

from mcbridge.emails import normalize_email
from mcbridge.extensions import db
from mcbridge.models import User


def save_user(email: str, password: str, *, admin: bool, person_id: int | None = None) -> bool:
    """Create or update an account, active, with this password; True when it was created.
    The caller commits, with whatever else its command writes."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    created = user is None
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.set_password(password)
    user.is_admin = user.is_admin or admin
    user.active = True
    user.person_id = person_id or user.person_id
    return created
