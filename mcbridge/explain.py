"""Why a person or an address is, or is not, sent a mailing list.

The person page, the "Why (not)?" page and the suppressed addresses of a list all answer
from here, so they never disagree. Each answer is a few set-based queries bounded by one
person (or one address) or one page of a list: a list of a million recipients costs what a
list of ten does. Whether someone is reached is read from the recipients query itself
(`Recipients.people`, `Recipients.addresses`), so a rule added to it later (a filter, a
tag) is reflected here without a change: someone matched by a rule yet absent from the
recipients is reported as kept out by the list's conditions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    case,
    exists,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import selectinload

from mcbridge.auth import current_scope
from mcbridge.extensions import db
from mcbridge.field_condition import field_condition
from mcbridge.models import (
    AdditionalEmail,
    AudienceMember,
    BringBackRequest,
    Group,
    MailchimpEvent,
    MailingList,
    Person,
    RefusedAddress,
    Role,
    Subscription,
    role_is_active,
    subscription_role_types,
)
from mcbridge.recipients import Recipients

SUPPRESSED_STATUSES = ("unsubscribed", "cleaned")
REFUSAL_CLEARED = "refusal_cleared"
HISTORY_KINDS = ("unsubscribe", "cleaned", REFUSAL_CLEARED)


def role_matches(person_id: int, today: date | None = None) -> Select:
    """(rule id, role id) for each role rule naming the group of one of the person's roles,
    or a group above it, with that role's type: the recipients query's reach, walked
    upwards from one person instead of downwards from every rule. With `today`, only the
    roles active then; without, ended and future roles too (they explain who is *not*
    reached)."""
    held = select(
        Role.id.label("role_id"),
        Role.role_type_id.label("role_type_id"),
        Role.group_id.label("group_id"),
    ).where(Role.person_id == person_id)
    if today is not None:
        held = held.where(role_is_active(today))
    tree = held.cte("held", recursive=True)
    above = (
        select(tree.c.role_id, tree.c.role_type_id, Group.parent_id)
        .join(Group, Group.id == tree.c.group_id)
        .where(Group.parent_id.is_not(None))
    )
    tree = tree.union(above)
    same_type = and_(
        subscription_role_types.c.subscription_id == Subscription.id,
        subscription_role_types.c.role_type_id == tree.c.role_type_id,
    )
    return (
        select(Subscription.id.label("rule_id"), tree.c.role_id)
        .join(tree, Subscription.group_id == tree.c.group_id)
        .join(subscription_role_types, same_type)
    )


@dataclass
class ListMembership:
    """One mailing list as it concerns a person: the rules that reach them (none when only
    an exclusion names them), whether they are excluded, and per address their status in
    the list's audience as mcbridge last read it."""

    mailing_list: MailingList
    rules: list[Subscription] = field(default_factory=list)
    excluded: bool = False
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def receives(self) -> bool:
        return bool(self.rules) and not self.excluded


def list_memberships(person: Person, today: date) -> list[ListMembership]:
    """The lists in the user's scope whose rules name the person, in two queries whatever
    the number of lists: the rules, then the audience statuses of the person's addresses."""
    named = union_all(
        role_matches(person.id, today).with_only_columns(Subscription.id),
        select(Subscription.id).where(Subscription.person_id == person.id),
    )
    rules = db.session.scalars(
        select(Subscription)
        .join(MailingList, MailingList.id == Subscription.mailing_list_id)
        .where(Subscription.id.in_(named), current_scope().mailing_lists())
        .order_by(MailingList.name, MailingList.id, Subscription.id)
        .options(selectinload(Subscription.role_types), selectinload(Subscription.group))
    ).all()
    memberships: dict[int, ListMembership] = {}
    for rule in rules:
        membership = memberships.setdefault(rule.mailing_list_id, ListMembership(rule.mailing_list))
        if rule.excluded:
            membership.excluded = True
        else:
            membership.rules.append(rule)
    read_statuses(person, memberships)
    return list(memberships.values())


def addresses_of(person: Person) -> list[str]:
    extra = (address.email for address in person.additional_emails)
    return [address for address in (person.email, *extra) if address]


def read_statuses(person: Person, memberships: dict[int, ListMembership]) -> None:
    members = db.session.execute(
        select(AudienceMember.mailing_list_id, AudienceMember.email, AudienceMember.status).where(
            AudienceMember.mailing_list_id.in_(list(memberships)),
            AudienceMember.email.in_(addresses_of(person)),
        )
    )
    for list_id, email, status in members:
        memberships[list_id].statuses[email] = status


def suppressed(mailing_list_id: int) -> Select:
    """Every address the list's exports will not send, with why and since when, sorted by
    address: refused by Mailchimp for good, unsubscribed, cleaned (bouncing), held back
    while a leader reviews a change, or archived by someone else (and not asked back).

    Columns: email, kind, detail (Mailchimp's refusal), at (a time mcbridge recorded),
    changed (a time Mailchimp gave, as text), refused_id (the row a leader may clear).
    One union of indexed reads: it pages and counts like any select.
    """
    no_time = null().cast(DateTime)
    no_text = null().cast(String)
    no_id = null().cast(Integer)
    refused = select(
        RefusedAddress.email.label("email"),
        literal("refused").label("kind"),
        RefusedAddress.message.label("detail"),
        RefusedAddress.refused_at.label("at"),
        no_text.label("changed"),
        RefusedAddress.id.label("refused_id"),
    ).where(RefusedAddress.mailing_list_id == mailing_list_id)
    kind = case(
        (AudienceMember.status == "archived", literal("archived_elsewhere")),
        else_=AudienceMember.status,
    )
    left = select(
        AudienceMember.email, kind, no_text, no_time, AudienceMember.last_changed, no_id
    ).where(
        AudienceMember.mailing_list_id == mailing_list_id,
        or_(
            AudienceMember.status.in_(SUPPRESSED_STATUSES),
            archived_elsewhere(mailing_list_id),
        ),
    )
    held = select(
        MailchimpEvent.email,
        literal("held"),
        no_text,
        MailchimpEvent.received_at,
        MailchimpEvent.fired_at,
        no_id,
    ).where(MailchimpEvent.mailing_list_id == mailing_list_id, MailchimpEvent.review == "open")
    rows = union_all(refused, left, held).subquery("suppressed")
    return select(rows).order_by(rows.c.email, rows.c.kind)


def archived_elsewhere(mailing_list_id: int) -> ColumnElement[bool]:
    """An audience member archived by someone else: exports leave it alone, unless a
    leader asked that it be brought back."""
    asked_back = exists().where(
        BringBackRequest.mailing_list_id == mailing_list_id,
        BringBackRequest.email == AudienceMember.email,
        BringBackRequest.done_at.is_(None),
    )
    return and_(
        AudienceMember.status == "archived",
        AudienceMember.archived_by_mcbridge_at.is_(None),
        ~asked_back,
    )


@dataclass
class AddressFate:
    """One of a person's addresses as the list sees it: whether the list may use it, who
    it is sent to (its lowest holder, when shared), and what keeps it from being sent."""

    email: str
    primary: bool
    usable: bool
    sent_to: int | None = None
    suppressions: list[Any] = field(default_factory=list)
    events: list[MailchimpEvent] = field(default_factory=list)
    status: str | None = None


@dataclass
class RoleReason:
    """A role of the person that a role rule of the list names: it brings them in while
    active; ended (or not yet begun) it explains why it no longer (or not yet) does."""

    rule: Subscription
    role: Role
    active: bool


@dataclass
class Explanation:
    """Why one person is, or is not, sent one list."""

    mailing_list: MailingList
    person: Person
    roles: list[RoleReason]
    named: bool
    excluded: bool
    reached: bool
    addresses: list[AddressFate]
    fails_field_condition: bool

    @property
    def matched(self) -> bool:
        """A rule names them (a role rule through an active role, or by name)."""
        return self.named or any(reason.active for reason in self.roles)

    @property
    def kept_out_by_conditions(self) -> bool:
        """Matched and not excluded, yet not a recipient: the list's further conditions
        (filters, tags) leave them out."""
        return self.matched and not self.excluded and not self.reached

    @property
    def kept_out_by_field_condition(self) -> bool:
        """Kept out by the conditions, the list's condition on a person field among them."""
        return self.kept_out_by_conditions and self.fails_field_condition

    @property
    def sent(self) -> list[AddressFate]:
        """The addresses the list's exports send to this person."""
        mine = self.person.id
        return [fate for fate in self.addresses if fate.sent_to == mine and not fate.suppressions]

    @property
    def no_address(self) -> bool:
        return not self.addresses


def explain(mailing_list: MailingList, person: Person, today: date) -> Explanation:
    """Why `person` is or is not sent `mailing_list` today, in a handful of queries."""
    recipients = Recipients(mailing_list, today)
    reached = db.session.scalar(select(exists().where(recipients.people.c.person_id == person.id)))
    return Explanation(
        mailing_list=mailing_list,
        person=person,
        roles=role_reasons(mailing_list.id, person.id, today),
        named=named_rule(mailing_list.id, person.id, excluded=False),
        excluded=named_rule(mailing_list.id, person.id, excluded=True),
        reached=bool(reached),
        addresses=address_fates(mailing_list, person, recipients),
        fails_field_condition=fails_field_condition(mailing_list, person.id),
    )


def fails_field_condition(mailing_list: MailingList, person_id: int) -> bool:
    """Whether the list's condition on a person field leaves the person out, asked of the
    database with the recipients' own condition, so the two never disagree."""
    condition = field_condition(mailing_list)
    if condition is None:
        return False
    passes = db.session.scalar(select(exists().where(Person.id == person_id, condition)))
    return not passes


def named_rule(mailing_list_id: int, person_id: int, *, excluded: bool) -> bool:
    statement = select(
        exists().where(
            Subscription.mailing_list_id == mailing_list_id,
            Subscription.person_id == person_id,
            Subscription.excluded.is_(excluded),
        )
    )
    return bool(db.session.scalar(statement))


def role_reasons(mailing_list_id: int, person_id: int, today: date) -> list[RoleReason]:
    """Each of the person's roles (past, present or future) that a role rule of the list
    names, active ones first."""
    matches = role_matches(person_id).subquery()
    pairs = db.session.execute(
        select(Subscription, Role)
        .join(matches, matches.c.rule_id == Subscription.id)
        .join(Role, Role.id == matches.c.role_id)
        .where(Subscription.mailing_list_id == mailing_list_id)
        .order_by(Role.start_on, Role.id, Subscription.id)
        .options(selectinload(Subscription.role_types), selectinload(Role.group))
    ).all()
    reasons = [RoleReason(rule, role, role.is_active(today)) for rule, role in pairs]
    return sorted(reasons, key=lambda reason: not reason.active)


def address_fates(
    mailing_list: MailingList, person: Person, recipients: Recipients
) -> list[AddressFate]:
    """The person's addresses, each with who the list sends it to and what suppresses it."""
    delivery = delivery_addresses(person.id, recipients)
    fates = [AddressFate(person.email, True, True)] if person.email else []
    fates += [
        AddressFate(extra.email, False, extra.email in delivery)
        for extra in person.additional_emails
    ]
    by_email = {fate.email: fate for fate in fates}
    if not by_email:
        return fates
    sent = recipients.addresses().subquery()
    for email, person_id in db.session.execute(
        select(sent.c.email, sent.c.person_id).where(sent.c.email.in_(list(by_email)))
    ):
        by_email[email].sent_to = person_id
    for row in db.session.execute(suppressions_of(mailing_list.id, list(by_email))):
        by_email[row.email].suppressions.append(row)
    for email, status in db.session.execute(
        select(AudienceMember.email, AudienceMember.status).where(
            AudienceMember.mailing_list_id == mailing_list.id,
            AudienceMember.email.in_(list(by_email)),
        )
    ):
        by_email[email].status = status
    for event in db.session.scalars(history(mailing_list.id, list(by_email))):
        by_email[event.email].events.append(event)
    return fates


def delivery_addresses(person_id: int, recipients: Recipients) -> set[str]:
    """The person's additional addresses the list sends to, as the recipients query
    decides (marked for mailings, with one of the list's labels when it chose some)."""
    if not recipients.all_delivery_addresses:
        return set()
    statement = select(AdditionalEmail.email).where(
        AdditionalEmail.person_id == person_id, recipients.is_delivery_address()
    )
    return set(db.session.scalars(statement))


def suppressions_of(mailing_list_id: int, emails: list[str]) -> Select:
    rows = suppressed(mailing_list_id).subquery()
    return select(rows).where(rows.c.email.in_(emails)).order_by(rows.c.email, rows.c.kind)


def history(mailing_list_id: int, emails: list[str]) -> Select:
    """What is known of these addresses leaving the audience, newest first: Mailchimp's
    unsubscribe and cleaned webhooks (when, by whom: `source` user, admin or api; why:
    `reason`), and refusals a leader cleared."""
    return (
        select(MailchimpEvent)
        .where(
            MailchimpEvent.mailing_list_id == mailing_list_id,
            MailchimpEvent.email.in_(emails),
            MailchimpEvent.kind.in_(HISTORY_KINDS),
        )
        .order_by(MailchimpEvent.received_at.desc(), MailchimpEvent.id.desc())
    )


def holders(email: str) -> Select:
    """The people in the user's scope holding an address, as primary or additional."""
    extra = select(AdditionalEmail.person_id).where(AdditionalEmail.email == email)
    return (
        select(Person)
        .where((Person.email == email) | Person.id.in_(extra), current_scope().people())
        .order_by(Person.id)
    )


def when_of(row: Any) -> datetime | str | None:
    """A suppression's time: the one mcbridge recorded, else the one Mailchimp gave."""
    return row.at if row.at is not None else row.changed
