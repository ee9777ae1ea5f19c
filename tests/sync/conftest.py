"""A club with members and a newsletter linked to a fresh sandbox audience.

Every test that uses it ends by checking the sandbox's consent ledger: no export may ever
set anyone who left, bounced, awaits confirmation or was archived by someone else back to
subscribed, whatever Mailchimp would accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from mailchimp3 import MailChimp
from mcbridge_sandbox import SandboxControl, SandboxServer

from mcbridge.connections import link as link_list
from mcbridge.extensions import db
from mcbridge.jobs import execute, ignore_progress, reserve
from mcbridge.models import Group, MailingList, Person, RoleType, SyncRun
from tests import factories as make

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Club:
    club: Group
    member_type: RoleType
    coach_type: RoleType
    newsletter: MailingList
    key: str
    audience: str
    sandbox: SandboxControl
    base_url: str

    def join(self, first_name: str, email: str | None = "", **options) -> Person:
        person = make.person(first_name, options.pop("last_name", None), email=email, **options)
        make.role(person, self.club, options.pop("role_type", self.member_type))
        db.session.commit()
        return person

    def export(self, dry_run: bool = False) -> SyncRun:
        run = reserve(self.newsletter, "cli", None, dry_run)
        execute(run, ignore_progress)
        return run

    def member(self, email: str) -> dict | None:
        return self.sandbox.member(self.audience, email)

    def mailchimp(self) -> MailChimp:
        """mailchimp3 on the sandbox, to change the audience the way its owner would."""
        client = MailChimp(mc_api=self.key)
        client.base_url = self.base_url
        return client

    def calls(self) -> list[dict]:
        return self.sandbox.requests(api_key=self.key)

    def write_calls(self) -> list[dict]:
        return [call for call in self.calls() if call["method"] in WRITE_METHODS]


def link(mailing_list: MailingList, key: str, audience: str) -> None:
    """Linked as the Mailchimp page does it, consent included."""
    link_list(mailing_list, make.audience_of(key, audience, mailing_list.group))
    mailing_list.consent_at = datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def club(app, sandbox: SandboxControl, sandbox_server: SandboxServer) -> Iterator[Club]:
    key = sandbox.add_account()
    audience = sandbox.add_audience(key, "Club audience")
    club = make.group("Rowing Club Basel")
    member = make.role_type("Member")
    coach = make.role_type("Coach")
    newsletter = make.mailing_list(club, "Club news")
    link(newsletter, key, audience)
    make.role_rule(newsletter, club, member, coach)
    db.session.commit()
    sandbox.clear_requests()
    base_url = sandbox_server.api_base_url.format(dc=key.rsplit("-", 1)[1])
    yield Club(club, member, coach, newsletter, key, audience, sandbox, base_url)
    assert sandbox.consent_ledger(audience) == [], "an export re-subscribed someone"
