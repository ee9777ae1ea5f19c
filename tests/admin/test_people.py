"""People as a leader finds and reads them: the person picker and a person's page."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest

from mcbridge.connections import link
from mcbridge.extensions import db
from mcbridge.models import AdditionalEmail, AudienceMember
from tests import factories as make


def picked(client, query: str, view: str = "roles") -> list[str]:
    """The names the person picker of a form offers for what was typed."""
    response = client.get(
        f"/admin/{view}/ajax/lookup/", query_string={"name": "person", "query": query}
    )
    assert response.status_code == 200
    return [label for _id, label in json.loads(response.get_data(as_text=True))]


@pytest.fixture
def marie(org):
    marie = make.person("Marie", "Baumann", email="marie@club-mail.ch")
    make.role(marie, org.club_a, org.member_type)
    make.person("Mario", "Bauer", email="mario@club-mail.ch")
    db.session.commit()
    return marie


@pytest.mark.parametrize("typed", ["Marie Baumann", "Baumann Marie", "baumann mar", " MAR  baum "])
def test_the_picker_finds_a_person_by_the_full_name_it_shows(as_admin, marie, typed):
    assert picked(as_admin, typed) == [str(marie)]


def test_the_picker_finds_only_people_in_the_leaders_groups(as_leader, org, marie):
    assert picked(as_leader, "Bob South") == []
    assert picked(as_leader, "Marie Baumann") == [str(marie)]


def test_percent_and_underscore_are_letters_in_the_picker(as_admin, marie):
    assert picked(as_admin, "Mar%e") == []
    assert picked(as_admin, "M_rie") == []


def person_page(client, person) -> str:
    response = client.get(f"/admin/people/details/?id={person.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, heading_id: str) -> str:
    """One section of a person's page, from its heading to the section's end."""
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def test_a_person_page_shows_roles_with_groups_types_and_dates(as_leader, org):
    make.role(org.alice, org.north, org.leader_type, date(2024, 1, 1), date(2024, 12, 31))
    db.session.commit()
    roles = section(person_page(as_leader, org.alice), "roles-heading")
    assert re.search(r"Federation / North / Club A</td>\s*<td>Member</td>", roles)
    assert re.search(r"Federation / North</td>\s*<td>Leader</td>\s*<td>Jan 1, 2024</td>", roles)
    assert "Dec 31, 2024" in roles
    assert "not active" in roles


def test_a_person_page_shows_the_lists_that_reach_them_and_why(as_leader, org):
    club_list = make.mailing_list(org.club_a, "Club A news")
    make.person_rule(club_list, org.alice)
    left_out = make.mailing_list(org.north, "Board")
    make.role_rule(left_out, org.north, org.member_type)
    make.person_rule(left_out, org.alice, excluded=True)
    make.mailing_list(org.north, "Coaches")
    db.session.commit()
    lists = section(person_page(as_leader, org.alice), "lists-heading")
    assert re.search(r"North news</a>.*?as Member in Federation / North or below", lists, re.S)
    assert re.search(r"Club A news</a>.*?added by name", lists, re.S)
    assert re.search(r"Board</a>.*?excluded by name", lists, re.S)
    assert "Coaches" not in lists
    assert "South news" not in lists


def test_a_person_page_flags_bouncing_addresses(as_leader, org):
    org.alice.additional_emails.append(AdditionalEmail(email="alice@work-mail.ch", label="work"))
    db.session.flush()
    org.alice.additional_emails[0].bounced_at = datetime(2025, 3, 1)
    db.session.commit()
    addresses = section(person_page(as_leader, org.alice), "addresses-heading")
    primary, work = addresses.split("alice@work-mail.ch")
    assert org.alice.email in primary
    assert "bouncing" not in primary
    assert "bouncing" in work


def test_a_person_page_shows_the_mailchimp_status_as_last_read(as_leader, org):
    link(org.north_list, make.audience_of("key-us1", "aud1", org.north))
    org.north_list.audience_read_at = datetime(2025, 6, 2, 8, 30)
    db.session.add(
        AudienceMember(
            mailing_list_id=org.north_list.id, email=org.alice.email, status="unsubscribed"
        )
    )
    db.session.commit()
    lists = section(person_page(as_leader, org.alice), "lists-heading")
    assert re.search(rf"{re.escape(org.alice.email)}: <span[^>]*>unsubscribed", lists)
    assert "read Jun 2, 2025" in lists


def test_a_leader_cannot_open_the_page_of_someone_outside_their_groups(as_leader, org):
    assert as_leader.get(f"/admin/people/details/?id={org.bob.id}").status_code == 404


def test_the_people_list_shows_a_leader_only_active_roles_in_their_groups(as_leader, org):
    make.role(org.alice, org.club_b, org.leader_type)
    make.role(org.alice, org.north, org.leader_type, end_on=date(2020, 12, 31))
    db.session.commit()

    page = as_leader.get("/admin/people/").get_data(as_text=True)

    alice = re.search(rf"<tr(?:(?!</tr>).)*{re.escape(org.alice.email)}.*?</tr>", page, re.S)
    assert "Member" in alice.group(0)
    assert "Club A" in alice.group(0)
    assert "Leader" not in alice.group(0)
    assert "South" not in page
    assert "Club B" not in page
