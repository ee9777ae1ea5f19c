"""Addresses Mailchimp cleaned (hard bounces) are flagged on the people who hold them, so
leaders see which address to fix; a new address clears the flag (see models.people)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select, update

from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.models import AdditionalEmail, AudienceMember, Person


def cleaned_in(mailing_list_id: int) -> Select:
    return select(AudienceMember.email).where(
        AudienceMember.mailing_list_id == mailing_list_id, AudienceMember.status == "cleaned"
    )


def flag_bounces(mailing_list_id: int) -> None:
    """Flag every address the list's audience reports as cleaned (one statement per table)."""
    flag(cleaned_in(mailing_list_id))


def flag(emails: Select | Iterable[str]) -> None:
    """Flag these addresses wherever people hold them; the caller (the export, or the
    webhook that told of the bounce) commits."""
    moment = now()
    db.session.execute(
        update(Person)
        .where(Person.email.in_(emails), Person.email_bounced_at.is_(None))
        .values(email_bounced_at=moment)
    )
    db.session.execute(
        update(AdditionalEmail)
        .where(AdditionalEmail.email.in_(emails), AdditionalEmail.bounced_at.is_(None))
        .values(bounced_at=moment)
    )
