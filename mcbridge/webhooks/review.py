"""Changes made in Mailchimp that wait for a leader's review: a new address, a profile edit.

While a change is open, exports leave the contact's old and new address entirely alone:
no field, no tag, no archive. The leader then decides which side wins:
- apply: Mailchimp's side. The people holding the old address take the new one, or the
  names the contact typed in Mailchimp; the next export has nothing to overwrite.
- dismiss: mcbridge's side. The next export writes mcbridge's values back. A dismissed
  address change whose contact is no longer subscribed keeps the old address out for good:
  adding it afresh would subscribe someone who left.
"""

from __future__ import annotations

from sqlalchemy import select

from mcbridge.auth import current_scope
from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.messages import N_, Message
from mcbridge.models import AdditionalEmail, AudienceMember, MailchimpEvent, Person, RefusedAddress
from mcbridge.sync.fields import field_map

MOVED = N_("Moved to %(email)s in Mailchimp and no longer subscribed there.")
# Person fields a contact can edit in Mailchimp and a leader can take over as they are.
EDITABLE_SOURCES = ("first_name", "last_name", "nickname", "company")


def held_addresses(mailing_list_id: int) -> set[str]:
    """Every address an open change concerns, old and new."""
    held: set[str] = set()
    for event in db.session.scalars(MailchimpEvent.open_changes(mailing_list_id)):
        held.add(event.email)
        if event.new_email:
            held.add(event.new_email)
    return held


def apply_change(event: MailchimpEvent) -> int:
    """Mailchimp's side wins; returns how many people (or addresses) changed."""
    if event.kind == "upemail":
        return apply_address_change(event)
    return apply_profile_change(event)


def dismiss_change(event: MailchimpEvent) -> None:
    """mcbridge's side wins from the next export on."""
    if event.kind == "upemail" and not still_subscribed(event):
        db.session.add(
            RefusedAddress(
                mailing_list_id=event.mailing_list_id,
                email=event.email,
                reason="moved",
                message=Message(MOVED, {"email": event.new_email}).render(),
                refused_at=now(),
            )
        )


def still_subscribed(event: MailchimpEvent) -> bool:
    status = db.session.scalar(
        select(AudienceMember.status).where(
            AudienceMember.mailing_list_id == event.mailing_list_id,
            AudienceMember.email == event.new_email,
        )
    )
    return status in (None, "subscribed")


def holders(email: str) -> tuple[list[Person], list[AdditionalEmail]]:
    """The people in the user's scope who hold the address, as primary or additional."""
    scope = current_scope()
    people = db.session.scalars(select(Person).where(Person.email == email, scope.people())).all()
    extras = db.session.scalars(
        select(AdditionalEmail)
        .join(Person, Person.id == AdditionalEmail.person_id)
        .where(AdditionalEmail.email == email, scope.people())
    ).all()
    return list(people), list(extras)


def apply_address_change(event: MailchimpEvent) -> int:
    people, extras = holders(event.email)
    for holder in [*people, *extras]:
        holder.email = event.new_email
    return len(people) + len(extras)


def apply_profile_change(event: MailchimpEvent) -> int:
    """The values the contact typed, for the fields this list sends from a person field
    that can hold them as they are (names, nickname, company)."""
    details = event.details or {}
    mapping = {
        item["source"]: details[f"merges][{item['tag']}"]
        for item in field_map(event.mailing_list)
        if item["source"] in EDITABLE_SOURCES and f"merges][{item['tag']}" in details
    }
    people, extras = holders(event.email)
    changed = {*people, *(extra.person for extra in extras)}
    for person in changed:
        for source, value in mapping.items():
            setattr(person, source, value or None)
    return len(changed)


def profile_values(event: MailchimpEvent) -> dict[str, str]:
    """The merge fields a profile change carries, by tag, for the review page."""
    details = event.details or {}
    return {
        key.removeprefix("merges]["): value
        for key, value in details.items()
        if key.startswith("merges][")
    }
