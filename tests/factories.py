"""Small builders for test data: plain functions over the real models and session."""

from __future__ import annotations

from datetime import date
from itertools import count

from mcbridge.extensions import db
from mcbridge.models import (
    AdditionalEmail,
    Group,
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
