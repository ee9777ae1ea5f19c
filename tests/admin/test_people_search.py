"""People search, the same on the People list, in the person picker and on a list's
subscriber view: every typed word, in any order, in a name, the main address or the
company; as the database lowers letters; `%` and `_` as letters; within the user's scope."""

from __future__ import annotations

import json
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from mcbridge import create_app
from mcbridge.admin import people as people_view
from mcbridge.extensions import db
from mcbridge.models import Person
from mcbridge.models import search_index as index
from tests import factories as make
from tests.conftest import base_config
from tests.helpers import RequestPerContextClient, sign_in


def listed(client, typed: str) -> set[int]:
    """The ids of the people the People list shows for a search."""
    response = client.get("/admin/people/", query_string={"search": typed})
    assert response.status_code == 200
    return {int(number) for number in re.findall(r"details/\?id=(\d+)", response.text)}


def listed_in_order(client, typed: str, **sorting: str) -> list[str]:
    """The last names of the people the People list shows for a search, top to bottom
    (each row links its last name, then its first name)."""
    response = client.get("/admin/people/", query_string={"search": typed, **sorting})
    assert response.status_code == 200
    return re.findall(r'details/\?id=\d+">([^<]*)</a>', response.text)[::2]


def list_tab(client, typed: str, language: str = "en") -> str:
    """What the People list's tab says of a search's matches: "List (3)"."""
    response = client.get(
        "/admin/people/", query_string={"search": typed}, headers={"Accept-Language": language}
    )
    return re.search(r'class="nav-link active">([^<]*)</a>', response.text).group(1)


def picked(client, typed: str) -> set[str]:
    """The labels the person picker of a role's form offers."""
    response = client.get(
        "/admin/roles/ajax/lookup/", query_string={"name": "person", "query": typed}
    )
    assert response.status_code == 200
    return {label for _id, label in json.loads(response.text)}


def person_in(org, first: str, last: str, **fields: str) -> Person:
    """Someone in Club A (North): within the leader's scope."""
    person = make.person(first, last, email=fields.pop("email", ""))
    for name, value in fields.items():
        setattr(person, name, value)
    make.role(person, org.club_a, org.member_type)
    db.session.commit()
    return person


@pytest.fixture
def people(org):
    """Names sharing letters, so a search finding too much or too little shows."""
    return {
        "marie": person_in(org, "Marie", "Baumann", email="mb@club-mail.ch"),
        "mario": person_in(org, "Mario", "Bauer", nickname="Super Mario"),
        "zoe": person_in(
            org, "Zoë", "Müller", email="zm@club-mail.ch", company="Chocolat Frères SA"
        ),
        "percent": person_in(org, "Paul", "Percent", company="100%_Sport"),
    }


@pytest.mark.parametrize(
    "typed", ["Marie Baumann", "baumann marie", "BAUM mar", "  mar   baum  ", "mb@club"]
)
def test_the_people_list_finds_a_person_by_full_name_in_either_order(as_admin, people, typed):
    assert listed(as_admin, typed) == {people["marie"].id}


def test_the_people_list_finds_by_nickname_address_and_company(as_admin, people):
    assert listed(as_admin, "super") == {people["mario"].id}
    assert listed(as_admin, "club-mail.ch marie") == {people["marie"].id}
    assert listed(as_admin, "frères") == {people["zoe"].id}
    assert listed(as_admin, "bau") == {people["marie"].id, people["mario"].id}


def test_words_of_one_or_two_letters_are_found_too(as_admin, people):
    assert listed(as_admin, "ma ba") == {people["marie"].id, people["mario"].id}
    assert listed(as_admin, "ie ba") == {people["marie"].id}
    assert listed(as_admin, "zo") == {people["zoe"].id}


def test_a_word_must_lie_within_one_field(as_admin, people):
    """No match across the end of one name and the start of the next."""
    assert listed(as_admin, "mariebaumann") == set()


def test_case_is_ignored_as_the_database_lowers_letters_and_accents_count(as_admin, people):
    assert listed(as_admin, "MÜLLER ZOË") == {people["zoe"].id}
    assert listed(as_admin, "müller") == {people["zoe"].id}
    assert listed(as_admin, "muller") == set()


def test_percent_and_underscore_are_letters(as_admin, people):
    assert listed(as_admin, "100%_sport") == {people["percent"].id}
    assert listed(as_admin, "%_") == {people["percent"].id}
    assert listed(as_admin, "Mar%e") == set()
    assert listed(as_admin, "M_rie") == set()
    assert listed(as_admin, '"marie"') == set()


def test_a_leader_never_finds_people_outside_their_groups(as_leader, org, people):
    assert listed(as_leader, "Bob South") == set()
    assert listed(as_leader, "bob") == set()
    assert listed(as_leader, "Marie Baumann") == {people["marie"].id}
    assert picked(as_leader, "Bob South") == set()


def test_an_administrator_finds_everyone(as_admin, org, people):
    assert listed(as_admin, "south bob") == {org.bob.id}


def test_the_picker_uses_the_same_search(as_admin, people):
    assert picked(as_admin, "baumann ma") == {str(people["marie"])}
    assert picked(as_admin, "sport 100%") == {str(people["percent"])}
    assert picked(as_admin, "ma ba") == {str(people["marie"]), str(people["mario"])}


def test_matches_come_in_name_order_whether_or_not_the_index_finds_them(as_admin, org, people):
    """Three letters or more are sorted from the index's matches, shorter words walk the
    names in order: the same order either way, in both directions, and in the picker."""
    person_in(org, "Anna", "Bauhaus")
    in_order = ["Bauer", "Bauhaus", "Baumann"]
    assert listed_in_order(as_admin, "bau") == in_order
    assert listed_in_order(as_admin, "bau", sort="0", desc="1") == in_order[::-1]
    assert [name for name in listed_in_order(as_admin, "ba") if name in in_order] == in_order
    picked_in_order = as_admin.get(
        "/admin/roles/ajax/lookup/", query_string={"name": "person", "query": "bau"}
    ).json
    assert [label.split()[1] for _id, label in picked_in_order] == in_order


def test_a_word_most_people_hold_comes_in_name_order_too(as_admin, org):
    """Met at once in name order, such a word is not sorted from all its matches: the
    page is the same."""
    for number in range(60):
        person_in(org, f"First {number}", f"Dense {59 - number:02}", email=f"d{number}@dense.ch")
    shown = listed_in_order(as_admin, "dense.ch")
    assert shown == [f"Dense {number:02}" for number in range(50)]
    picked_in_order = as_admin.get(
        "/admin/roles/ajax/lookup/", query_string={"name": "person", "query": "dense.ch"}
    ).json
    assert [" ".join(label.split()[2:4]) for _id, label in picked_in_order] == shown[:10]


def test_a_search_counts_its_matches_only_as_far_as_the_pager_needs(as_admin, people, monkeypatch):
    monkeypatch.setattr(people_view, "SEARCH_COUNTED", 2)
    assert list_tab(as_admin, "baumann") == "List (1)"
    assert list_tab(as_admin, "bau") == "List (2)"
    assert list_tab(as_admin, "club") == "List (more than 2)"
    assert list_tab(as_admin, "club", "fr") == "Liste (plus de 2)"
    assert len(listed(as_admin, "club")) > 2, "the page shows matches past the count"


def test_a_leaders_search_counts_every_match_in_their_groups(as_leader, org, people, monkeypatch):
    """A leader's matches are all read to sort them: they are counted exactly, with the
    page, past what an administrator's search counts to, and never anyone outside."""
    monkeypatch.setattr(people_view, "SEARCH_COUNTED", 2)
    person_in(org, "Jacques", "Frère", company="Les Frères Jacques")
    person_in(org, "Jean", "Frère", company="Les Frères Jacques")
    assert list_tab(as_leader, "frères") == "List (3)"
    assert list_tab(as_leader, "frères", "de") == "Liste (3)"
    assert list_tab(as_leader, "marie baumann") == "List (1)"
    assert len(listed(as_leader, "frères")) == 3


def test_the_subscriber_view_uses_the_same_search(as_admin, org, people):
    url = f"/admin/subscribers/{org.north_list.id}/"
    found = as_admin.get(url, query_string={"q": "frères zoë"}).text
    assert people["zoe"].email in found
    assert people["marie"].email not in found
    missing = as_admin.get(url, query_string={"q": "frères marie"}).text
    assert people["zoe"].email not in missing


def test_the_search_follows_changes_to_people(as_admin, people):
    marie = people["marie"]
    marie.last_name = "Keller"
    db.session.commit()
    assert listed(as_admin, "baumann") == set()
    assert listed(as_admin, "marie keller") == {marie.id}

    db.session.delete(people["zoe"])
    db.session.commit()
    assert listed(as_admin, "müller") == set()


def test_the_migrations_build_the_search_index(app):
    if db.engine.dialect.name == "sqlite":
        names = set(
            db.session.scalars(
                text("SELECT name FROM sqlite_master WHERE name LIKE :like"),
                {"like": f"{index.FTS_TABLE}%"},
            )
        )
        assert {index.FTS_TABLE, *index.FTS_TRIGGERS} <= names
    else:
        found = db.session.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
            {"name": index.TRIGRAM_INDEX},
        )
        assert "gin_trgm_ops" in found


def test_without_a_search_index_search_still_finds_people(
    fresh_database, sandbox_server, monkeypatch
):
    """An SQLite without the trigram tokenizer (as before 3.34) upgrades without the
    index, and search scans instead."""
    if not fresh_database.startswith("sqlite"):
        pytest.skip("SQLite's version decides about its index")
    monkeypatch.setattr(index, "SQLITE_TRIGRAM_VERSION", (99, 0, 0))
    app = create_app(base_config(fresh_database, sandbox_server))
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        upgrade()
        assert not db.session.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE name = :name"),
            {"name": index.FTS_TABLE},
        )
        club = make.group("Club")
        marie = make.person("Marie", "Baumann")
        make.role(marie, club, make.role_type("Member"))
        make.person("Mario", "Bauer")
        make.user("admin@club-mail.ch", admin=True)
        db.session.commit()
        client = app.test_client()
        sign_in(client, "admin@club-mail.ch")
        assert listed(client, "baumann mar") == {marie.id}
        db.session.remove()
        db.engine.dispose()
