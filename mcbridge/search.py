"""People search, the one definition behind the People list, the person picker and a
list's subscriber view: every typed word, in any order, found in the person's first name,
last name, nickname, main address or company, without case as the database lowers it
(accents stay: "müller" finds "Müller", not "Muller"); `%` and `_` are letters.

So the full name a page shows ("Marie Baumann", "baumann mar") finds its person. The
database's own index makes it fast among a million people (mcbridge.models.search_index):
PostgreSQL's trigram index serves the LIKE on `search_document` directly; SQLite's FTS5
trigram table answers the words of three letters or more, and shorter words, which no
trigram can hold, are looked for by the same LIKE, row by row.

A page of matches in name order is sorted from the matches (`match_order`) when the index
finds them and they are not met at once in name order (`sorted_from_matches`): walking
the name index and testing each row costs as much as the rows before the first match, and
a name searched for is where the index sorts it ("muller": half of a million rows
walked, 415 ms, against 110 ms from the index's matches). A subscriber view sorted by
name or address decides the same way, over the first addresses in its order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)

from mcbridge.extensions import db
from mcbridge.models import Person
from mcbridge.models.people import by_name
from mcbridge.models.search_index import (
    FTS_TABLE,
    SEARCHED_COLUMNS,
    TRIGRAM_INDEX,
    search_document,
)

SEARCHED = tuple(getattr(Person, name) for name in SEARCHED_COLUMNS)
TRIGRAM = 3
WALKED_AHEAD = 2_000  # names looked at to tell whether walking them finds a page at once
WALKED_PAGE = 50  # a page of the People list
INDEX_READY = "mcbridge_search_index_ready"  # in the session's info


def person_search(term: str) -> list[ColumnElement[bool]]:
    """The conditions a person (row) meets when found by `term`: one per word, or one for
    all the words an FTS5 table answers together."""
    words = term.split()
    indexed = fts_words(words)
    found = [Person.id.in_(fts_rows(indexed))] if indexed else []
    return found + [
        word_in(search_document(SEARCHED), word) for word in words if word not in indexed
    ]


def found_ids(term: str) -> Select:
    """The ids of the people `term` finds. Where an FTS5 table answers every word, its own
    rows, without a look at the people table: looking up each of the 100,382 people
    "marie" finds there cost 65 ms of each subscriber view statement on SQLite."""
    words = term.split()
    indexed = fts_words(words)
    if indexed and len(indexed) == len(words):
        return fts_rows(indexed)
    return select(Person.id).where(*person_search(term))


def fts_words(words: list[str]) -> list[str]:
    """The words an FTS5 trigram table answers: none without the table, and none shorter
    than a trigram."""
    return [word for word in words if len(word) >= TRIGRAM] if fts_ready() else []


def address_search(term: str, address: ColumnElement[str]) -> list[ColumnElement[bool]]:
    """The conditions an address meets when it holds every word of `term`."""
    return [word_in(func.lower(address), word) for word in term.split()]


def word_in(lowered: ColumnElement[str], word: str) -> ColumnElement[bool]:
    """One word in a text the database lowered, the word lowered the same way."""
    return lowered.like(func.lower(literal(like_pattern(word))), escape="\\")


def like_pattern(word: str) -> str:
    """The word anywhere, as typed: its `%`, `_` and `\\` escaped."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def sorted_from_matches(term: str, walked: Select | None = None, wanted: int = WALKED_PAGE) -> bool:
    """Whether a page of `term`'s matches in a page's order is better sorted from the
    matches the index finds than found by walking that order: when the index finds every
    word (three letters or more, on a database that has the index) and the first rows in
    order (`walked`, the People list's name order unless given) hold fewer than the
    `wanted` matches that end the page. A word in most addresses (".ch") is met at once by
    walking, and sorting its million matches cost 0.4-0.8 s."""
    words = term.split()
    if not words or any(len(word) < TRIGRAM for word in words) or not index_ready():
        return False
    return matches_ahead(words, people_by_name() if walked is None else walked) < wanted


def people_by_name() -> Select:
    """The searched columns of the first people in name order, as the People list walks."""
    return select(*SEARCHED).order_by(*by_name()).limit(WALKED_AHEAD)


def matches_ahead(words: list[str], walked: Select) -> int:
    """How many of the rows `walked` (the searched columns of the first `WALKED_AHEAD`
    people a page meets in its order) hold every word: a walk in that order finds a page
    of matches within them, or a sort is cheaper."""
    ahead = walked.subquery()
    document = search_document([ahead.c[name] for name in SEARCHED_COLUMNS])
    found = select(func.count()).select_from(ahead).where(*(word_in(document, w) for w in words))
    return db.session.scalar(found) or 0


def match_order(key: ColumnElement[Any]) -> ColumnElement[Any]:
    """A text sort key in the same order (`key || ''`, NULL staying NULL) that no index
    serves: the database then sorts the index's matches rather than walking the name
    index, testing row after row, to the first match."""
    if isinstance(key.type, String):
        return key.concat(literal_column("''"))
    return key


def index_ready() -> bool:
    """The database has its search index (PostgreSQL without pg_trgm has none; SQLite
    without FTS5's trigrams neither). Asked of the catalog once per session (a request):
    a search asks twice, for its conditions and for its order."""
    info = db.session.info
    if INDEX_READY not in info:
        info[INDEX_READY] = index_in_catalog()
    return bool(info[INDEX_READY])


def fts_ready() -> bool:
    """SQLite with the FTS5 table (its migration skips it where SQLite cannot have one)."""
    return db.engine.dialect.name == "sqlite" and index_ready()


def index_in_catalog() -> bool:
    if db.engine.dialect.name == "postgresql":
        found = text("SELECT to_regclass(:name) IS NOT NULL")
        return bool(db.session.scalar(found, {"name": TRIGRAM_INDEX}))
    found = text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name")
    return db.session.execute(found, {"name": FTS_TABLE}).first() is not None


def fts_rows(words: list[str]) -> Any:
    """Ids of the people holding every word in one column or another: each word a quoted
    phrase, so FTS5 reads its characters (`"`, `*`, `-`…) as letters, trigram by trigram."""
    phrases = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    fts = table(FTS_TABLE)
    return (
        select(literal_column("rowid"))
        .select_from(fts)
        .where(literal_column(FTS_TABLE).op("MATCH")(phrases))
    )
