"""Who receives a mailing list: its rules turned into addresses, in a few set-based queries.

Everything here is SQLAlchemy Core over whole sets (one scan of roles per rule, its group
tree read first; a window function for shared addresses), so a list of a million people
resolves inside the database, identically on SQLite and PostgreSQL. There is one
resolution, `Recipients.matches`: the export streams it by address, the subscriber view
counts and pages it, the downloads and the CLI stream it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    Subquery,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.orm import Session, object_session, selectinload

from mcbridge import clock
from mcbridge.field_condition import field_condition
from mcbridge.models import (
    AdditionalEmail,
    Group,
    MailingList,
    Person,
    Role,
    RoleType,
    Subscription,
    role_is_active,
    subtree_ids,
)
from mcbridge.models.people import PROFILE_COLUMNS, PersonTag, by_name
from mcbridge.sql import in_binary_order

NAME_SEPARATOR = "\x1f"
PERSON_COLUMNS = tuple(getattr(Person, name) for name in PROFILE_COLUMNS)


class Recipient(NamedTuple):
    """One address to send to, with the person it belongs to and the rule that reached them.

    A named tuple, in the column order of the recipient queries: a million of them are built
    per large export, straight from the rows.
    """

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
    language: str | None
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
        self.today = today or clock.today()
        self.delivery_labels = [label.casefold() for label in mailing_list.delivery_labels or ()]
        self.filters = list_filters(mailing_list, self.today)
        self.with_roles = with_roles
        self.session = session_of(mailing_list)

    def reasons(self, person_ids: list[int]) -> Select:
        """Each active role by which the rules reach these people (a page of the subscriber
        view): (person_id, role type, group), one row each. People a rule names directly
        have none. The rules' own scans, bounded by the ids given, so a page costs one query
        whatever the list's size."""
        scans = [
            reason_rows(scan).where(Role.person_id.in_(person_ids)) for scan in self.rule_scans
        ]
        found = union(*scans).subquery() if scans else reason_rows(select()).where(false())
        return select(found).order_by(found.c.person_id, found.c.role_type, found.c.group)

    def _person_rules(self, excluded: bool) -> Select:
        return select(
            Subscription.person_id.label("person_id"), Subscription.id.label("via")
        ).where(
            Subscription.mailing_list_id == self.mailing_list_id,
            Subscription.person_id.is_not(None),
            Subscription.excluded.is_(true() if excluded else false()),
        )

    @cached_property
    def people(self) -> CTE:
        """Distinct people reached by a rule, not excluded and passing the list's filters,
        with the first rule reaching them: the export's resolution (`matches`), counted and
        paged by the subscriber view."""
        matches = self.matches
        people = select(matches.c.person_id, func.min(matches.c.via).label("via")).where(
            self._not_excluded(matches.c.person_id)
        )
        if self.filters:
            people = people.join(Person, Person.id == matches.c.person_id).where(*self.filters)
        return people.group_by(matches.c.person_id).cte("recipient_people")

    def _candidate_addresses(
        self,
        reached: CTE | Subquery,
        *conditions: ColumnElement[bool],
        person_columns: tuple[Any, ...] = (),
        with_unaddressed: bool = False,
    ) -> Select | CompoundSelect:
        """Every address of the `reached` (person, rule) rows that the list's setting allows,
        before dedupe; `person_columns` are read in the same joins. `with_unaddressed`: a
        person without a main address comes too, as a row whose address is empty (never
        NULL, so it sorts before every address on both databases)."""
        addressed = () if with_unaddressed else (has_primary_email(),)
        email = func.coalesce(Person.email, "") if with_unaddressed else Person.email
        primary = (
            select(
                reached.c.person_id,
                email.label("email"),
                literal(True).label("is_primary"),
                literal(0).label("position"),
                reached.c.via,
                *person_columns,
            )
            .join(Person, Person.id == reached.c.person_id)
            .where(*conditions, *addressed)
        )
        if not self.all_delivery_addresses:
            return primary
        delivery = (
            select(
                reached.c.person_id,
                AdditionalEmail.email,
                literal(False),
                AdditionalEmail.id,
                reached.c.via,
                *person_columns,
            )
            .join(AdditionalEmail, AdditionalEmail.person_id == reached.c.person_id)
            .join(Person, Person.id == reached.c.person_id)
            .where(*conditions, self.is_delivery_address())
        )
        return union_all(primary, delivery)

    def is_delivery_address(self) -> ColumnElement[bool]:
        """An additional address this list sends to: marked for mailings and, when the list
        chose labels, carrying one of them (compared without case: "Work" is "work")."""
        marked = AdditionalEmail.mailings.is_(true())
        if not self.delivery_labels:
            return marked
        return and_(marked, func.lower(AdditionalEmail.label).in_(self.delivery_labels))

    def ranked(
        self, reached: CTE | Subquery | None = None, person_columns: tuple[Any, ...] = ()
    ) -> Subquery:
        """Every address of the `reached` people (the list's, by default) with its rank among
        the rows holding the same address: rank 1 is the one sent to, the lowest person id's
        (their main address first, then their delivery addresses in the order added).
        `person_columns` come along, read in the same joins."""
        candidates = self._candidate_addresses(
            self.people if reached is None else reached,
            *self.filters,
            person_columns=person_columns,
        ).subquery()
        return select(
            candidates,
            func.row_number()
            .over(
                partition_by=candidates.c.email,
                order_by=(candidates.c.person_id, candidates.c.position),
            )
            .label("rank"),
        ).subquery()

    def addresses(self) -> Select:
        """One row per distinct address; a shared address goes to the lowest person id."""
        ranked = self.ranked()
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

    def without_address(self) -> ColumnElement[bool]:
        """A person (joined) with no address this list may use."""
        no_address = ~has_primary_email()
        if not self.all_delivery_addresses:
            return no_address
        return and_(
            no_address,
            ~exists().where(AdditionalEmail.person_id == Person.id, self.is_delivery_address()),
        )

    def skipped(self) -> Select:
        """People reached by the rules who have no address this list may use."""
        people = self.people
        return (
            select(Person, people.c.via)
            .join(people, Person.id == people.c.person_id)
            .where(self.without_address())
            .order_by(*by_name())
        )

    def counts(self, session: Session) -> Counts:
        """People, addresses and people without one, in a single statement."""

        def count_of(statement: Any) -> Any:
            return select(func.count()).select_from(statement).scalar_subquery()

        row = session.execute(
            select(
                count_of(self.people),
                count_of(self.addresses().subquery()),
                count_of(self.skipped().subquery()),
            )
        ).one()
        return Counts(people=row[0] or 0, addresses=row[1] or 0, skipped=row[2] or 0)

    def _names_in_tree(
        self, tree: ColumnElement[Any], reached: Subquery, column: ColumnElement[str], label: str
    ) -> Any:
        """Per recipient, the distinct names (role types or groups) of their active roles in
        `tree` (see `_reach`), joined by a separator no name contains."""
        pairs = (
            select(Role.person_id.label("person_id"), column.label("name"))
            .join(RoleType, RoleType.id == Role.role_type_id)
            .join(Group, Group.id == Role.group_id)
            .where(
                Role.group_id.in_(tree),
                Role.person_id.in_(select(reached.c.person_id)),
                role_is_active(self.today),
            )
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

    @cached_property
    def rule_scans(self) -> list[Select]:
        """Per role rule, the roles it matches, as a scan of its own with the rule's groups
        written into the query as numbers.

        The group tree is small and read first; with its ids spelled out, the planner knows
        how many roles a rule meets. Behind a recursive CTE it can only guess, and on
        PostgreSQL a low guess turned a million-row join into nested loops (28 s instead of
        6 s for a million recipients).
        """
        rules = self.session.scalars(
            select(Subscription)
            .where(
                Subscription.mailing_list_id == self.mailing_list_id,
                Subscription.group_id.is_not(None),
            )
            .options(selectinload(Subscription.role_types), selectinload(Subscription.tag_rules))
        )
        scans = []
        for rule in rules:
            scans.append(
                select(Role.person_id.label("person_id"), literal(rule.id).label("via")).where(
                    Role.group_id.in_(self._subtree(f"rule_{rule.id}_groups", [rule.group_id])),
                    Role.role_type_id.in_([role_type.id for role_type in rule.role_types]),
                    role_is_active(self.today),
                    *rule_tags_allow(rule, Role.person_id),
                )
            )
        return scans

    def _subtree(self, name: str, root_ids: list[Any]) -> BindParameter[Any]:
        """The ids of groups and every group below them, read now and written into the query
        as numbers (no parameter limit, and a planner that knows their count)."""
        ids = list(self.session.scalars(subtree_ids(root_ids)))
        return bindparam(name, ids, expanding=True, literal_execute=True)

    def _reach(self) -> BindParameter[Any]:
        """The groups whose roles name a recipient's role tags and GROUPS: the list's group,
        each role rule's group and every group below them. A rule may reach outside the
        list's own tree (a club's list for "Leaders of Region West"): the roles it reached
        people by must still name them."""
        rule_groups = self.session.scalars(
            select(Subscription.group_id).where(
                Subscription.mailing_list_id == self.mailing_list_id,
                Subscription.group_id.is_not(None),
            )
        )
        return self._subtree("reach", [self.group_id, *rule_groups])

    @cached_property
    def matches(self) -> Subquery:
        """Every (person, rule) pair the rules reach, before exclusions; a person appears
        once per rule (and role) that reaches them. The rules and their groups are read
        once, on first use: an export asks for the skipped people, then for the addresses."""
        return union_all(*self.rule_scans, self._person_rules(excluded=False)).subquery("matches")

    def _not_excluded(self, person_id: ColumnElement[int]) -> ColumnElement[bool]:
        excluded = self._person_rules(excluded=True).with_only_columns(Subscription.person_id)
        return person_id.not_in(excluded)

    def by_address(self) -> Select:
        """Every candidate address sorted by address (code point), then person, position and
        rule, for the export's merge-join; with `with_roles`, each person's role types and
        groups within the list's reach (`_reach`) too. A person the rules reach without a
        main address comes as a row with an empty address, for `Streamed` to count.

        An address appears once per (holder, matching rule) here: `stream` keeps the first,
        which is the lowest person id and rule, as `addresses` does. Leaving the dedupe to
        that one pass saves a grouping, a window function and a second sort, the bulk of a
        large export's query.
        """
        matches = self.matches
        candidates = self._candidate_addresses(
            matches,
            self._not_excluded(matches.c.person_id),
            *self.filters,
            person_columns=PERSON_COLUMNS,
            with_unaddressed=True,
        )
        rows = candidates.subquery("candidates")
        statement = select(*(column for column in rows.c if column.name != "position")).order_by(
            in_binary_order(rows.c.email), rows.c.person_id, rows.c.position, rows.c.via
        )
        if not self.with_roles:
            return statement
        reach = self._reach()
        roles = self._names_in_tree(reach, matches, RoleType.name, "role_names")
        groups = self._names_in_tree(reach, matches, Group.name, "group_names")
        return (
            statement.add_columns(roles.c.role_names, groups.c.group_names)
            .outerjoin(roles, roles.c.person_id == rows.c.person_id)
            .outerjoin(groups, groups.c.person_id == rows.c.person_id)
        )

    def stream(self, session: Session, batch_size: int = 5000) -> Streamed:
        """Every recipient in address order (`by_address`), the first holder of each address
        kept, fetched in batches so memory stays flat: the export, the downloads and the
        CLI read them so, and the export counts the people without an address on the way
        (`Streamed.skipped`)."""
        connection = session.connection()
        statement = self.by_address().execution_options(yield_per=batch_size)
        return Streamed(iter(connection.execute(statement)), with_roles=self.with_roles)


class Streamed:
    """A list's recipients as `Recipients.stream` reads them and, once read to the end, how
    many people its rules reach have no address the list may use (`skipped`).

    Counted on the way, from the rows of `by_address`, rather than asked apart: asked apart,
    the database resolved the whole list a second time (1.8 s of a million people's
    export). The rows without an address come first (their address is empty), so only
    those people are remembered, whatever the list's size. Core rows (not ORM ones)
    unpacked by position: at a million rows, per-row overhead is the cost.
    """

    def __init__(self, rows: Iterator[Any], *, with_roles: bool) -> None:
        self.rows = rows
        self.with_roles = with_roles
        self.without_address: set[int] = set()
        self.recipients = self.first_per_address()

    @property
    def skipped(self) -> int:
        """People without a main address and without a delivery address the list sends
        to: a person counts once, whatever number of rules reach them."""
        return len(self.without_address)

    def __iter__(self) -> Iterator[Recipient]:
        """One pass, however often it is asked for: read in chunks (`islice`), a new pass
        per chunk would forget the address before it and send a shared one twice."""
        return self.recipients

    def first_per_address(self) -> Iterator[Recipient]:
        """The first row of each address (its lowest person id), as a recipient. A person's
        rows without an address only note them; a delivery address of theirs, even one that
        another holder's row came before (a shared address is still theirs), takes them off.
        """
        previous = None
        without, with_roles = self.without_address, self.with_roles
        for row in self.rows:
            email = row[1]
            if not email:
                if row[2]:
                    without.add(row[0])
                continue  # an empty delivery address (a host's own rows) is no address
            if not row[2]:
                without.discard(row[0])
            if email == previous:
                continue
            previous = email
            if with_roles:
                *columns, role_names, group_names = row
                yield Recipient(*columns, split_names(role_names), split_names(group_names))
            else:
                yield Recipient(*row)


def reason_rows(scan: Select) -> Select:
    """A rule's scan of roles as (person, role type, group) rows."""
    return (
        scan.with_only_columns(
            Role.person_id.label("person_id"),
            RoleType.name.label("role_type"),
            Group.name.label("group"),
        )
        .join_from(Role, RoleType, RoleType.id == Role.role_type_id)
        .join_from(Role, Group, Group.id == Role.group_id)
    )


def split_names(joined: str | None) -> tuple[str, ...]:
    return tuple(sorted(joined.split(NAME_SEPARATOR))) if joined else ()


def has_primary_email() -> ColumnElement[bool]:
    return and_(Person.email.is_not(None), Person.email != "")


def tagged(person_id: ColumnElement[int], names: list[str]) -> ColumnElement[bool]:
    return person_id.in_(select(PersonTag.person_id).where(PersonTag.name.in_(names)))


def rule_tags_allow(rule: Subscription, person_id: ColumnElement[int]) -> list[ColumnElement[bool]]:
    """A rule's tag tests with its tags spelled out (the export's per-rule scans): one of
    the required tags, none of the excluded ones."""
    conditions = []
    if rule.required_tags:
        conditions.append(tagged(person_id, rule.required_tags))
    if rule.excluded_tags:
        conditions.append(~tagged(person_id, rule.excluded_tags))
    return conditions


def years_before(today: date, years: int) -> date:
    """The same day `years` earlier; from a 29 February, the 28th (a birthday on the 29th
    then counts a year older on 1 March, as age is commonly counted)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def list_filters(mailing_list: MailingList, today: date) -> list[ColumnElement[bool]]:
    """The list's filters as conditions on the person: a person whose language, gender or
    birthday is unknown does not pass a filter on it. Ages count from the birthday on
    `today`: aged 18 to 30 is born after the day 31 years ago, on or before 18 years ago.
    The condition on a person field comes last (`mcbridge.field_condition`)."""
    conditions: list[ColumnElement[bool]] = []
    if mailing_list.filter_language:
        conditions.append(Person.language == mailing_list.filter_language)
    if mailing_list.filter_gender:
        conditions.append(Person.gender == mailing_list.filter_gender)
    if mailing_list.filter_min_age is not None:
        conditions.append(Person.birthday <= years_before(today, mailing_list.filter_min_age))
    if mailing_list.filter_max_age is not None:
        conditions.append(Person.birthday > years_before(today, mailing_list.filter_max_age + 1))
    on_field = field_condition(mailing_list)
    if on_field is not None:
        conditions.append(on_field)
    return conditions


def session_of(mailing_list: MailingList) -> Session:
    """The session the list was read through, which its recipients are read through too."""
    session = object_session(mailing_list)
    assert session is not None, "the mailing list is read through its session"
    return session


def recipients_of(
    mailing_list: MailingList, today: date | None = None, *, with_roles: bool = False
) -> Recipients:
    """The recipient rules of the product: role rules, person includes, excludes, addresses."""
    return Recipients(mailing_list, today, with_roles=with_roles)


__all__ = ["Counts", "Recipient", "Recipients", "Streamed", "recipients_of", "session_of"]
