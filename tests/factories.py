"""Small builders for test data: plain functions over the real models and session."""

from __future__ import annotations

from datetime import date
from itertools import count

from sqlalchemy import select

from mcbridge.connections import add_connection, store_audiences
from mcbridge.extensions import db
from mcbridge.mailchimp.audience import AudienceInfo
from mcbridge.models import (
    AdditionalEmail,
    ConnectionAudience,
    Group,
    MailchimpConnection,
    MailingList,
    Person,
    Role,
    RoleType,
    Subscription,
    User,
)

_sequence = count(1)
PASSWORD = "correct horse battery"


def group(name: str, parent: Group | None = None) -> Group:
    created = Group(name=name, parent=parent)
    db.session.add(created)
    db.session.flush()
    return created


def role_type(name: str, manages: bool = False) -> RoleType:
    created = RoleType(name=name, manages=manages)
    db.session.add(created)
    db.session.flush()
    return created


def person(
    first_name: str = "Anna",
    last_name: str | None = None,
    email: str | None = "",
    extra: tuple[tuple[str, bool], ...] = (),
) -> Person:
    """A person; `email=""` gives a unique address, `email=None` none at all."""
    number = next(_sequence)
    last_name = last_name or f"Person{number}"
    if email == "":
        email = f"{first_name.lower()}.{number}@club-mail.ch"
    created = Person(first_name=first_name, last_name=last_name, email=email)
    for address, mailings in extra:
        created.additional_emails.append(AdditionalEmail(email=address, mailings=mailings))
    db.session.add(created)
    db.session.flush()
    return created


def role(
    holder: Person,
    where: Group,
    kind: RoleType,
    start_on: date | None = None,
    end_on: date | None = None,
) -> Role:
    created = Role(person=holder, group=where, role_type=kind, start_on=start_on, end_on=end_on)
    db.session.add(created)
    db.session.flush()
    return created


def mailing_list(owner: Group, name: str = "Newsletter", all_delivery: bool = False) -> MailingList:
    created = MailingList(group=owner, name=name, sync_all_delivery_addresses=all_delivery)
    db.session.add(created)
    db.session.flush()
    return created


def role_rule(target: MailingList, where: Group, *kinds: RoleType) -> Subscription:
    rule = Subscription(mailing_list=target, group=where, role_types=list(kinds))
    db.session.add(rule)
    db.session.flush()
    return rule


def person_rule(target: MailingList, who: Person, excluded: bool = False) -> Subscription:
    rule = Subscription(mailing_list=target, person=who, excluded=excluded)
    db.session.add(rule)
    db.session.flush()
    return rule


def user(email: str, admin: bool = False, holder: Person | None = None) -> User:
    created = User(email=email, is_admin=admin, person=holder)
    created.set_password(PASSWORD)
    db.session.add(created)
    db.session.commit()
    return created


def connection(
    api_key: str, groups: list[Group], audiences: tuple[str, ...] = ()
) -> MailchimpConnection:
    """A connection an administrator added, given with its audiences to `groups`."""
    found = [AudienceInfo(audience_id, f"Audience {audience_id}", 0) for audience_id in audiences]
    created = add_connection(f"Connection {next(_sequence)}", api_key, groups, found)
    db.session.commit()
    return created


def audience_of(api_key: str, audience_id: str, group_: Group) -> ConnectionAudience:
    """The audience as a list of `group_` may use it: its connection found by key (one per
    key, as an administrator would keep it) or added, the audience given to the group."""
    existing = db.session.scalars(select(MailchimpConnection)).all()
    found = next((c for c in existing if c.api_key == api_key), None)
    if found is None:
        found = connection(api_key, [group_])
    if group_ not in found.groups:
        found.groups.append(group_)
    store_audiences(found, [AudienceInfo(audience_id, f"Audience {audience_id}", 0)])
    audience = next(a for a in found.audiences if a.audience_id == audience_id)
    if group_ not in audience.groups:
        audience.groups.append(group_)
    db.session.commit()
    return audience
