"""Importing people from a spreadsheet (CSV): check the whole file, then write it at once.

A half-imported file is worse than none (the user cannot tell which rows made it), so the
importer reads and checks every row first and writes nothing unless all rows are good.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from mcbridge.emails import email_problem, normalize_email
from mcbridge.models import AdditionalEmail, Group, Person, Role, RoleType

REQUIRED_COLUMNS = ("group", "role_type")
NAME_COLUMNS = ("first_name", "last_name")
KNOWN_COLUMNS = (*NAME_COLUMNS, "email", "additional_emails", *REQUIRED_COLUMNS)
GROUP_SEPARATOR = "/"


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return gettext("line %(line)d: %(message)s", line=self.line, message=self.message)


class ImportRejectedError(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Row:
    line: int
    first_name: str | None
    last_name: str | None
    email: str | None
    additional_emails: list[str]
    group_path: list[str]
    role_type: str


@dataclass
class Report:
    people_created: int = 0
    people_matched: int = 0
    roles_created: int = 0
    emails_added: int = 0
    groups_created: int = 0


@dataclass
class Plan:
    """What the rows refer to in the database, found once before anything is written."""

    groups: dict[tuple[str, ...], Group | None] = field(default_factory=dict)
    role_types: dict[str, RoleType] = field(default_factory=dict)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or, as spreadsheet programs on Windows save, Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def read_rows(text: str) -> tuple[list[Row], list[Problem]]:
    """Rows with their line numbers, and every problem that needs no database to find."""
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header_problems = check_header(reader.fieldnames)
    if header_problems:
        return [], header_problems
    rows: list[Row] = []
    problems: list[Problem] = []
    for record in reader:
        row, row_problems = parse_record(reader.line_num, record)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(Problem(1, gettext("the file has no rows to import.")))
    return rows, problems


def check_header(fieldnames: Iterable[str] | None) -> list[Problem]:
    columns = {name.strip().lower() for name in fieldnames or ()}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if not columns & set(NAME_COLUMNS):
        missing.append(" / ".join(NAME_COLUMNS))
    if not missing:
        return []
    return [
        Problem(
            1,
            gettext(
                "missing column(s): %(missing)s. Expected columns: %(expected)s.",
                missing=", ".join(missing),
                expected=", ".join(KNOWN_COLUMNS),
            ),
        )
    ]


def cell(record: dict[str | None, str | None], name: str) -> str | None:
    for key, value in record.items():
        if key is not None and key.strip().lower() == name:
            cleaned = (value or "").strip()
            return cleaned or None
    return None


def parse_record(
    line: int, record: dict[str | None, str | None]
) -> tuple[Row | None, list[Problem]]:
    problems: list[Problem] = []
    first_name, last_name = cell(record, "first_name"), cell(record, "last_name")
    if not first_name and not last_name:
        problems.append(Problem(line, gettext("a first or last name is required.")))
    email = normalize_email(cell(record, "email"))
    additional = [
        normalize_email(part)
        for part in re.split(r"[;,\s]+", cell(record, "additional_emails") or "")
    ]
    addresses = [email] if email else []
    for address in [*addresses, *filter(None, additional)]:
        problem = email_problem(address)
        if problem:
            problems.append(
                Problem(
                    line, gettext("“%(address)s”: %(problem)s", address=address, problem=problem)
                )
            )
    group = [part.strip() for part in (cell(record, "group") or "").split(GROUP_SEPARATOR)]
    if not all(group):
        problems.append(
            Problem(
                line,
                gettext(
                    "the group path “%(path)s” is incomplete.", path=cell(record, "group") or ""
                ),
            )
        )
    role_type = cell(record, "role_type")
    if not role_type:
        problems.append(Problem(line, gettext("a role type is required.")))
    if problems:
        return None, problems
    return (
        Row(
            line, first_name, last_name, email, [a for a in additional if a], group, role_type or ""
        ),
        [],
    )


class AmbiguousGroupError(Exception):
    """Two groups with the same name under one parent: the path does not say which."""


def find_group(session: Session, path: list[str]) -> Group | None:
    """The group at `path`, names compared without case; None when a step does not exist."""
    parent: Group | None = None
    for name in path:
        at_level = Group.parent_id.is_(None) if parent is None else Group.parent_id == parent.id
        siblings = session.scalars(select(Group).where(at_level)).all()
        matches = [group for group in siblings if group.name.casefold() == name.casefold()]
        if len(matches) > 1:
            raise AmbiguousGroupError(name)
        if not matches:
            return None
        parent = matches[0]
    return parent


def check_references(
    session: Session, rows: list[Row], create_groups: bool
) -> tuple[Plan, list[Problem]]:
    """Look up every group and role type the rows name, and cross-check rows sharing an address."""
    plan = Plan()
    problems: list[Problem] = []
    known_types = {
        role_type.name.casefold(): role_type for role_type in session.scalars(select(RoleType))
    }
    names_by_email: dict[str, tuple[int, tuple[str | None, str | None]]] = {}
    for row in rows:
        role_type = known_types.get(row.role_type.casefold())
        if role_type is None:
            problems.append(
                Problem(
                    row.line,
                    gettext(
                        "unknown role type “%(name)s” (known: %(known)s).",
                        name=row.role_type,
                        known=", ".join(sorted(t.name for t in known_types.values())) or "—",
                    ),
                )
            )
        else:
            plan.role_types[row.role_type.casefold()] = role_type
        problems.extend(plan_group(session, plan, row, create_groups))
        if row.email:
            name = (row.first_name, row.last_name)
            first_line, first_name = names_by_email.setdefault(row.email, (row.line, name))
            if first_name != name:
                problems.append(
                    Problem(
                        row.line,
                        gettext(
                            "%(email)s is also on line %(other)d with another name.",
                            email=row.email,
                            other=first_line,
                        ),
                    )
                )
    return plan, problems


def plan_group(session: Session, plan: Plan, row: Row, create_groups: bool) -> list[Problem]:
    key = tuple(part.casefold() for part in row.group_path)
    if key in plan.groups:
        return []
    path_text = GROUP_SEPARATOR.join(row.group_path)
    try:
        plan.groups[key] = find_group(session, row.group_path)
    except AmbiguousGroupError as error:
        return [
            Problem(
                row.line,
                gettext("more than one group is called “%(name)s” there.", name=str(error)),
            )
        ]
    if plan.groups[key] is None and not create_groups:
        return [
            Problem(
                row.line,
                gettext(
                    "no group “%(path)s” (create it first, or import with --create-groups).",
                    path=path_text,
                ),
            )
        ]
    return []


def ensure_group(session: Session, plan: Plan, path: list[str], report: Report) -> Group:
    """The planned group, creating the missing end of its path (only with --create-groups)."""
    key = tuple(part.casefold() for part in path)
    existing = plan.groups.get(key)
    if existing is not None:
        return existing
    parent = ensure_group(session, plan, path[:-1], report) if len(path) > 1 else None
    group = find_group(session, path) or Group(name=path[-1], parent=parent)
    if group.id is None:
        session.add(group)
        session.flush()
        report.groups_created += 1
    plan.groups[key] = group
    return group


def existing_people(session: Session, emails: set[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    ordered = sorted(emails)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for person in session.scalars(
            select(Person).where(Person.email.in_(chunk)).order_by(Person.id.desc())
        ):
            found[person.email] = person
    return found


def apply_rows(session: Session, rows: list[Row], plan: Plan) -> Report:
    report = Report()
    people = existing_people(session, {row.email for row in rows if row.email})
    report.people_matched = len(people)
    for row in rows:
        person = people.get(row.email) if row.email else None
        if person is None:
            person = Person(first_name=row.first_name, last_name=row.last_name, email=row.email)
            session.add(person)
            report.people_created += 1
            if row.email:
                people[row.email] = person
        report.emails_added += add_addresses(person, row.additional_emails)
        group = ensure_group(session, plan, row.group_path, report)
        role_type = plan.role_types[row.role_type.casefold()]
        if not holds_role(person, group, role_type):
            person.roles.append(Role(group=group, role_type=role_type))
            report.roles_created += 1
    return report


def add_addresses(person: Person, addresses: list[str]) -> int:
    known = {person.email, *(extra.email for extra in person.additional_emails)}
    added = 0
    for address in addresses:
        if address not in known:
            person.additional_emails.append(AdditionalEmail(email=address, mailings=True))
            known.add(address)
            added += 1
    return added


def holds_role(person: Person, group: Group, role_type: RoleType) -> bool:
    today = date.today()
    return any(
        role.group is group and role.role_type is role_type and role.is_active(today)
        for role in person.roles
    )


def import_people(session: Session, data: bytes, create_groups: bool = False) -> Report:
    """Import a whole file in one transaction, or raise ImportRejectedError with every problem."""
    try:
        text = decode(data)
    except UnicodeDecodeError:
        raise ImportRejectedError(
            [Problem(1, gettext("the file is neither UTF-8 nor Windows-1252 text."))]
        ) from None
    rows, problems = read_rows(text)
    plan, reference_problems = (
        check_references(session, rows, create_groups) if rows else (Plan(), [])
    )
    problems = sorted([*problems, *reference_problems], key=lambda problem: problem.line)
    if problems:
        session.rollback()
        raise ImportRejectedError(problems)
    try:
        report = apply_rows(session, rows, plan)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


__all__ = ["ImportRejectedError", "Problem", "Report", "import_people"]
