"""A mailing list's recipients as last resolved, for the subscriber view, and the version
that says whether that resolution still holds.

Resolving a list of a million people costs seconds; paging, sorting and counting a stored
resolution costs milliseconds. A stored resolution is exact or not used: it carries the
version of the recipients' data it was resolved from and the day (roles start and end, ages
grow), and the view resolves again when either moved.

The version is one number that database triggers bump whenever anything a list's recipients
depend on changes: people (the columns a rule, a filter or the view reads, not a bounce
stamp), their addresses and tags, roles, the group tree, role types, a list's rules and the
list's own resolution settings. Triggers, not application events: an import, a host's own
code or a hand-written SQL statement changes the recipients just as surely as a form does.
One number for all lists: any change makes every list resolve again on its next visit,
which is rare next to visits and never wrong.

Revision e8f9a0b1c2d3 and `metadata.create_all` (the event at the end) both install the
triggers with `install_version_triggers`. A future SQLite batch migration that rebuilds one
of the watched tables drops its triggers: it must call `install_version_triggers` again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Index,
    MetaData,
    String,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from mcbridge.models.base import TABLE_PREFIX, Base, named, ref, table_name
from mcbridge.models.mailing_lists import FILTER_COLUMNS
from mcbridge.models.people import PROFILE_COLUMNS
from mcbridge.models.search_index import (
    drop_address_index,
    install_address_index,
    install_with_table,
)

VERSION_ROW = 1

# Each table the recipients depend on, with the columns whose update changes them (None:
# any update). A new column a rule or filter reads belongs here.
WATCHED: dict[str, tuple[str, ...] | None] = {
    "people": ("id", *PROFILE_COLUMNS, "email"),
    "additional_emails": None,
    "person_tags": None,
    "roles": None,
    "groups": ("id", "parent_id"),
    "role_types": ("id",),
    "subscriptions": None,
    "subscription_role_types": None,
    "subscription_tags": None,
    "mailing_lists": (
        "id",
        "group_id",
        "sync_all_delivery_addresses",
        "delivery_labels",
        *FILTER_COLUMNS,
    ),
}
BUMP_FUNCTION = f"{TABLE_PREFIX}bump_recipients_version"


class RecipientsVersion(Base):
    """One row: how many times the recipients' data changed (see the module)."""

    __tablename__ = table_name("recipients_version")

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class StoredResolution(Base):
    """A list's last resolution: when, from which version and day, and its counts."""

    __tablename__ = table_name("stored_resolutions")

    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int | None] = mapped_column(BigInteger)
    day: Mapped[date | None]
    people: Mapped[int] = mapped_column(default=0)
    addresses: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    resolved_at: Mapped[datetime | None]

    def holds(self, version: int | None, today: date) -> bool:
        """Resolved from this very data on this very day. Without a version row (someone
        deleted it) nothing can be vouched for, so nothing holds."""
        return version is not None and self.version == version and self.day == today


# The order of people by name, ties broken by person: how stored rows are read by name.
NAME_ORDER = ("last_name", "first_name", "person_id")


class StoredNames:
    """The holder's names, copied into a stored row so that rows are sorted off an index:
    exact while the resolution holds."""

    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))


class StoredPerson(StoredNames, Base):
    """A person the list's rules reach, with the first rule that does, and whether they
    have no address the list may use (the view's "people without an email address", read
    by name off their index: the names are copies, exact while the resolution holds).

    The person is no foreign key: the row is part of a resolution that any change to the
    people makes stale, and a key would make every deletion of a person look here."""

    __tablename__ = table_name("stored_people")
    __table_args__ = (
        Index(
            named("ix", "stored_people_without_address"),
            "mailing_list_id",
            "without_address",
            *NAME_ORDER,
        ),
    )

    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    via: Mapped[int]
    without_address: Mapped[bool]


class StoredAddress(StoredNames, Base):
    """One address the list sends to, with what the view sorts by: the holder's names are
    copies, exact for as long as the resolution holds (see StoredPerson on the person)."""

    __tablename__ = table_name("stored_addresses")
    __table_args__ = (
        Index(named("ix", "stored_addresses_order"), "mailing_list_id", "person_id", "position"),
        Index(named("ix", "stored_addresses_name"), "mailing_list_id", *NAME_ORDER, "email"),
    )

    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    person_id: Mapped[int]
    is_primary: Mapped[bool]
    position: Mapped[int]
    via: Mapped[int]


install_with_table(StoredAddress.__table__, install_address_index, drop_address_index)


def recipients_version(session: Session) -> int | None:
    return session.scalar(
        select(RecipientsVersion.version).where(RecipientsVersion.id == VERSION_ROW)
    )


def trigger_name(table: str, kind: str) -> str:
    return f"{TABLE_PREFIX}{table}_{kind}_recipients_version"


def bump_sql() -> str:
    """The version goes up by one, its row created on first use."""
    versions = table_name("recipients_version")
    return (
        f"INSERT INTO {versions} (id, version) VALUES ({VERSION_ROW}, 1) "
        f"ON CONFLICT (id) DO UPDATE SET version = {versions}.version + 1"
    )


def events(columns: tuple[str, ...] | None) -> list[tuple[str, str]]:
    """(name, SQL event) per trigger of a table: inserts, deletes, and the updates that
    matter (`UPDATE OF` its columns)."""
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    return [("insert", "INSERT"), ("delete", "DELETE"), ("update", update)]


def postgresql_statements() -> list[str]:
    """One function, and per table one trigger per statement. The function bumps once per
    transaction (a transaction-local setting remembers it): PostgreSQL keeps every version
    of an updated row until the transaction ends, so an import writing a million people
    statement by statement would otherwise pile a million versions of the one row, each
    bump slower than the last. Once is enough: the changes and the bump become visible
    together, at commit."""
    bumped = f"{BUMP_FUNCTION}.bumped"
    statements = [
        f"CREATE OR REPLACE FUNCTION {BUMP_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF current_setting('{bumped}', true) = txid_current()::text THEN RETURN NULL; "
        f"END IF; PERFORM set_config('{bumped}', txid_current()::text, true); {bump_sql()}; "
        "RETURN NULL; END $$"
    ]
    for table, columns in WATCHED.items():
        when = " OR ".join(sql for _kind, sql in events(columns))
        name = trigger_name(table, "change")
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON {table_name(table)}",
            f"CREATE TRIGGER {name} AFTER {when} OR TRUNCATE ON {table_name(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {BUMP_FUNCTION}()",
        ]
    return statements


def sqlite_statements() -> list[str]:
    """SQLite has row triggers only: a bump per row changed, about a microsecond each."""
    return [
        f"CREATE TRIGGER IF NOT EXISTS {trigger_name(table, kind)} AFTER {sql} "
        f"ON {table_name(table)} BEGIN {bump_sql()}; END"
        for table, columns in WATCHED.items()
        for kind, sql in events(columns)
    ]


def install_version_triggers(connection: Connection) -> None:
    """The triggers, and the version's row: without it no stored resolution holds."""
    statements = (
        postgresql_statements() if connection.dialect.name == "postgresql" else sqlite_statements()
    )
    for statement in [*statements, bump_sql()]:
        connection.exec_driver_sql(statement)


def drop_version_triggers(connection: Connection) -> None:
    """The triggers go with their tables; PostgreSQL's function outlives them."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {BUMP_FUNCTION}() CASCADE")
        return
    for table, columns in WATCHED.items():
        for kind, _sql in events(columns):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger_name(table, kind)}")


def install_with_metadata(metadata: MetaData) -> None:
    """`metadata.create_all` installs the triggers once every table exists, as the
    migration does."""

    def created(_target: MetaData, connection: Connection, **_kw: Any) -> None:
        install_version_triggers(connection)

    event.listen(metadata, "after_create", created)


install_with_metadata(Base.metadata)
