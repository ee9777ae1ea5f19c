"""The webhook burst: Mailchimp deliveries (unsubscribes, bounces, profile and address
changes, subscribes) posted by concurrent senders to mcbridge's webhook endpoint, served by
gunicorn as the Procfile starts it; then a check that each was recorded exactly once.

    .venv/bin/python -m bench.webhooks [--database sqlite|postgresql] [--deliveries 5000]
                                       [--senders 10] [--resend 250] [--people 10000]

Each run starts from an empty database (a SQLite file under /tmp/webhooks/ or the
PostgreSQL database mcbridge_webhooks, created if missing): an organisation, its list
linked to an audience whose copy holds every person's address as a contact mcbridge
manages, and the list's webhook secret. Bodies are built by the sandbox's own webhook code,
as Mailchimp posts them. The endpoint records a delivery in the request itself (no worker
takes part), and a repeated one (same list, type, address and `fired_at`) once: after the
burst, a sample of recorded deliveries is posted again, and as many new ones are posted
twice at once, as Mailchimp's retries would. Never run by CI.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import queue
import random
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask
from mcbridge_sandbox.clock import webhook_time
from mcbridge_sandbox.events import MemberEvent
from mcbridge_sandbox.models import Member
from mcbridge_sandbox.webhooks import payload
from sqlalchemy import func, select, text

from bench.organisation import build, bulk
from bench.postgres import ensure_database
from bench.processes import free_port
from bench.run import machine
from bench.search import percentiles
from bench.server import served
from mcbridge import create_app
from mcbridge.connections import add_connection, link
from mcbridge.extensions import db
from mcbridge.mailchimp.audience import AudienceInfo
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.models import AudienceMember, MailchimpEvent, MailingList, Person

WORKDIR = Path("/tmp/webhooks")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/mcbridge_webhooks"
REDIS = "redis://127.0.0.1:6379/11"
API_KEY = "fedcba9876543210fedcba9876543210-us1"
AUDIENCE = "b3nchw3bh00k"
SECRET = "bench-webhooks-6f1d2c0b9a8e7d6c5b4a39281706f5e4d3c2b1a0"
# Shares of each type in the burst, as an audience's webhook sees them over a campaign.
MIX = {"unsubscribe": 35, "profile": 30, "subscribe": 15, "cleaned": 10, "upemail": 10}
PER_SECOND = 10  # deliveries that share one `fired_at` second
FIRST_FIRED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
RECORDED = "recorded"


@dataclass(frozen=True)
class Delivery:
    kind: str
    email: str
    fired_at: str
    reason: str
    body: bytes

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two deliveries the same event for mcbridge (per list)."""
        return self.kind, self.email, self.fired_at


@dataclass(frozen=True)
class Answer:
    delivery: Delivery
    status: int
    text: str
    seconds: float
    reconnected: bool


@dataclass(frozen=True)
class Phase:
    name: str
    answers: list[Answer]
    wall: float


def database_url(database: str) -> str:
    return POSTGRES if database == "postgresql" else f"sqlite:///{WORKDIR / 'webhooks.sqlite3'}"


def settings(url: str) -> dict[str, str]:
    """What both this process and gunicorn's workers are configured with."""
    return {"DATABASE_URL": url, "REDIS_URL": REDIS, "SECRET_KEY": "bench"}


def emptied(database: str) -> Flask:
    """An app on an empty database: counts afterwards must be this run's alone."""
    WORKDIR.mkdir(exist_ok=True)
    url = database_url(database)
    if database == "postgresql":
        ensure_database(url)
    else:
        for suffix in ("", "-wal", "-shm"):
            (WORKDIR / f"webhooks.sqlite3{suffix}").unlink(missing_ok=True)
    app = create_app(settings(url))
    if database == "postgresql":
        with app.app_context():
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
    return app


def prepare(app: Flask, people: int) -> tuple[int, list[str]]:
    """The organisation and its linked list, listening with SECRET; returns the list's id
    and the contacts deliveries may name."""
    with app.app_context():
        built = build(people, groups=100, depth=3)
        mailing_list = db.session.get(MailingList, built.mailing_list_id)
        found = [AudienceInfo(AUDIENCE, "Webhook burst", 0)]
        connection = add_connection("Webhook burst", API_KEY, [mailing_list.group], found)
        link(mailing_list, connection.audiences[0])
        mailing_list.webhook_secret_hash = hashlib.sha256(SECRET.encode()).hexdigest()
        contacts = add_contacts(mailing_list.id)
        db.session.commit()
        print(f"built {people:,} people, {len(contacts):,} contacts in {built.seconds:.0f} s")
        return mailing_list.id, contacts


def add_contacts(list_id: int) -> list[str]:
    """Every person's primary address as a subscribed contact the list's export put in the
    audience: the webhook ignores addresses mcbridge does not manage."""
    emails = list(db.session.scalars(select(Person.email).where(Person.email.is_not(None))))
    rows = (
        {"mailing_list_id": list_id, "email": email, "status": "subscribed", "managed": True}
        for email in emails
    )
    bulk(AudienceMember, rows)
    return emails


def sandbox_member(email: str, number: int) -> Member:
    """The contact as the sandbox holds it, for its `payload` to describe."""
    first, last = (part.title() for part in email.split(".")[:2])
    return Member(
        id=number,
        audience_pk=1,
        hash=subscriber_hash(email),
        email=email,
        unique_email_id=subscriber_hash(email)[:10],
        web_id=number,
        status="subscribed",
        prior_status="",
        merge_fields={"FNAME": first, "LNAME": last},
        email_type="html",
        language="",
        vip=False,
        ip_signup="",
        timestamp_signup="",
        ip_opt="198.51.100.7",
        timestamp_opt="",
        unsubscribe_reason="",
        source="",
        last_changed="",
    )


def details_for(kind: str, member: Member, number: int) -> dict[str, str]:
    """The type's own fields: now and then an unsubscribe is an archiving (`delete`), a
    bounce a spam complaint (`abuse`); a profile edit changes the first name."""
    if kind == "unsubscribe":
        return {"action": "delete" if number % 20 == 0 else "unsub", "reason": "manual"}
    if kind == "cleaned":
        return {"reason": "abuse" if number % 10 == 0 else "hard"}
    if kind == "upemail":
        new = f"moved.{number}@new-mail.ch"
        return {"new_id": subscriber_hash(new), "new_email": new, "old_email": member.email}
    if kind == "profile":
        member.merge_fields["FNAME"] += "-Maria"
    return {}


def delivery(number: int, contacts: list[str]) -> Delivery:
    """Delivery `number` of a run, the same every time: its type drawn from MIX, its
    contact the next one in turn, PER_SECOND deliveries fired in each second."""
    kind = random.Random(number).choices(list(MIX), weights=list(MIX.values()))[0]
    member = sandbox_member(contacts[number % len(contacts)], number)
    details = details_for(kind, member, number)
    fired_at = webhook_time(FIRST_FIRED + timedelta(seconds=number // PER_SECOND))
    form = payload(MemberEvent(kind, member, details), AUDIENCE, fired_at)
    body = urlencode(form).encode()
    return Delivery(kind, member.email, fired_at, details.get("reason", ""), body)


class Sender:
    """One of Mailchimp's senders: its own keep-alive connection, opened again if the
    server closed it (the delivery is then posted again, as Mailchimp would)."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, delivery: Delivery) -> Answer:
        started = time.perf_counter()
        try:
            status, answer = self.exchange(delivery)
            reconnected = False
        except (http.client.HTTPException, ConnectionError):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            status, answer = self.exchange(delivery)
            reconnected = True
        return Answer(delivery, status, answer, time.perf_counter() - started, reconnected)

    def exchange(self, delivery: Delivery) -> tuple[int, str]:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "MailChimp.com",
        }
        self.connection.request("POST", self.path, delivery.body, headers)
        response = self.connection.getresponse()
        return response.status, response.read().decode(errors="replace")


def send(name: str, port: int, path: str, deliveries: list[Delivery], senders: int) -> Phase:
    """Post every delivery, the senders taking the next one in turn from a shared queue (so
    two deliveries next to each other leave at about the same time)."""
    waiting: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
    for item in deliveries:
        waiting.put(item)
    answers: list[Answer] = []

    def work() -> None:
        sender = Sender(port, path)
        while True:
            try:
                item = waiting.get_nowait()
            except queue.Empty:
                return
            answers.append(sender.post(item))

    threads = [threading.Thread(target=work) for _ in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Phase(name, answers, time.perf_counter() - started)


def answered(answers: list[Answer]) -> str:
    """The answers by status and text, most frequent first."""
    counts = Counter(f"{answer.status} {answer.text}" for answer in answers)
    again = sum(answer.reconnected for answer in answers)
    noted = f"; {again} posted again on a new connection" if again else ""
    return ", ".join(f"{text} ×{count}" for text, count in counts.most_common()) + noted


def phase_row(phase: Phase) -> str:
    p50, p95 = percentiles([answer.seconds for answer in phase.answers])
    count = len(phase.answers)
    return (
        f"| {phase.name} | {count} | {phase.wall:.1f} | {count / phase.wall:.0f} "
        f"| {p50:.0f} | {p95:.0f} | {answered(phase.answers)} |"
    )


def stored(app: Flask, list_id: int) -> tuple[list[tuple[str, str, str]], int, int]:
    """The list's events as (kind, email, fired_at), its open reviews, and the people
    flagged as bounced."""
    with app.app_context():
        keys = db.session.execute(
            select(MailchimpEvent.kind, MailchimpEvent.email, MailchimpEvent.fired_at).where(
                MailchimpEvent.mailing_list_id == list_id
            )
        ).all()
        reviews = db.session.scalar(
            select(func.count())
            .select_from(MailchimpEvent)
            .where(MailchimpEvent.mailing_list_id == list_id, MailchimpEvent.review == "open")
        )
        flagged = db.session.scalar(
            select(func.count()).select_from(Person).where(Person.email_bounced_at.is_not(None))
        )
    return [tuple(key) for key in keys], int(reviews or 0), int(flagged or 0)


def check_row(check: str, expected: int, found: int) -> str:
    verdict = "ok" if expected == found else "**differs**"
    return f"| {check} | {expected} | {found} | {verdict} |"


def exactly_once(sent: list[Delivery], found: list[tuple[str, str, str]]) -> list[str]:
    """Stored events against the distinct deliveries sent: by type, then missing, extra
    and repeated ones."""
    unique = {item.key: item for item in sent}
    expected = Counter(item.kind for item in unique.values())
    stored_kinds = Counter(kind for kind, _, _ in found)
    rows = [check_row(f"{kind} events", expected[kind], stored_kinds[kind]) for kind in MIX]
    rows.append(check_row("events in all", len(unique), len(found)))
    rows.append(check_row("sent, not stored", 0, len(unique.keys() - set(found))))
    rows.append(check_row("stored, never sent", 0, len(set(found) - unique.keys())))
    rows.append(check_row("stored more than once", 0, len(found) - len(set(found))))
    return rows


def changes(sent: list[Delivery], reviews: int, flagged: int) -> list[str]:
    """What the events changed: address and profile changes wait for review; a hard
    bounce flags the person holding the address."""
    unique = {item.key: item for item in sent}.values()
    reviewed = sum(item.kind in ("profile", "upemail") for item in unique)
    bounced = {item.email for item in unique if item.kind == "cleaned" and item.reason != "abuse"}
    return [
        check_row("changes open for review (profile, upemail)", reviewed, reviews),
        check_row("people flagged as bounced", len(bounced), flagged),
    ]


def recorded_once(phase: Phase, fresh: list[Delivery]) -> list[str]:
    """Posted again, a recorded delivery must not be recorded a second time; posted twice
    at once, a new one must be recorded exactly once."""
    recorded = Counter(answer.delivery.key for answer in phase.answers if answer.text == RECORDED)
    new = {item.key for item in fresh}
    once = sum(recorded[key] == 1 for key in new)
    again = sum(count for key, count in recorded.items() if key not in new)
    return [
        check_row("recorded deliveries posted again, recorded again", 0, again),
        check_row("new deliveries posted twice at once, recorded once", len(new), once),
    ]


def retries(burst: list[Delivery], fresh: list[Delivery]) -> list[Delivery]:
    """Each of a sample of recorded deliveries twice, and each new one twice, next to each
    other so that two senders post them at about the same time."""
    step = max(len(burst) // max(len(fresh), 1), 1)
    again = burst[::step][: len(fresh)]
    return [item for pair in zip(again, fresh, strict=False) for item in pair for _ in (0, 1)]


def run(database: str, count: int, senders: int, resend: int, people: int) -> None:
    app = emptied(database)
    list_id, contacts = prepare(app, people)
    burst = [delivery(number, contacts) for number in range(count)]
    fresh = [delivery(number, contacts) for number in range(count, count + resend)]
    path, port = f"/mailchimp/webhook/{list_id}/{SECRET}", free_port()
    load_before = os.getloadavg()
    # Up once a GET of the webhook URL is answered 200: Mailchimp's own check.
    with served(settings(database_url(database)), port, path, WORKDIR / "gunicorn.log"):
        first = send("burst", port, path, burst, senders)
        second = send(
            "posted again, each twice at once", port, path, retries(burst, fresh), senders
        )
    load_after = os.getloadavg()
    found, reviews, flagged = stored(app, list_id)
    print(f"\n{database}, {count:,} deliveries from {senders} senders, {machine()}")
    print(f"load average (1, 5, 15 min): before {fmt(load_before)}, after {fmt(load_after)}\n")
    print("| phase | deliveries | wall s | deliveries/s | p50 ms | p95 ms | answers |")
    print("|---|---|---|---|---|---|---|")
    print(phase_row(first))
    print(phase_row(second))
    print("\n| exactly once | sent | stored | check |\n|---|---|---|---|")
    print("\n".join(exactly_once(burst + fresh, found)))
    print("\n".join(changes(burst + fresh, reviews, flagged)))
    print("\n".join(recorded_once(second, fresh)))
    shutil.copy(WORKDIR / "gunicorn.log", WORKDIR / f"gunicorn-{database}.log")


def fmt(load: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--resend", type=int, default=250, help="recorded and new, each")
    parser.add_argument("--people", type=int, default=10_000)
    given = parser.parse_args()
    run(given.database, given.deliveries, given.senders, given.resend, given.people)


if __name__ == "__main__":
    main()
