"""Admin page weight and time at scale: every list page (and the group fields' forms) of a
5,000-group, 1M-people organisation, through Flask's test client, signed in as the leader
of a region and as an administrator.

    .venv/bin/python -m bench.pages [--database sqlite|postgresql] [--people 1000000]
                                    [--repeat 15] [--only "subscriber view"] [--url URL]

The organisation is built once (bench/organisation.py) in its own database, a SQLite file
under /tmp/pages/ or the PostgreSQL database mcbridge_pages, and reused by later runs.
Never run by CI.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import func, inspect, select, text, update

from bench.organisation import build
from mcbridge import create_app
from mcbridge.extensions import db
from mcbridge.models import Group, MailingList, Person, Role, RoleType, User

WORKDIR = Path("/tmp/pages")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/mcbridge_pages"
REDIS = "redis://127.0.0.1:6379/12"
PASSWORD = "bench pages password"
ADMIN = "pages.admin@bench.example"
LEADER = "pages.leader@bench.example"
REGION = "Group 1.0"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGES = (
    ("groups", "/admin/groups/"),
    ("groups, table", "/admin/groups/?table=1"),
    ("groups, filtered by a group", "/admin/groups/?flt0_0={group}"),
    ("people", "/admin/people/"),
    ("people, filtered by a group", "/admin/people/?flt0_0={group}"),
    ("roles", "/admin/roles/"),
    ("roles, filtered by a group", "/admin/roles/?flt0_0={group}"),
    ("mailing lists", "/admin/mailing-lists/"),
    ("role types", "/admin/role-types/"),
    ("users", "/admin/users/"),
    ("new group form", "/admin/groups/new/"),
    ("new role form", "/admin/roles/new/"),
    ("new mailing list form", "/admin/mailing-lists/new/"),
    ("new person form", "/admin/people/new/"),
    ("group search (JSON), nothing typed", "/admin/roles/ajax/lookup/?name=group_filter&query="),
    (
        "group search (JSON), 'group 4.1'",
        "/admin/roles/ajax/lookup/?name=group_filter&query=group+4.1",
    ),
    ("subscriber view of the big list", "/admin/subscribers/{big_list}/"),
    ("subscriber view, sorted by name", "/admin/subscribers/{big_list}/?sort=name"),
    ("subscriber view, page 1000", "/admin/subscribers/{big_list}/?sort=-email&page=1000"),
    ("subscriber view, searched 'marie'", "/admin/subscribers/{big_list}/?q=marie"),
    ("subscriber view, searched 'marie muller'", "/admin/subscribers/{big_list}/?q=marie+muller"),
    (
        "subscriber view, searched 'marie', by name",
        "/admin/subscribers/{big_list}/?q=marie&sort=name",
    ),
    (
        "subscriber view, searched 'marie', by address",
        "/admin/subscribers/{big_list}/?q=marie&sort=email",
    ),
)
ADMIN_ONLY = ("users", *(name for name, url in PAGES if "{big_list}" in url))
BIG_LIST = "/admin/subscribers/{big_list}/"
BIG_LIST_PAGES = "subscriber view"


@dataclass
class Timing:
    page: str
    status: int
    kilobytes: float
    p50_ms: float
    p95_ms: float


def make_app(database: str, url: str | None = None) -> Flask:
    """The app on this tool's own organisation, or on the one at `url` (another tool's, such
    as bench.run's at 3,000,000 people)."""
    if url is None:
        url = POSTGRES if database == "postgresql" else f"sqlite:///{WORKDIR / 'pages.sqlite3'}"
    return create_app(
        {"DATABASE_URL": url, "REDIS_URL": REDIS, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": True}
    )


def prepare(app: Flask, people: int) -> int:
    """The organisation (built on first use, brought to the newest revision) and the two
    users; returns the region's id, the group the leader leads, which the filtered pages
    filter by."""
    with app.app_context():
        if not inspect(db.engine).has_table(Person.__tablename__):
            built = build(people)
            print(f"built {built.people} people, {built.groups} groups in {built.seconds:.0f} s")
        upgrade()
        region = db.session.scalar(select(Group).where(Group.name == REGION))
        if db.session.scalar(select(User.id).where(User.email == LEADER)) is None:
            add_users(region)
        return region.id


def big_list(app: Flask) -> int:
    """The organisation's list of everyone (bench/organisation.py)."""
    with app.app_context():
        return db.session.scalar(select(func.min(MailingList.id)))


def first_visit_after_change(app: Flask, client: FlaskClient, url: str) -> Timing:
    """One change to the people (a last name), then one visit: it resolves the list again
    and stores it, as the first visit after any change does."""
    with app.app_context():
        person = db.session.scalar(select(func.max(Person.id)))
        db.session.execute(
            update(Person).where(Person.id == person).values(last_name=Person.last_name + "x")
        )
        db.session.commit()
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    name = "subscriber view, first visit after a change"
    return Timing(name, response.status_code, len(response.get_data()) / 1000, seconds * 1000, 0)


def add_users(region: Group) -> None:
    """An administrator, and a leader whose person leads the region. The organisation's
    people were inserted with their ids, which PostgreSQL's sequence did not count."""
    leader_type = db.session.scalar(select(RoleType).where(RoleType.name == "Leader"))
    last = db.session.scalar(select(func.max(Person.id)))
    person = Person(id=last + 1, first_name="Pia", last_name="Pages", email=LEADER)
    db.session.add(person)
    db.session.flush()
    db.session.add(Role(person=person, group=region, role_type=leader_type))
    for email, admin, holder in ((ADMIN, True, None), (LEADER, False, person)):
        user = User(email=email, is_admin=admin, person=holder)
        user.set_password(PASSWORD)
        db.session.add(user)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    page = "/admin/account/sign-in"
    token = TOKEN.search(client.get(page).get_data(as_text=True))
    assert token, "no CSRF token on the sign-in page"
    response = client.post(
        page, data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 302, response.status_code
    return client


def timed(client: FlaskClient, name: str, url: str, repeat: int) -> Timing:
    """One warm-up request, then `repeat` timed ones."""
    client.get(url)
    seconds, size, status = [], 0, 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        seconds.append(time.perf_counter() - started)
        size, status = len(body), response.status_code
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    return Timing(name, status, size / 1000, statistics.median(seconds) * 1000, p95 * 1000)


def run(database: str, people: int, repeat: int, only: str = "", url: str | None = None) -> None:
    WORKDIR.mkdir(exist_ok=True)
    app = make_app(database, url)
    region = prepare(app, people)
    places = {"group": region, "big_list": big_list(app)}
    for who, email in (("leader of a region", LEADER), ("administrator", ADMIN)):
        client = signed_in(app, email)
        print(f"\n{database}, {people:,} people, signed in as {who}")
        print("| page | status | KB | p50 ms | p95 ms |\n|---|---|---|---|---|")
        for name, url in PAGES:
            if (who != "administrator" and name in ADMIN_ONLY) or only not in name:
                continue
            show(timed(client, name, url.format(**places), repeat))
        if who == "administrator" and only in BIG_LIST_PAGES:
            show(first_visit_after_change(app, client, BIG_LIST.format(**places)))


def show(found: Timing) -> None:
    print(
        f"| {found.page} | {found.status} | {found.kilobytes:.1f} "
        f"| {found.p50_ms:.0f} | {found.p95_ms:.0f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", default="", help="the pages whose name holds this text")
    parser.add_argument("--url", help="another organisation's database (bench.run's, say)")
    arguments = parser.parse_args()
    run(arguments.database, arguments.people, arguments.repeat, arguments.only, arguments.url)


if __name__ == "__main__":
    main()
