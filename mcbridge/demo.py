"""A realistic demo organisation, so a newcomer sees mcbridge at work on the first run.

Deterministic (seeded random) so that screenshots, docs and tests describe the same data.
Its audience comes from the local Mailchimp sandbox (the optional `mcbridge[sandbox]`),
asked over HTTP like any client would: nothing here needs the sandbox installed.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from mcbridge.clock import now, today
from mcbridge.connections import add_connection, link
from mcbridge.mailchimp.audience import AudienceInfo
from mcbridge.models import (
    LANGUAGES,
    AdditionalEmail,
    Group,
    MailingList,
    Person,
    Role,
    RoleType,
    Subscription,
    User,
)

FIRST_NAMES = (
    "Anna", "Lea", "Sophie", "Marie", "Camille", "Julia", "Laura", "Chiara", "Noemi", "Elena",
    "Luca", "Noah", "Louis", "Jonas", "David", "Matteo", "Nicolas", "Samuel", "Thomas", "Yann",
    "Léon", "Zoé", "Amélie", "Jérôme", "Björn", "Jürg", "Françoise", "Hélène", "Rémy", "Sébastien",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Schneider", "Fischer", "Gerber",
    "Brunner", "Baumann", "Frei", "Zimmermann", "Moser", "Favre", "Rochat", "Dubois", "Bonvin",
    "Rossi", "Bianchi", "Lehmann", "Graf", "Wyss", "Roth", "Steiner", "Bühler", "Mayor", "Perrin",
)  # fmt: skip
MAIL_DOMAINS = ("bluewin.ch", "gmx.ch", "sunrise.ch", "hispeed.ch", "protonmail.ch")
COMPANIES = ("Alpenbau AG", "Léman Conseil SA", "Bergsport GmbH", None, None, None)
# Weights of LANGUAGES (de, fr, it, en), roughly a Swiss federation's members.
LANGUAGE_WEIGHTS = (50, 35, 10, 5)
REGIONS = {
    "Region North": ("Rowing Club Basel", "Ruderclub Aarau", "Seeclub Zürich"),
    "Region West": ("Club d'aviron Lausanne", "Société Nautique Genève"),
    "Region South": ("Canottieri Lugano", "Ruderclub Locarno"),
}
FEDERATION = "Swiss Rowing Federation"
PEOPLE_PER_CLUB = 27
SANDBOX_TIMEOUT_SECONDS = 10


class SandboxUnavailableError(RuntimeError):
    """The API base URL does not lead to a running Mailchimp sandbox."""


@dataclass
class DemoSummary:
    groups: int
    people: int
    roles: int
    mailing_lists: int
    club_leader: Person


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in plain.lower() if char.isalnum())


class DemoBuilder:
    """Builds the organisation step by step; one method per kind of thing it creates."""

    def __init__(self, session: Session, seed: int = 2026) -> None:
        self.session = session
        self.random = random.Random(seed)
        # Languages are drawn apart, so that adding them left the rest of the demo as it was.
        self.languages = random.Random(seed + 1)
        self.today = today()
        self.people: list[Person] = []
        self.role_types: dict[str, RoleType] = {}

    def role_type(self, name: str, manages: bool = False) -> RoleType:
        role_type = self.session.scalar(select(RoleType).where(RoleType.name == name))
        if role_type is None:
            role_type = RoleType(name=name, manages=manages)
            self.session.add(role_type)
        self.role_types[name] = role_type
        return role_type

    def person(self, email_taken: set[str]) -> Person:
        first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
        person = Person(
            first_name=first,
            last_name=last,
            gender=self.random.choice(("female", "male", None)),
            birthday=date(1950, 1, 1) + timedelta(days=self.random.randrange(365 * 55)),
            company=self.random.choice(COMPANIES),
            language=self.languages.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0],
        )
        if self.random.random() > 0.08:
            person.email = self.unique_address(
                f"{ascii_slug(first)}.{ascii_slug(last)}", email_taken
            )
        if self.random.random() < 0.15:
            person.additional_emails.append(
                AdditionalEmail(
                    email=self.unique_address(
                        f"{ascii_slug(last)}.{ascii_slug(first)}", email_taken
                    ),
                    label=self.random.choice(("work", "parents", "private")),
                    mailings=self.random.random() < 0.7,
                )
            )
        self.session.add(person)
        self.people.append(person)
        return person

    def unique_address(self, local: str, taken: set[str]) -> str:
        domain = self.random.choice(MAIL_DOMAINS)
        address, counter = f"{local}@{domain}", 1
        while address in taken:
            counter += 1
            address = f"{local}{counter}@{domain}"
        taken.add(address)
        return address

    def role(self, person: Person, group: Group, name: str) -> None:
        """Most roles are current; a few ended last season or start next month."""
        chance = self.random.random()
        start_on, end_on = None, None
        if chance < 0.06:
            start_on, end_on = self.today - timedelta(days=400), self.today - timedelta(days=30)
        elif chance < 0.09:
            start_on = self.today + timedelta(days=30)
        person.roles.append(
            Role(group=group, role_type=self.role_types[name], start_on=start_on, end_on=end_on)
        )

    def club(self, club: Group, taken: set[str]) -> list[Person]:
        """The club's people, its leader first."""
        leader = self.person(taken)
        leader.roles.append(Role(group=club, role_type=self.role_types["Leader"]))
        members = [leader]
        for index in range(PEOPLE_PER_CLUB - 1):
            member = self.person(taken)
            self.role(member, club, "Coach" if index < 3 else "Member")
            members.append(member)
        return members

    def build(self) -> DemoSummary:
        for name, manages in (
            ("Leader", True),
            ("Coach", False),
            ("Member", False),
            ("Treasurer", False),
        ):
            self.role_type(name, manages)
        taken: set[str] = set()
        federation = Group(name=FEDERATION, description="The umbrella organisation.")
        self.session.add(federation)
        board = self.person(taken)
        board.roles.append(Role(group=federation, role_type=self.role_types["Leader"]))
        clubs: dict[Group, list[Person]] = {}
        for region_name, club_names in REGIONS.items():
            region = Group(name=region_name, parent=federation)
            self.person(taken).roles.append(Role(group=region, role_type=self.role_types["Leader"]))
            for club_name in club_names:
                club = Group(name=club_name, parent=region)
                clubs[club] = self.club(club, taken)
        first_club, members = next(iter(clubs.items()))
        self.family_sharing_an_address(first_club)
        self.mailing_lists(federation, first_club, excluded=members[-1])
        self.session.flush()  # the summary's club leader gets its id; the caller commits
        return DemoSummary(
            groups=1 + len(REGIONS) + len(clubs),
            people=len(self.people),
            roles=sum(len(person.roles) for person in self.people),
            mailing_lists=2,
            club_leader=members[0],
        )

    def family_sharing_an_address(self, club: Group) -> None:
        """Two members of one household on one address: the list sends to it once."""
        shared = "famille.rochat@bluewin.ch"
        for first in ("Claire", "Hugo"):
            person = Person(first_name=first, last_name="Rochat", email=shared, language="fr")
            person.roles.append(Role(group=club, role_type=self.role_types["Member"]))
            self.session.add(person)
            self.people.append(person)

    def mailing_lists(self, federation: Group, club: Group, excluded: Person) -> None:
        leaders = MailingList(
            group=federation,
            name="Leaders and coaches newsletter",
            description="News for everyone who runs a club or coaches in the federation.",
            sync_all_delivery_addresses=True,
        )
        leaders.subscriptions.append(
            Subscription(
                group=federation, role_types=[self.role_types["Leader"], self.role_types["Coach"]]
            )
        )
        club_news = MailingList(
            group=club, name=f"{club.name} news", description="Club news for members."
        )
        club_news.subscriptions.append(
            Subscription(
                group=club, role_types=[self.role_types["Member"], self.role_types["Coach"]]
            )
        )
        regional_leader = self.people[1]
        club_news.subscriptions.append(Subscription(person=regional_leader))
        club_news.subscriptions.append(Subscription(person=excluded, excluded=True))
        self.session.add_all([leaders, club_news])


def link_to_sandbox(mailing_list: MailingList, api_base_url: str, admin: User) -> str:
    """Give the demo list an audience in the local Mailchimp sandbox serving
    `api_base_url`, so a newcomer's first export lands somewhere visible. Returns the
    audience id (the caller commits); SandboxUnavailableError when no sandbox answers there."""
    sandbox = sandbox_root(api_base_url)
    key = str(ask_sandbox(sandbox, "accounts", {"dc": "us1"})["api_key"])
    name = f"{mailing_list.name} (demo)"
    audience_id = str(ask_sandbox(sandbox, "audiences", {"api_key": key, "name": name})["id"])
    root = [*mailing_list.group.ancestors(), mailing_list.group][0]
    info = AudienceInfo(audience_id, name, 0)
    connection = add_connection("Mailchimp sandbox (demo)", key, [root], [info])
    link(mailing_list, connection.audiences[0])
    mailing_list.consent_by_id = admin.id
    mailing_list.consent_at = now()
    return audience_id


def sandbox_root(api_base_url: str) -> str:
    """The sandbox serves its API under /{dc}/3.0/ and its control endpoints under
    /_sandbox/ of the same host."""
    parts = urlsplit(api_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def ask_sandbox(sandbox: str, what: str, body: dict[str, str]) -> dict[str, Any]:
    """POST to one of the sandbox's /_sandbox/ endpoints: the real Mailchimp has none, so
    an answer proves the URL is the sandbox's."""
    url = f"{sandbox}/_sandbox/{what}"
    try:
        response = requests.post(url, json=body, timeout=SANDBOX_TIMEOUT_SECONDS)
        response.raise_for_status()
        return dict(response.json())
    except (requests.RequestException, ValueError) as error:
        raise SandboxUnavailableError(f"{url}: {error}") from error


def organisation_exists(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(Group.id.is_not(None)))))


def seed_demo(session: Session, seed: int = 2026) -> DemoSummary | None:
    """Seed the demo into an empty database; None (and nothing written) when it is not empty.
    The caller commits."""
    if organisation_exists(session):
        return None
    return DemoBuilder(session, seed).build()
