"""People as a leader finds and reads them: the person picker and a person's page."""

from __future__ import annotations

import json

import pytest

from mcbridge.extensions import db
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
