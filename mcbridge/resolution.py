"""The subscriber view's stored resolution: a list resolved once per change, then paged,
sorted, searched and counted from what was stored (mcbridge.models.resolution).

The resolution is the export's own (`Recipients.people`, then `Recipients.ranked` over the
people stored), so the view shows exactly whom the next export would send to. It is read
only while it holds: same recipients version, same day. Otherwise the visit resolves again,
writes only the rows that changed (`write_difference`), and the visits after it read the
result; a visit arriving while another resolves shows the previous result, saying so.

Order matters for exactness. The version is read before anything is resolved, inside the
lock on the list's row: a change committed meanwhile is then newer than the version stored
with the result, and the next visit resolves again. The other way round, a change could
slip in between and be stored under a version that claims it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Select,
    Table,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from mcbridge import clock
from mcbridge.models import MailingList, Person, StoredAddress, StoredPerson, StoredResolution
from mcbridge.models.resolution import NAME_ORDER, recipients_version
from mcbridge.recipients import Recipients, recipients_of, session_of
from mcbridge.search import (
    SEARCHED,
    WALKED_AHEAD,
    address_search,
    found_ids,
    person_search,
)
from mcbridge.sql import in_binary_order, insert_with_conflicts


@dataclass(frozen=True)
class Shown:
    """The resolution a visit shows. `catching_up`: another visit is resolving the list
    again after a change, and this one shows the previous resolution, saying so, rather
    than hold a web worker until the other is done (the first visit after a change to a
    million people takes seconds; twenty visits waiting would stall the application)."""

    stored: StoredResolution
    catching_up: bool = False


def stored_resolution(mailing_list: MailingList, patient: bool = False) -> Shown:
    """The list's stored resolution, resolved again first unless it still holds.
    `patient`: wait for another visit resolving it rather than show the previous one."""
    session = session_of(mailing_list)
    stored = session.get(StoredResolution, mailing_list.id, populate_existing=True)
    if stored is not None and stored.holds(recipients_version(session), clock.today()):
        return Shown(stored)
    return resolve_again(mailing_list, None if patient else stored)


def resolve_again(mailing_list: MailingList, previous: StoredResolution | None = None) -> Shown:
    """Resolve and store, one visit at a time per list. A visit that finds another one
    resolving shows the `previous` resolution; without one (the list's first visit, or a
    download) it waits, then finds the resolution just stored and reads it."""
    session = session_of(mailing_list)
    stored = locked(session, mailing_list.id, wait=previous is None or previous.version is None)
    if stored is None:
        session.rollback()
        return Shown(stored_again(session, mailing_list.id), catching_up=True)
    version, today = recipients_version(session), clock.today()
    if not stored.holds(version, today):
        session.refresh(mailing_list)
        written = store(recipients_of(mailing_list, today), stored)
        stored.version, stored.day, stored.resolved_at = version, today, clock.now()
        if written * RESTATED_SHARE >= stored.people + stored.addresses:
            describe_to_planner(session)
    session.commit()
    return Shown(stored)


# Fresh statistics after a resolution that wrote at least one row in this many of its list's.
RESTATED_SHARE = 10


def stored_again(session: Session, mailing_list_id: int) -> StoredResolution:
    stored = session.get(StoredResolution, mailing_list_id, populate_existing=True)
    assert stored is not None, "a list being resolved again was resolved before"
    return stored


def describe_to_planner(session: Session) -> None:
    """Fresh statistics of the stored tables, which the databases plan from. PostgreSQL's
    autovacuum gathers them later, if at all: without them, a search over a million
    stored rows is planned for a thousand. SQLite never gathers them by itself: without
    them, it read a search's delivery addresses by scanning every stored address rather
    than off their own index (1.1 s a search at a million, 0.15 s with them). Only after
    a resolution that wrote a good share of its list (RESTATED_SHARE): one that wrote a
    row or two leaves the statistics as true as they were, and gathering them costs the
    visit (0.5 s on SQLite at a million)."""
    stored = (StoredAddress.__tablename__, StoredPerson.__tablename__)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(stored)}"))
        return
    for table in stored:
        session.execute(text(f"ANALYZE {table}"))


def locked(session: Session, mailing_list_id: int, wait: bool) -> StoredResolution | None:
    """The list's row, created on the list's first visit, locked until commit; None when
    another visit holds it and `wait` is false. (PostgreSQL; SQLite lets one writer at a
    time anyway.)"""
    session.execute(
        insert_with_conflicts(StoredResolution)
        .values(mailing_list_id=mailing_list_id, people=0, addresses=0, skipped=0)
        .on_conflict_do_nothing()
    )
    row = select(StoredResolution).where(StoredResolution.mailing_list_id == mailing_list_id)
    lock = row.with_for_update(skip_locked=not wait).execution_options(populate_existing=True)
    return session.scalars(lock).one_or_none()


def store(recipients: Recipients, stored: StoredResolution) -> int:
    """Bring the list's stored people and addresses to what its rules reach now, and count;
    returns how many rows it wrote."""
    session, list_id = recipients.session, recipients.mailing_list_id
    people = recipients.people
    reached = select(
        literal(list_id).label("mailing_list_id"),
        people.c.person_id,
        people.c.via,
        recipients.without_address().label("without_address"),
        Person.first_name,
        Person.last_name,
    ).join(Person, Person.id == people.c.person_id)
    written = write_difference(session, StoredPerson, list_id, reached)
    # The names come with the addresses, not joined again after ranking: PostgreSQL
    # guessed a few thousand first-ranked rows and looked each name up (2 s at a million).
    names = (Person.first_name, Person.last_name)
    ranked = recipients.ranked(stored_people(list_id).subquery(), person_columns=names)
    addresses = select(
        literal(list_id).label("mailing_list_id"),
        ranked.c.email,
        ranked.c.person_id,
        ranked.c.is_primary,
        ranked.c.position,
        ranked.c.via,
        ranked.c.first_name,
        ranked.c.last_name,
    ).where(ranked.c.rank == 1)
    written += write_difference(session, StoredAddress, list_id, addresses)
    stored.people, stored.skipped, stored.addresses = counted(session, list_id)
    return written


def write_difference(
    session: Session, model: type[StoredPerson | StoredAddress], list_id: int, now: Select
) -> int:
    """Make the list's rows of `model` equal `now` (its columns, by name) by writing only
    what differs: rows no longer there or changed go, new ones come; returns how many rows
    went and came. After one change among a million people that is a row or two, not two
    million index entries. `now` is computed once, into a temporary table, and compared
    from there both ways.

    The new rows are gathered into a table of their own before they are written: read
    from the stored table while they go into it, PostgreSQL, believing that table empty or
    small (as it is before a list's first resolution, or before a narrow list grows to
    everyone), reads it once per new row, and the rows being written make it grow, so
    the time grew with the square of the rows (a million people's first visit was
    cancelled after 10 minutes). A list with no rows yet takes all of `now`."""
    table = model.__table__
    columns = [table.c[column.name] for column in now.selected_columns]
    fresh = computed_once(session, now, columns)
    gone, added = 0, fresh
    if session.scalar(select(exists().where(table.c.mailing_list_id == list_id))):
        gone = delete_changed(session, table, list_id, fresh, columns)
        kept = select(literal(1)).where(
            table.c.mailing_list_id == list_id,
            *(fresh.c[column.name] == column for column in columns if is_key(column)),
        )
        added = computed_once(session, select(fresh).where(~exists(kept)), columns, "new")
    writing = insert(table).from_select([c.name for c in columns], select(added))
    came = session.execute(writing.execution_options(preserve_rowcount=True))
    for temporary in {fresh, added}:
        temporary.drop(session.connection())
    return gone + came.rowcount


def delete_changed(
    session: Session, table: Table, list_id: int, fresh: Table, columns: list[Column[Any]]
) -> int:
    """Delete the list's stored rows that `fresh` no longer holds as they are (gone or
    changed); returns how many went."""
    compared = [column for column in columns if column.name != "mailing_list_id"]
    same_row = and_(*(same_value(fresh.c[column.name], column) for column in compared))
    gone = session.execute(
        delete(table).where(
            table.c.mailing_list_id == list_id, ~exists(select(literal(1)).where(same_row))
        )
    )
    return gone.rowcount


def computed_once(
    session: Session, now: Select, like: list[Column[Any]], role: str = "now"
) -> Table:
    """`now`'s rows in a temporary table shaped like the stored columns `like`: resolving is
    the costly part, and the comparison needs the rows twice. PostgreSQL compares the two
    sets by hashing, from fresh statistics; a key would only cost its writing (a third of
    the time at a million rows, about 30%). SQLite looks each row up instead, so there the table is
    keyed as the stored one is."""
    connection = session.connection()
    keyed = connection.dialect.name == "sqlite"
    name = f"{like[0].table.name}_{role}"
    temporary = Table(
        name,
        MetaData(),
        *(
            Column(column.name, column.type, primary_key=keyed and is_key(column))
            for column in like
        ),
        prefixes=["TEMPORARY"],
    )
    temporary.drop(connection, checkfirst=True)
    temporary.create(connection)
    connection.execute(insert(temporary).from_select([c.name for c in like], now))
    if not keyed:
        connection.exec_driver_sql(f"ANALYZE {name}")
    return temporary


def is_key(column: Column[Any]) -> bool:
    """A stored row's key within its list (its person or its address)."""
    return column.primary_key and column.name != "mailing_list_id"


def same_value(fresh: ColumnElement[Any], stored: Column[Any]) -> ColumnElement[bool]:
    """Equal, or both empty where a column may be: plain `=` where it may not, which the
    database can hash (a million rows compared by `IS NOT DISTINCT FROM` alone are
    compared pair by pair)."""
    return fresh.is_not_distinct_from(stored) if stored.nullable else fresh == stored


def stored_people(mailing_list_id: int) -> Select:
    return select(StoredPerson.person_id, StoredPerson.via).where(
        StoredPerson.mailing_list_id == mailing_list_id
    )


def counted(session: Session, mailing_list_id: int) -> tuple[int, int, int]:
    """People, people without an address, and addresses, as stored."""
    people, skipped = session.execute(
        select(func.count(), func.count().filter(StoredPerson.without_address.is_(true()))).where(
            StoredPerson.mailing_list_id == mailing_list_id
        )
    ).one()
    addresses = session.scalar(
        select(func.count()).where(StoredAddress.mailing_list_id == mailing_list_id)
    )
    return people, skipped, addresses or 0


def stored_addresses(mailing_list_id: int) -> Select:
    """The addresses the list sends to, in the export's order of people (a person's main
    address first): the subscriber view's rows before sorting and searching."""
    return (
        select(
            StoredAddress.person_id,
            StoredAddress.email,
            StoredAddress.is_primary,
            StoredAddress.position,
            StoredAddress.via,
            StoredAddress.first_name,
            StoredAddress.last_name,
        )
        .where(StoredAddress.mailing_list_id == mailing_list_id)
        .order_by(StoredAddress.person_id, StoredAddress.position)
    )


def searched_sides(mailing_list_id: int, term: str) -> tuple[Select, Select]:
    """The stored addresses found by `term`, in the stored order, as two statements: those
    of the people that people search finds (every word in their names, main address or
    company, through the search index), and the other people's delivery addresses that
    hold every word themselves. Two statements rather than one condition with OR, so each
    uses its index, and apart by construction, so no pass removes duplicates.

    A delivery address holding the words is kept when its own person is not found: a
    look at that one person. Asked as "not among everyone found", the database listed
    every match first (100,000 people for "marie" among a million, 100 ms) and tested the
    list against each of the million stored addresses (270 ms in all; 55 ms so)."""
    listed = stored_addresses(mailing_list_id)
    found_people = person_search(term)
    by_person = listed.where(StoredAddress.person_id.in_(found_ids(term)))
    by_address = listed.join(Person, Person.id == StoredAddress.person_id).where(
        StoredAddress.is_primary == false(),
        not_(and_(*found_people)),
        *address_search(term, StoredAddress.email),
    )
    return by_person, by_address


class Order(Protocol):
    """A page's sort applied to a statement. `from_matches`: by keys no index serves
    (mcbridge.search.match_order), so the database sorts the search index's matches rather
    than walk the order's index to them."""

    def __call__(self, statement: Select, from_matches: bool = False) -> Select: ...


def walked_people(mailing_list_id: int, order: Order) -> Select:
    """The searched columns of the people behind the first stored addresses in `order`:
    what a walk of that order meets first (mcbridge.search.sorted_from_matches)."""
    first = order(stored_addresses(mailing_list_id)).limit(WALKED_AHEAD).subquery()
    return select(*SEARCHED).join_from(first, Person, Person.id == first.c.person_id)


def searched_page(
    mailing_list_id: int,
    term: str,
    order: Order,
    offset: int,
    size: int,
    from_matches: bool = False,
) -> Select:
    """A page of the stored addresses `term` finds, in `order` (applied to each side and to
    their union): each side is sorted and cut at the page's end on its own, then the two
    are sorted together and cut to the page. `from_matches`: the people found are sorted
    from the search index's matches (see `walked_people`).

    Sorted as one union, PostgreSQL found and sorted every match before cutting the page:
    103,040 addresses for "marie" among a million, 0.7-0.9 s on a slow machine. Each side
    cut at the page's end walks the order's index to the page instead (2 ms), or, for a
    word few people hold, sorts the few matches the search index finds. (The delivery
    addresses' side has a trigram index of its own on PostgreSQL: walked in page order,
    it sought a match among every stored address.) A walk is long when the order meets
    the matches late: "marie" by address met its first match 280,167 addresses in (the
    addresses starting with first names), 1.27 s; sorted from its matches, 0.41 s."""
    end = offset + size
    by_person, by_address = searched_sides(mailing_list_id, term)
    sides = [
        select(order(by_person, from_matches).limit(end).subquery()),
        select(order(by_address).limit(end).subquery()),
    ]
    found = union_all(*sides).subquery("found")
    in_order = order(select(found).order_by(found.c.person_id, found.c.position))
    return in_order.limit(size).offset(offset)


def searched_count(mailing_list_id: int, term: str, most: int) -> Select:
    """How many stored addresses `term` finds, counted no further than beyond `most`: a
    count above `most` means "more than `most`". Counting all 103,040 matches of "marie"
    took about a second on a slow machine (every match joined with the stored
    addresses); up to a thousand, a walk of 20 ms."""
    sides = [
        select(side.order_by(None).limit(most + 1).subquery())
        for side in searched_sides(mailing_list_id, term)
    ]
    return select(func.count()).select_from(union_all(*sides).subquery("found"))


def download_rows(mailing_list_id: int) -> Select:
    """Every stored address with what a spreadsheet shows of it, in address order (code
    point, as the export and `flask mcbridge recipients` list them)."""
    return (
        select(
            StoredAddress.email,
            StoredAddress.first_name,
            StoredAddress.last_name,
            Person.nickname,
            Person.company,
            StoredAddress.is_primary,
            StoredAddress.via,
        )
        .join(Person, Person.id == StoredAddress.person_id)
        .where(StoredAddress.mailing_list_id == mailing_list_id)
        .order_by(in_binary_order(StoredAddress.email))
    )


def stored_skipped(mailing_list_id: int) -> Select:
    """The people without an address the list may use, by name, off the stored names'
    index (`= true`, which an index serves, where `IS true` is not)."""
    return (
        select(Person, StoredPerson.via)
        .join(StoredPerson, StoredPerson.person_id == Person.id)
        .where(
            StoredPerson.mailing_list_id == mailing_list_id,
            StoredPerson.without_address == true(),
        )
        .order_by(*(StoredPerson.__table__.c[name] for name in NAME_ORDER))
    )
