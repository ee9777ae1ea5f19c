"""Who receives a mailing list: its rules turned into addresses, in a few set-based queries.

Everything here is SQLAlchemy Core over whole sets (recursive CTE for the group tree,
window function for shared addresses), so a list of a million people resolves inside the
database, identically on SQLite and PostgreSQL, and callers can page (subscriber view),
stream (CSV, sync) or count the same statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from mcbridge.models import (
    AdditionalEmail,
    Group,
    MailingList,
    Person,
    Role,
    RoleType,
    Subscription,
    role_is_active,
    subscription_role_types,
    subtree_ids,
)
from mcbridge.sql import in_binary_order

NAME_SEPARATOR = "\x1f"
PERSON_COLUMNS = (
    Person.first_name,
    Person.last_name,
    Person.nickname,
    Person.gender,
    Person.birthday,
    Person.company,
)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address to send to, with the person it belongs to and the rule that reached them."""

    person_id: int
    email: str
    primary: bool
    via_subscription_id: int
    first_name: str | None
    last_name: str | None
    nickname: str | None
    gender: str | None
    birthday: date | None
    company: str | None
    role_names: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Counts:
    people: int
    addresses: int
    skipped: int


class Recipients:
    """The recipients of one mailing list on one day, as composable statements."""

    def __init__(
        self, mailing_list: MailingList, today: date | None = None, *, with_roles: bool = False
    ) -> None:
        self.mailing_list_id = mailing_list.id
        self.group_id = mailing_list.group_id
        self.all_delivery_addresses = mailing_list.sync_all_delivery_addresses
        self.today = today or date.today()
        self.with_roles = with_roles
        self.people = self._people()

    def _rule_groups(self) -> CTE:
        """(rule, group) pairs for each role rule's group and every group below it."""
        rules = (
            select(
                Subscription.id.label("subscription_id"),
                Subscription.group_id.label("group_id"),
            )
            .where(
                Subscription.mailing_list_id == self.mailing_list_id,
                Subscription.group_id.is_not(None),
            )
            .cte("rule_groups", recursive=True)
        )
        below = select(rules.c.subscription_id, Group.id).join(
            rules, Group.parent_id == rules.c.group_id
        )
        return rules.union(below)

    def _role_matches(self) -> Select:
        rule_groups = self._rule_groups()
        wanted_type = and_(
            subscription_role_types.c.subscription_id == rule_groups.c.subscription_id,
            subscription_role_types.c.role_type_id == Role.role_type_id,
        )
        return (
            select(Role.person_id.label("person_id"), rule_groups.c.subscription_id.label("via"))
            .join(rule_groups, Role.group_id == rule_groups.c.group_id)
            .join(subscription_role_types, wanted_type)
            .where(role_is_active(self.today))
        )

    def _person_rules(self, excluded: bool) -> Select:
        return select(
            Subscription.person_id.label("person_id"), Subscription.id.label("via")
        ).where(
            Subscription.mailing_list_id == self.mailing_list_id,
            Subscription.person_id.is_not(None),
            Subscription.excluded.is_(true() if excluded else false()),
        )

    def _people(self) -> CTE:
        """Distinct people reached by a rule and not excluded, with the first rule reaching them."""
        matches = union_all(self._role_matches(), self._person_rules(excluded=False)).subquery()
        excluded = self._person_rules(excluded=True).with_only_columns(Subscription.person_id)
        return (
            select(matches.c.person_id, func.min(matches.c.via).label("via"))
            .where(matches.c.person_id.not_in(excluded))
            .group_by(matches.c.person_id)
            .cte("recipient_people")
        )

    def _candidate_addresses(self) -> Select:
        """Every address of every recipient that the list's setting allows, before dedupe."""
        primary = (
            select(
                self.people.c.person_id,
                Person.email.label("email"),
                literal(True).label("is_primary"),
                literal(0).label("position"),
                self.people.c.via,
            )
            .join(Person, Person.id == self.people.c.person_id)
            .where(has_primary_email())
        )
        if not self.all_delivery_addresses:
            return primary
        delivery = select(
            self.people.c.person_id,
            AdditionalEmail.email,
            literal(False),
            AdditionalEmail.id,
            self.people.c.via,
        ).join(AdditionalEmail, AdditionalEmail.person_id == self.people.c.person_id)
        return union_all(primary, delivery.where(AdditionalEmail.mailings.is_(true())))

    def addresses(self) -> Select:
        """One row per distinct address; a shared address goes to the lowest person id."""
        candidates = self._candidate_addresses().subquery()
        ranked = select(
            candidates,
            func.row_number()
            .over(
                partition_by=candidates.c.email,
                order_by=(candidates.c.person_id, candidates.c.position),
            )
            .label("rank"),
        ).subquery()
        return (
            select(
                ranked.c.person_id,
                ranked.c.email,
                ranked.c.is_primary,
                ranked.c.via,
                *PERSON_COLUMNS,
            )
            .join(Person, Person.id == ranked.c.person_id)
            .where(ranked.c.rank == 1)
            .order_by(ranked.c.person_id, ranked.c.position)
        )

    def skipped(self) -> Select:
        """People reached by the rules who have no address this list may use."""
        no_address = ~has_primary_email()
        if self.all_delivery_addresses:
            no_address = and_(no_address, ~has_delivery_address())
        return (
            select(Person, self.people.c.via)
            .join(self.people, Person.id == self.people.c.person_id)
            .where(no_address)
            .order_by(Person.last_name, Person.first_name, Person.id)
        )

    def counts(self, session: Session) -> Counts:
        people = session.scalar(select(func.count()).select_from(self.people))
        addresses = session.scalar(select(func.count()).select_from(self.addresses().subquery()))
        skipped = session.scalar(select(func.count()).select_from(self.skipped().subquery()))
        return Counts(people=people or 0, addresses=addresses or 0, skipped=skipped or 0)

    def _names_in_tree(self, tree: Select, column: ColumnElement[str], label: str) -> Any:
        """Per recipient, the distinct names (role types or groups) of their active roles in
        `tree` (the list's group and below), joined by a separator no name contains."""
        pairs = (
            select(Role.person_id.label("person_id"), column.label("name"))
            .join(RoleType, RoleType.id == Role.role_type_id)
            .join(Group, Group.id == Role.group_id)
            .join(self.people, self.people.c.person_id == Role.person_id)
            .where(Role.group_id.in_(tree), role_is_active(self.today))
            .distinct()
            .subquery()
        )
        return (
            select(
                pairs.c.person_id,
                func.aggregate_strings(pairs.c.name, NAME_SEPARATOR).label(label),
            )
            .group_by(pairs.c.person_id)
            .subquery()
        )

    def by_address(self) -> Select:
        """Every candidate address sorted by address (code point), then person and position,
        for the export's merge-join; with `with_roles`, each person's role types and groups
        in the list's tree too.

        A shared address appears once per holder here: `stream` keeps the first, which is
        the lowest person id, as `addresses` does. Leaving the dedupe to that one pass saves
        a window function and a second sort, the bulk of a large export's query.
        """
        candidates = self._candidate_addresses().subquery()
        statement = (
            select(
                candidates.c.person_id,
                candidates.c.email,
                candidates.c.is_primary,
                candidates.c.via,
                *PERSON_COLUMNS,
            )
            .join(Person, Person.id == candidates.c.person_id)
            .order_by(
                in_binary_order(candidates.c.email),
                candidates.c.person_id,
                candidates.c.position,
            )
        )
        if not self.with_roles:
            return statement
        tree = subtree_ids([self.group_id])
        roles = self._names_in_tree(tree, RoleType.name, "role_names")
        groups = self._names_in_tree(tree, Group.name, "group_names")
        person_id = statement.selected_columns.person_id
        return (
            statement.add_columns(roles.c.role_names, groups.c.group_names)
            .outerjoin(roles, roles.c.person_id == person_id)
            .outerjoin(groups, groups.c.person_id == person_id)
        )

    def stream(
        self, session: Session, batch_size: int = 5000, *, by_address: bool = False
    ) -> Iterator[Recipient]:
        """All recipients as plain rows, fetched in batches so memory stays flat."""
        statement = self.by_address() if by_address else self.addresses()
        result = session.execute(statement.execution_options(yield_per=batch_size))
        with_roles = by_address and self.with_roles
        previous = None
        for row in result:
            if by_address and row.email == previous:
                continue
            previous = row.email
            yield Recipient(
                person_id=row.person_id,
                email=row.email,
                primary=bool(row.is_primary),
                via_subscription_id=row.via,
                first_name=row.first_name,
                last_name=row.last_name,
                nickname=row.nickname,
                gender=row.gender,
                birthday=row.birthday,
                company=row.company,
                role_names=split_names(row.role_names) if with_roles else (),
                group_names=split_names(row.group_names) if with_roles else (),
            )


def split_names(joined: str | None) -> tuple[str, ...]:
    return tuple(sorted(joined.split(NAME_SEPARATOR))) if joined else ()


def has_primary_email() -> ColumnElement[bool]:
    return and_(Person.email.is_not(None), Person.email != "")


def has_delivery_address() -> ColumnElement[bool]:
    return exists().where(
        AdditionalEmail.person_id == Person.id, AdditionalEmail.mailings.is_(true())
    )


def recipients_of(
    mailing_list: MailingList, today: date | None = None, *, with_roles: bool = False
) -> Recipients:
    """The recipient rules of the product: role rules, person includes, excludes, addresses."""
    return Recipients(mailing_list, today, with_roles=with_roles)


__all__ = ["Counts", "Recipient", "Recipients", "recipients_of"]
