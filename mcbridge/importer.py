"""Importing people from a spreadsheet (CSV): check the whole file, then write it at once.

A half-imported file is worse than none (the user cannot tell which rows made it), so the
importer reads and checks every row first and writes nothing unless all rows are good.

It streams, so that memory does not grow with the file: lines are read, decoded and checked
one at a time; good rows and problems go to a private SQLite file (the staging) rather than
memory; the checks across rows (an address on two lines with two names) run there in SQL;
and the writing reads the staging back in chunks, flushing each. Limits on each cell, row
and the whole file keep a wrong file from running away, each problem with its line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Any

from flask_babel import format_number, gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mcbridge import clock
from mcbridge.emails import email_problem, normalize_email
from mcbridge.models import LANGUAGES, AdditionalEmail, Group, Person, Role, RoleType

REQUIRED_COLUMNS = ("group", "role_type")
NAME_COLUMNS = ("first_name", "last_name")
KNOWN_COLUMNS = (*NAME_COLUMNS, "email", "additional_emails", "language", *REQUIRED_COLUMNS)
# A language may be given by its code or its name in any of mcbridge's own languages
# (English, French, German), whichever the file's author wrote it in.
LANGUAGE_NAMES = {
    "de": ("german", "allemand", "deutsch"),
    "fr": ("french", "français", "francais", "französisch", "franzoesisch"),
    "it": ("italian", "italien", "italienisch"),
    "en": ("english", "anglais", "englisch"),
}
REGIONAL_CODE = re.compile(r"([a-z]{2})[-_][a-z]{2}")
LANGUAGE_OF = {name: code for code in LANGUAGES for name in (code, *LANGUAGE_NAMES[code])}
GROUP_SEPARATOR = "/"
# The longest value each column's database field holds: longer is a problem of its line,
# not an error of the database (PostgreSQL refuses it) halfway through the writing.
COLUMN_LENGTHS = {
    "first_name": Person.__table__.c.first_name.type.length,
    "last_name": Person.__table__.c.last_name.type.length,
    "email": Person.__table__.c.email.type.length,
    "role_type": RoleType.__table__.c.name.type.length,
}
GROUP_NAME_LENGTH = Group.__table__.c.name.type.length
CHUNK = 500  # rows written (and addresses looked up) at a time
SNIFF_CHARS = 4096  # what the csv sniffer reads to tell the delimiter
LISTED_PROBLEMS = 100  # a rejected file lists this many problems, then counts the rest
UTF8, CP1252 = "utf-8", "cp1252"


@dataclass(frozen=True)
class Limits:
    """How much one import reads."""

    cell_chars: int = 10_000
    # A row may span lines (a quoted cell): the csv module raises a bare error beyond
    # 131,072 characters, and a quotation mark left open makes the rest of the file one cell.
    row_chars: int = 100_000
    file_megabytes: int = 50


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return gettext("line %(line)d: %(message)s", line=self.line, message=self.message)


class ImportRejectedError(Exception):
    """The file has problems; nothing was written. `problems` are the first by line,
    `total` how many there are."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        super().__init__(f"{total} problem(s)")
        self.problems = problems
        self.total = total


class StopReadingError(Exception):
    """A problem after which the rest of the file cannot be read sensibly."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Row:
    line: int
    first_name: str | None
    last_name: str | None
    email: str | None
    additional_emails: list[str]
    group_path: list[str]
    role_type: str
    language: str | None = None


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


def row_too_long(line: int, limits: Limits) -> StopReadingError:
    return StopReadingError(
        Problem(
            line,
            gettext(
                "the row is longer than %(limit)s characters (a quotation mark left open?); "
                "nothing after it was read.",
                limit=format_number(limits.row_chars),
            ),
        )
    )


def garbled(text: str) -> bool:
    """Signs of text converted with a wrong encoding before it got here: a replacement
    character, C1 control characters (Windows-1252 read as Latin-1), or "Ã©" where "é" was
    (UTF-8 read as Windows-1252, then saved as UTF-8 again)."""
    if "\ufffd" in text or re.search("[\x80-\x9f]", text):
        return True
    return any(double_encoded(run) for run in re.findall(r"[^\x00-\x7f]+", text))


def double_encoded(run: str) -> bool:
    """Whether non-ASCII characters are the Windows-1252 reading of UTF-8 bytes that spell
    Latin letters or punctuation; real names do not decode so ("ß–" spells no letter)."""
    try:
        repaired = run.encode(CP1252).decode(UTF8)
    except UnicodeError:
        return False
    return all(char <= "\u024f" or "\u2000" <= char <= "\u20cf" for char in repaired)


class TextLines:
    """The file's lines as text, each checked on its way to the csv reader: the file's size,
    the line's length, NUL bytes, and text that is not in the file's one encoding or that a
    wrong conversion garbled. A line's problems go to `report`; StopReadingError ends it.

    The encoding is UTF-8 (with or without BOM) or, as spreadsheet programs on Windows save,
    Windows-1252; it is known from the first line beyond ASCII.
    """

    def __init__(self, source: IO[bytes], limits: Limits, report: Callable[[Problem], None]):
        self.source = source
        self.limits = limits
        self.report = report
        self.line = 0
        self.size = 0
        self.encoding: str | None = None

    def __iter__(self) -> Iterator[str]:
        longest = 4 * self.limits.row_chars + 1  # in bytes: UTF-8 takes 4 at most a character
        while raw := self.source.readline(longest):
            self.line += 1
            self.size += len(raw)
            if self.size > self.limits.file_megabytes * 1024 * 1024:
                raise StopReadingError(Problem(self.line, self.too_large()))
            if len(raw) == longest:
                raise row_too_long(self.line, self.limits)
            yield self.decode(self.without_bom(raw) if self.line == 1 else raw)

    def too_large(self) -> str:
        return gettext(
            "the file is larger than %(size)s MB; split it into smaller files.",
            size=format_number(self.limits.file_megabytes),
        )

    def without_bom(self, raw: bytes) -> bytes:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            message = gettext("the file is UTF-16 text; save it as “CSV UTF-8” instead.")
            raise StopReadingError(Problem(1, message))
        if raw.startswith(codecs.BOM_UTF8):
            self.encoding = UTF8
            return raw.removeprefix(codecs.BOM_UTF8)
        return raw

    def decode(self, raw: bytes) -> str:
        if b"\x00" in raw:
            self.problem(gettext("the line holds a NUL byte: is this really a CSV file?"))
            raw = raw.replace(b"\x00", b"")
        try:
            text = raw.decode(UTF8)
        except UnicodeDecodeError:
            return self.not_utf8(raw)
        if not text.isascii():
            self.check_utf8(text)
        return text

    def not_utf8(self, raw: bytes) -> str:
        """A line that is not UTF-8: the file is Windows-1252 when no line before was UTF-8
        beyond ASCII, else it mixes two encodings."""
        if self.encoding == UTF8:
            self.problem(
                gettext(
                    "the line is not UTF-8 text like the lines before it; save the file again "
                    "as “CSV UTF-8”."
                )
            )
            return raw.decode(UTF8, errors="replace")
        self.encoding = CP1252
        try:
            return raw.decode(CP1252)
        except UnicodeDecodeError:
            self.problem(gettext("the line is neither UTF-8 nor Windows-1252 text."))
            return raw.decode(CP1252, errors="replace")

    def check_utf8(self, text: str) -> None:
        if self.encoding == CP1252:
            self.problem(
                gettext(
                    "the line is UTF-8 text, unlike the Windows-1252 lines before it; save "
                    "the file again as “CSV UTF-8”."
                )
            )
        elif garbled(text):
            self.problem(
                gettext(
                    "the text looks garbled by a wrong conversion (such as “Ã©” for “é”); "
                    "correct it, or export the file again as “CSV UTF-8”."
                )
            )
        else:
            self.encoding = UTF8

    def problem(self, message: str) -> None:
        self.report(Problem(self.line, message))


class RowGuard:
    """Lines for the csv reader, refusing a row longer than the limit (see Limits)."""

    def __init__(self, lines: Iterable[str], limits: Limits) -> None:
        self.lines = lines
        self.limits = limits
        self.line = 0
        self.chars = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.line += 1
            self.chars += len(line)
            if self.chars > self.limits.row_chars:
                raise row_too_long(self.line, self.limits)
            yield line

    def row_done(self) -> None:
        self.chars = 0


class Staging:
    """One import's checked rows and problems, in a private SQLite file instead of memory;
    the checks across rows are queries on it."""

    def __init__(self, directory: str) -> None:
        self.db = sqlite3.connect(Path(directory) / "staging.sqlite3")
        self.db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE rows (
                line INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT,
                additional_emails TEXT, group_path TEXT, group_key TEXT,
                role_type TEXT, role_type_key TEXT, language TEXT
            );
            CREATE INDEX rows_email ON rows (email);
            CREATE TABLE problems (id INTEGER PRIMARY KEY, line INTEGER, message TEXT);
            """
        )
        self.pending: list[tuple[Any, ...]] = []

    def close(self) -> None:
        self.db.close()

    def add_row(self, row: Row) -> None:
        self.pending.append(
            (
                row.line,
                row.first_name,
                row.last_name,
                row.email,
                "\n".join(row.additional_emails),
                GROUP_SEPARATOR.join(row.group_path),
                group_key(row.group_path),
                row.role_type,
                row.role_type.casefold(),
                row.language,
            )
        )
        if len(self.pending) >= CHUNK:
            self.write_pending()

    def write_pending(self) -> None:
        self.db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.pending)
        self.pending.clear()

    def add_problem(self, problem: Problem) -> None:
        self.db.execute(
            "INSERT INTO problems (line, message) VALUES (?, ?)", (problem.line, problem.message)
        )

    def add_problem_to_rows(self, role_type: str, message: str) -> None:
        """The same problem for every row naming this role type, however many."""
        self.db.execute(
            "INSERT INTO problems (line, message) SELECT line, ? FROM rows WHERE role_type = ?",
            (message, role_type),
        )

    def row_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM rows").fetchone()[0]

    def problem_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM problems").fetchone()[0]

    def first_problems(self, limit: int) -> list[Problem]:
        rows = self.db.execute(
            "SELECT line, message FROM problems ORDER BY line, id LIMIT ?", (limit,)
        )
        return [Problem(line, message) for line, message in rows]

    def role_types(self) -> list[tuple[str, str]]:
        """Each role type the rows name, as spelled, with its key (the name without case)."""
        return self.db.execute("SELECT DISTINCT role_type, role_type_key FROM rows").fetchall()

    def group_paths(self) -> list[tuple[int, list[str]]]:
        """Each group the rows name (by path, without case), with the first line naming it."""
        rows = self.db.execute(
            "SELECT min(line), group_path FROM rows GROUP BY group_key ORDER BY min(line)"
        )
        return [(line, path.split(GROUP_SEPARATOR)) for line, path in rows]

    def email_conflicts(self) -> Iterator[tuple[int, str, int]]:
        """Rows giving an address another name than its first row does: line, address, and
        the first row's line (read as they come: there may be many)."""
        return self.db.execute(
            """
            SELECT later.line, later.email, first.line
            FROM rows AS later
            JOIN (SELECT email, min(line) AS line FROM rows WHERE email IS NOT NULL
                  GROUP BY email) AS firsts ON firsts.email = later.email
            JOIN rows AS first ON first.line = firsts.line
            WHERE later.line > first.line
              AND (later.first_name IS NOT first.first_name
                   OR later.last_name IS NOT first.last_name)
            ORDER BY later.line
            """
        )

    def language_conflicts(self) -> Iterator[tuple[int, str, int]]:
        """Rows giving an address another language than the first row that gives it one:
        line, address, and that first row's line."""
        return self.db.execute(
            """
            SELECT later.line, later.email, first.line
            FROM rows AS later
            JOIN (SELECT email, min(line) AS line FROM rows
                  WHERE email IS NOT NULL AND language IS NOT NULL
                  GROUP BY email) AS firsts ON firsts.email = later.email
            JOIN rows AS first ON first.line = firsts.line
            WHERE later.line > first.line AND later.language <> first.language
            ORDER BY later.line
            """
        )

    def emails(self) -> Iterator[list[str]]:
        """Every distinct address of the rows, in chunks."""
        rows = self.db.execute(
            "SELECT DISTINCT email FROM rows WHERE email IS NOT NULL ORDER BY email"
        )
        while chunk := rows.fetchmany(CHUNK):
            yield [email for (email,) in chunk]

    def rows(self) -> Iterator[list[Row]]:
        """The rows in the file's order, in chunks."""
        last = 0
        query = "SELECT * FROM rows WHERE line > ? ORDER BY line LIMIT ?"
        while chunk := self.db.execute(query, (last, CHUNK)).fetchall():
            yield [staged_row(values) for values in chunk]
            last = chunk[-1][0]


def staged_row(values: tuple[Any, ...]) -> Row:
    line, first_name, last_name, email, additional, path, _key, role_type, _type_key, language = (
        values
    )
    return Row(
        line,
        first_name,
        last_name,
        email,
        additional.split("\n") if additional else [],
        path.split(GROUP_SEPARATOR),
        role_type,
        language,
    )


def group_key(path: list[str]) -> str:
    return GROUP_SEPARATOR.join(part.casefold() for part in path)


def stage_file(source: IO[bytes], staging: Staging, limits: Limits) -> None:
    """Read and check every row into the staging, with every problem that needs no database
    to find; a problem that stops the reading is the last one."""
    try:
        stage_rows(TextLines(source, limits, staging.add_problem), staging, limits)
    except StopReadingError as stopped:
        staging.add_problem(stopped.problem)
    staging.write_pending()
    if not staging.row_count() and not staging.problem_count():
        staging.add_problem(Problem(1, gettext("the file has no rows to import.")))


def stage_rows(lines: Iterable[str], staging: Staging, limits: Limits) -> None:
    remaining = iter(lines)
    head = sample(remaining)
    guard = RowGuard(chain(head, remaining), limits)
    reader = csv.DictReader(guard, dialect=sniff("".join(head)))
    header_problems = check_header(reader.fieldnames)
    if header_problems:
        for problem in header_problems:
            staging.add_problem(problem)
        return
    guard.row_done()
    for record in reader:
        guard.row_done()
        row, problems = parse_record(reader.line_num, record, limits)
        for problem in problems:
            staging.add_problem(problem)
        if row is not None:
            staging.add_row(row)


def sample(lines: Iterator[str]) -> list[str]:
    """The first lines, enough for the sniffer; the reader gets them back first."""
    head: list[str] = []
    size = 0
    for line in lines:
        head.append(line)
        size += len(line)
        if size >= SNIFF_CHARS:
            break
    return head


def sniff(sample_text: str) -> type[csv.Dialect] | csv.Dialect:
    """Commas, semicolons (spreadsheets in French or German) or tabs."""
    try:
        return csv.Sniffer().sniff(sample_text[:SNIFF_CHARS], delimiters=",;\t")
    except csv.Error:
        return csv.excel


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


def cell(record: dict[str | None, Any], name: str) -> str | None:
    for key, value in record.items():
        if key is not None and key.strip().lower() == name:
            cleaned = (value or "").strip()
            return cleaned or None
    return None


def oversized_cells(line: int, record: dict[str | None, Any], limits: Limits) -> list[Problem]:
    """Any cell beyond the limit (the columns not imported too: cells beyond the header's
    come as a list), then each imported value longer than its database field."""
    values = [
        value
        for cells in record.values()
        for value in (cells if isinstance(cells, list) else [cells])
        if value
    ]
    if any(len(value) > limits.cell_chars for value in values):
        limit = format_number(limits.cell_chars)
        return [Problem(line, gettext("a cell is longer than %(limit)s characters.", limit=limit))]
    return [
        Problem(
            line,
            gettext(
                "the %(column)s is longer than %(limit)d characters.", column=name, limit=length
            ),
        )
        for name, length in COLUMN_LENGTHS.items()
        if len(cell(record, name) or "") > length
    ]


def parse_record(
    line: int, record: dict[str | None, Any], limits: Limits
) -> tuple[Row | None, list[Problem]]:
    problems = oversized_cells(line, record, limits)
    if problems:
        return None, problems
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
    problems.extend(group_path_problems(line, group, cell(record, "group") or ""))
    role_type = cell(record, "role_type")
    if not role_type:
        problems.append(Problem(line, gettext("a role type is required.")))
    language, language_problem = language_code(cell(record, "language"))
    if language_problem:
        problems.append(Problem(line, language_problem))
    if problems:
        return None, problems
    return (
        Row(
            line,
            first_name,
            last_name,
            email,
            [a for a in additional if a],
            group,
            role_type or "",
            language,
        ),
        [],
    )


def language_code(text: str | None) -> tuple[str | None, str | None]:
    """(code, problem) of a language cell: a code (a region, as in “de-CH”, is dropped) or
    a name in English, French or German; anything else is a problem naming what is known."""
    if not text:
        return None, None
    key = text.casefold()
    regional = REGIONAL_CODE.fullmatch(key)
    code = LANGUAGE_OF.get(regional.group(1) if regional else key)
    if code is not None:
        return code, None
    return None, gettext(
        "unknown language “%(value)s” (known: %(known)s, or their names in English, French "
        "or German).",
        value=text,
        known=", ".join(LANGUAGES),
    )


def group_path_problems(line: int, path: list[str], text: str) -> list[Problem]:
    if not all(path):
        return [Problem(line, gettext("the group path “%(path)s” is incomplete.", path=text))]
    return [
        Problem(
            line,
            gettext(
                "the group name “%(name)s” is longer than %(limit)d characters.",
                name=name,
                limit=GROUP_NAME_LENGTH,
            ),
        )
        for name in path
        if len(name) > GROUP_NAME_LENGTH
    ]


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


def check_references(session: Session, staging: Staging, create_groups: bool) -> Plan:
    """Look up every group and role type the rows name, and cross-check rows sharing an
    address; the problems go to the staging."""
    plan = Plan()
    known_types = {
        role_type.name.casefold(): role_type for role_type in session.scalars(select(RoleType))
    }
    known = ", ".join(sorted(role_type.name for role_type in known_types.values())) or "—"
    for name, key in staging.role_types():
        if key in known_types:
            plan.role_types[key] = known_types[key]
        else:
            staging.add_problem_to_rows(
                name,
                gettext("unknown role type “%(name)s” (known: %(known)s).", name=name, known=known),
            )
    for line, path in staging.group_paths():
        problem = plan_group(session, plan, line, path, create_groups)
        if problem is not None:
            staging.add_problem(problem)
    for line, email, first_line in staging.email_conflicts():
        staging.add_problem(
            Problem(
                line,
                gettext(
                    "%(email)s is also on line %(other)d with another name.",
                    email=email,
                    other=first_line,
                ),
            )
        )
    for line, email, first_line in staging.language_conflicts():
        staging.add_problem(
            Problem(
                line,
                gettext(
                    "%(email)s is also on line %(other)d with another language.",
                    email=email,
                    other=first_line,
                ),
            )
        )
    return plan


def plan_group(
    session: Session, plan: Plan, line: int, path: list[str], create_groups: bool
) -> Problem | None:
    key = tuple(part.casefold() for part in path)
    try:
        plan.groups[key] = find_group(session, path)
    except AmbiguousGroupError as error:
        return Problem(
            line, gettext("more than one group is called “%(name)s” there.", name=str(error))
        )
    if plan.groups[key] is None and not create_groups:
        return Problem(
            line,
            gettext(
                "no group “%(path)s” (create it first, or import with --create-groups).",
                path=GROUP_SEPARATOR.join(path),
            ),
        )
    return None


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
    """People already holding these addresses (created by an earlier chunk too), with their
    roles and addresses, which the rows are compared with."""
    found: dict[str, Person] = {}
    for person in session.scalars(
        select(Person)
        .where(Person.email.in_(sorted(emails)))
        .order_by(Person.id.desc())
        .options(selectinload(Person.roles), selectinload(Person.additional_emails))
    ):
        found[person.email] = person
    return found


def known_people(session: Session, staging: Staging) -> int:
    """How many of the file's addresses belong to someone already, before anything is written."""
    return sum(
        session.scalar(
            select(func.count(func.distinct(Person.email))).where(Person.email.in_(chunk))
        )
        or 0
        for chunk in staging.emails()
    )


def apply_rows(session: Session, staging: Staging, plan: Plan) -> Report:
    """Write the staged rows chunk by chunk; each chunk is flushed, so that the session does
    not hold the whole file (one transaction still: the caller commits)."""
    report = Report(people_matched=known_people(session, staging))
    for rows in staging.rows():
        apply_chunk(session, rows, plan, report)
        session.flush()
    return report


def apply_chunk(session: Session, rows: list[Row], plan: Plan, report: Report) -> None:
    people = existing_people(session, {row.email for row in rows if row.email})
    for row in rows:
        person = people.get(row.email) if row.email else None
        if person is None:
            person = Person(first_name=row.first_name, last_name=row.last_name, email=row.email)
            session.add(person)
            report.people_created += 1
            if row.email:
                people[row.email] = person
        if row.language:
            person.language = row.language
        report.emails_added += add_addresses(person, row.additional_emails)
        group = ensure_group(session, plan, row.group_path, report)
        role_type = plan.role_types[row.role_type.casefold()]
        if not holds_role(person, group, role_type):
            # By ids: a group's own list of roles would keep every person of the file alive.
            person.roles.append(Role(group_id=group.id, role_type_id=role_type.id))
            report.roles_created += 1


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
    today = clock.today()
    return any(
        role.group_id == group.id and role.role_type_id == role_type.id and role.is_active(today)
        for role in person.roles
    )


def import_people(
    session: Session,
    source: bytes | IO[bytes],
    create_groups: bool = False,
    limits: Limits = Limits(),
) -> Report:
    """Import a whole file in one transaction, or raise ImportRejectedError with its problems."""
    binary = io.BytesIO(source) if isinstance(source, bytes) else source
    with (
        tempfile.TemporaryDirectory(prefix="mcbridge-import-") as directory,
        closing(Staging(directory)) as staging,
    ):
        stage_file(binary, staging, limits)
        plan = check_references(session, staging, create_groups)
        if staging.problem_count():
            session.rollback()
            raise ImportRejectedError(
                staging.first_problems(LISTED_PROBLEMS), staging.problem_count()
            )
        try:
            with planned_as_tables_grow(session):
                report = apply_rows(session, staging, plan)
            session.commit()
        except Exception:
            session.rollback()
            raise
    return report


@contextmanager
def planned_as_tables_grow(session: Session) -> Iterator[None]:
    """psycopg prepares a statement run five times, and PostgreSQL may then keep the plan it
    made while the people table was small: looking people up by address, chunk after chunk
    of a first large import, would scan the whole table each time (50,000 rows: 38 s
    instead of 1 s). While the import writes, each statement is planned afresh."""
    if session.get_bind().dialect.driver != "psycopg":
        yield
        return
    driver = session.connection().connection.driver_connection
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


__all__ = ["ImportRejectedError", "Limits", "Problem", "Report", "import_people"]
