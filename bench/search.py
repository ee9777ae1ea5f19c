"""People search at scale: the People list's search (its page and the count behind its
pager) and the person picker, at 1M people, through Flask's test client, signed in as the
leader of a region and as an administrator.

    .venv/bin/python -m bench.search [--database sqlite|postgresql] [--people 1000000]
                                     [--repeat 15] [--terms marie,"marie muller"]

The organisation is built once (bench/organisation.py) in its own database, a SQLite file
under /tmp/search/ or the PostgreSQL database mcbridge_search, and reused by later runs;
each run first upgrades it (timed: the first upgrade builds the search index). Never run
by CI.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, inspect, select

from bench.organisation import build
from bench.pages import ADMIN, LEADER, REGION, add_users, signed_in
from mcbridge import create_app
from mcbridge.extensions import db
from mcbridge.models import Group, Person, User

WORKDIR = Path("/tmp/search")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/mcbridge_search"
REDIS = "redis://127.0.0.1:6379/11"
TERMS = ("marie", "marie muller", "muller", "muller.4242", "ma")
PEOPLE_LIST = "/admin/people/?search={term}"
PICKER = "/admin/roles/ajax/lookup/?name=person&query={term}"


def make_app(database: str, url: str | None = None) -> Flask:
    """The app on this tool's own organisation, or on the one at `url` (bench.all gives
    each size its own)."""
    if url is None:
        url = POSTGRES if database == "postgresql" else f"sqlite:///{WORKDIR / 'search.sqlite3'}"
    return create_app({"DATABASE_URL": url, "REDIS_URL": REDIS, "SECRET_KEY": "bench"})


def prepare(app: Flask, people: int) -> None:
    """The organisation (built on first use), brought to the newest revision, and the
    users of bench/pages.py: an administrator and the leader of a region (an eighth of
    everyone)."""
    with app.app_context():
        if not inspect(db.engine).has_table(Person.__tablename__):
            built = build(people)
            print(f"built {built.people:,} people in {built.seconds:.0f} s")
        started = time.perf_counter()
        upgrade()
        print(f"upgrade: {time.perf_counter() - started:.1f} s")
        if db.session.scalar(select(User.id).where(User.email == LEADER)) is None:
            add_users(db.session.scalar(select(Group).where(Group.name == REGION)))


@contextmanager
def counting_time(app: Flask) -> Iterator[list[float]]:
    """Seconds spent in the `SELECT count(...)` statements (the pager's), request by
    request: each request appends its own total."""
    totals: list[float] = []
    started: dict[int, float] = {}

    def before(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT COUNT("):
            started[id(cursor)] = time.perf_counter()

    def after(_conn: Any, cursor: Any, *_args: Any) -> None:
        if id(cursor) in started:
            totals[-1] += time.perf_counter() - started.pop(id(cursor))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield totals
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(app: Flask, client: FlaskClient, url: str, repeat: int) -> str:
    """A table row's figures: one warm-up request, then `repeat` timed ones."""
    client.get(url)
    seconds: list[float] = []
    with counting_time(app) as counts:
        for _ in range(repeat):
            counts.append(0.0)
            started = time.perf_counter()
            response = client.get(url)
            response.get_data()
            seconds.append(time.perf_counter() - started)
    p50, p95 = percentiles(seconds)
    count_p50, _ = percentiles(counts)
    return f"{response.status_code} | {p50:.0f} | {p95:.0f} | {count_p50:.0f} | {shown(response)}"


def shown(response: Any) -> int:
    """The people a response offers: the list page's rows, or the picker's choices."""
    if response.is_json:
        return len(response.json)
    return len(set(re.findall(r"details/\?id=(\d+)", response.text)))


def run(database: str, people: int, repeat: int, terms: list[str], url: str | None = None) -> None:
    WORKDIR.mkdir(exist_ok=True)
    app = make_app(database, url)
    prepare(app, people)
    for who, email in (("leader of a region", LEADER), ("administrator", ADMIN)):
        client = signed_in(app, email)
        print(f"\n{database}, {people:,} people, signed in as {who}")
        print("| request | term | status | p50 ms | p95 ms | count p50 ms | shown |")
        print("|---|---|---|---|---|---|---|")
        for name, url in (("People list", PEOPLE_LIST), ("picker", PICKER)):
            for term in terms:
                figures = measure(app, client, url.format(term=term), repeat)
                print(f"| {name} | {term} | {figures} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--terms", default=",".join(TERMS), help="what is typed, comma-separated")
    parser.add_argument("--url", help="another organisation's database (one per size, say)")
    given = parser.parse_args()
    run(given.database, given.people, given.repeat, given.terms.split(","), given.url)


if __name__ == "__main__":
    main()
