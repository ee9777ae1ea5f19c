"""Concurrent visits of the big list (issue 15): twenty administrators viewing the
1,000,000-people list's subscribers at once must not stall the application, neither when
the stored resolution holds nor right after a change, when one visit resolves the list
again and the others show the previous resolution with a note (`id="catching-up"`).

    .venv/bin/python -m bench.concurrent_views [--database postgresql|sqlite]
                                               [--users 20] [--views 5]

Reuses bench.pages' organisation and settings (its database, Redis 12, secret), served by
gunicorn exactly as the Procfile's web line starts it (bench/server.py), over HTTP with
one signed-in session per user. While the users view the list, one more user requests a
light page (the mailing lists) every 0.25 s: its latency says whether the others were
served while the big list was being resolved. Never run by CI.
"""

from __future__ import annotations

import argparse
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass

import requests
from flask import Flask
from sqlalchemy import select

from bench.pages import ADMIN, PASSWORD, TOKEN, WORKDIR, big_list, make_app, prepare
from bench.processes import free_port
from bench.run import machine
from bench.search import percentiles
from bench.server import served
from mcbridge.extensions import db
from mcbridge.models import Person

PEOPLE = 1_000_000  # what bench.pages builds by default, if its database is still empty
SIGN_IN = "/admin/account/sign-in"
LIGHT = "/admin/mailing-lists/"
BIG_LIST = "/admin/subscribers/{}/"
CATCHING_UP = 'id="catching-up"'
QUIET = 20  # requests of the light page alone, before any burst
SAMPLE_EVERY = 0.25  # seconds between two requests of the light page
TIMEOUT = 600  # a resolve under heavy load must be measured, not cut short
MARK = "·"  # appended to a last name, then taken off again, run after run
SETTINGS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")


@dataclass(frozen=True)
class View:
    """One request as the user saw it. Status 0: no answer, `error` says why; `retried`:
    sent again on a new connection after the first attempt failed to connect."""

    started: float
    finished: float
    status: int
    catching_up: bool
    error: str = ""
    retried: bool = False

    @property
    def answer(self) -> str:
        return self.error or str(self.status)

    @property
    def current(self) -> bool:
        """A page showing the list as it is now."""
        return self.status == 200 and not self.catching_up

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass(frozen=True)
class Burst:
    """Each user's views in order, and the light page's samples meanwhile."""

    views: list[list[View]]
    light: list[View]


class Visitor:
    """One user: a requests session signed in as the administrator over HTTP, as a
    browser would be (sign-in page, its CSRF token, then the form posted)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        page = self.session.get(base + SIGN_IN, timeout=TIMEOUT)
        token = TOKEN.search(page.text)
        assert token, "no CSRF token on the sign-in page"
        form = {"email": ADMIN, "password": PASSWORD, "csrf_token": token[1]}
        answer = self.session.post(base + SIGN_IN, data=form, allow_redirects=False)
        assert answer.status_code == 302, f"sign-in answered {answer.status_code}"

    def get(self, path: str) -> View:
        """The page, timed. A browser sends a GET again when the server had closed the
        kept-alive connection (gunicorn does after 2 idle seconds), and so does this, once;
        any other failure is recorded rather than raised, so that one stalled user does not
        hide the others' figures."""
        started = time.perf_counter()
        status, body, error = self.attempt(path)
        retried = error == requests.ConnectionError.__name__
        if retried:
            status, body, error = self.attempt(path)
        finished = time.perf_counter()
        return View(started, finished, status, CATCHING_UP in body, error, retried)

    def attempt(self, path: str) -> tuple[int, str, str]:
        """Status, body and the failure's name, if any."""
        try:
            answer = self.session.get(self.base + path, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as failure:
            return 0, "", type(failure).__name__
        return answer.status_code, answer.text, ""


def server_settings(app: Flask) -> dict[str, str]:
    """bench.pages' settings read back from its app, so that gunicorn's workers use the
    very database, Redis and secret that make_app configures."""
    return {key: str(app.config[key]) for key in SETTINGS}


def sampled(visitor: Visitor, stop: threading.Event) -> list[View]:
    """The light page every SAMPLE_EVERY seconds (at once after a slow answer) until
    `stop`, at least once."""
    views: list[View] = []
    due = time.perf_counter()
    while True:
        views.append(visitor.get(LIGHT))
        due += SAMPLE_EVERY
        if stop.wait(max(0.0, due - time.perf_counter())):
            return views


def burst(visitors: list[Visitor], sampler: Visitor, path: str, views: int) -> Burst:
    """Every visitor views `path` `views` times in a row, all starting together (a
    barrier), while `sampler` samples the light page."""
    seen: list[list[View]] = [[] for _ in visitors]
    start = threading.Barrier(len(visitors))

    def user(index: int) -> None:
        start.wait()
        seen[index].extend(visitors[index].get(path) for _ in range(views))

    stop, light = threading.Event(), list[View]()
    sampling = threading.Thread(target=lambda: light.extend(sampled(sampler, stop)))
    sampling.start()
    users = [threading.Thread(target=user, args=(index,)) for index in range(len(visitors))]
    for thread in users:
        thread.start()
    for thread in users:
        thread.join()
    stop.set()
    sampling.join()
    return Burst(seen, light)


def row(phase: str, views: list[View]) -> str:
    """A table row: latency, count, statuses, and how many pages said catching-up."""
    p50, p95 = percentiles([view.seconds for view in views])
    longest = max(view.seconds for view in views) * 1000
    statuses = Counter(view.answer for view in views)
    shown = ", ".join(f"{status} ×{count}" for status, count in sorted(statuses.items()))
    if again := sum(view.retried for view in views):
        shown += f" ({again} sent again on a new connection)"
    noted = sum(view.catching_up for view in views)
    return f"| {phase} | {p50:.0f} | {p95:.0f} | {longest:.0f} | {len(views)} | {shown} | {noted} |"


def change_a_name(app: Flask) -> float:
    """One person's last name changed and committed (the mark added, or taken off if a
    run before left it), which makes the stored resolution stale; returns when."""
    with app.app_context():
        person = db.session.scalar(select(Person).order_by(Person.id).limit(1))
        name = person.last_name
        person.last_name = name.removesuffix(MARK) if name.endswith(MARK) else name + MARK
        db.session.commit()
    return time.perf_counter()


def caught_up(changed: float, views: list[View]) -> str:
    """When the first page without the note arrived (the resolving visit's, or one after
    it), counted from the change, and when the last page with the note did."""
    fresh = [view.finished - changed for view in views if view.current]
    stale = [view.finished - changed for view in views if view.catching_up]
    first = f"{min(fresh):.1f} s" if fresh else "never during the burst"
    last = f"{max(stale):.1f} s" if stale else "none"
    return f"first page without the note {first} after the change; last page with it: {last}"


def quiet(sampler: Visitor) -> list[View]:
    """The light page requested alone, one request after the other: what the samples
    during the bursts compare with."""
    return [sampler.get(LIGHT) for _ in range(QUIET)]


def load(when: str) -> None:
    """`uptime`, as is: the machine may be shared, and the load says how far to trust
    the figures."""
    shown = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"load {when}: {shown.strip()}", flush=True)


def measured(
    app: Flask, list_id: int, visitors: list[Visitor], sampler: Visitor, views: int
) -> None:
    """The three phases, each printed as soon as it is over."""
    path, users = BIG_LIST.format(list_id), len(visitors)
    print("| phase | p50 ms | p95 ms | max ms | count | statuses | catching-up |")
    print("|---|---|---|---|---|---|---|", flush=True)
    print(row(f"a. quiet: light page alone, {QUIET} times", quiet(sampler)), flush=True)
    held = burst(visitors, sampler, path, views)
    print(row(f"b. big list, {users} users × {views} views", flatten(held.views)))
    print(row("b. light page during the burst", held.light), flush=True)
    changed = change_a_name(app)
    after = burst(visitors, sampler, path, views)
    firsts, later = [seen[0] for seen in after.views], [v for s in after.views for v in s[1:]]
    print(row(f"c. after a change: {users} first views at once", firsts))
    if later:
        print(row(f"c. after a change: {views - 1} more views each", later))
    print(row("c. light page meanwhile", after.light))
    print(f"\nc. {caught_up(changed, flatten(after.views))}")


def flatten(views: list[list[View]]) -> list[View]:
    return [view for seen in views for view in seen]


def warm_up(visitor: Visitor, path: str) -> str:
    """A first view before the phases, so that phase b reads a resolution that holds
    (it resolves only if something changed since the last run)."""
    view = visitor.get(path)
    state = "catching up" if view.catching_up else "current"
    return f"warm-up view of the big list: {view.seconds:.1f} s, status {view.status}, {state}"


def run(database: str, users: int, views: int) -> None:
    WORKDIR.mkdir(exist_ok=True)
    app = make_app(database)
    prepare(app, PEOPLE)
    list_id, port = big_list(app), free_port()
    log = WORKDIR / f"gunicorn-concurrent-{database}.log"
    print(f"{database}, {users} users × {views} views of list {list_id}, {machine()}")
    load("before")
    with served(server_settings(app), port, SIGN_IN, log):
        base = f"http://127.0.0.1:{port}"
        visitors, sampler = [Visitor(base) for _ in range(users)], Visitor(base)
        print(warm_up(sampler, BIG_LIST.format(list_id)) + "\n", flush=True)
        measured(app, list_id, visitors, sampler, views)
    load("after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--views", type=int, default=5, help="each user's, in a row")
    given = parser.parse_args()
    run(given.database, given.users, given.views)


if __name__ == "__main__":
    main()
