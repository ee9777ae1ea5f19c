"""Group choices load as the user types: list pages and forms weigh the same whatever the
number of groups, and a leader's searches find only their own groups."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import insert

from mcbridge.extensions import db
from mcbridge.models import Group, MailingList, Person, Role
from tests import factories as make
from tests.admin.conftest import Organisation
from tests.helpers import post_form

MANY = 2000
LARGEST_PAGE = 100_000  # bytes
LIST_PAGES = ("people", "roles", "mailing-lists", "groups")
FORMS = ("people/new/", "roles/new/", "mailing-lists/new/", "groups/new/", "connections/new/")
SEARCHES = {  # a group search of each view: the group filter's, and each group field's
    "people": ("group_filter", "first_role_group"),
    "roles": ("group_filter", "group"),
    "mailing-lists": ("group_filter", "group", "subscription-group"),
    "groups": ("group_filter", "parent"),
}


def found(client, view: str, typed: str, name: str = "group_filter", **page: int) -> list[str]:
    """The paths a group search of `view` offers for what was typed."""
    response = client.get(
        f"/admin/{view}/ajax/lookup/", query_string={"name": name, "query": typed, **page}
    )
    assert response.status_code == 200
    return [path for _id, path in json.loads(response.get_data(as_text=True))]


def filter_searches(page: str) -> dict[str, dict]:
    """What a list page gives its group filter's field (static/filter-search.js)."""
    match = re.search(r'filter-search\.js" data-searches="([^"]*)"', page)
    assert match, "no group filter search on the page"
    return json.loads(html.unescape(match.group(1)))


@pytest.fixture
def many_groups(org: Organisation) -> None:
    """MANY teams below North, the leader's region."""
    rows = [{"name": f"Team {number:04d}", "parent_id": org.north.id} for number in range(MANY)]
    db.session.execute(insert(Group), rows)
    db.session.commit()


@pytest.mark.parametrize("view", LIST_PAGES)
def test_a_list_page_stays_small_however_many_groups(many_groups, as_leader, org, view):
    everything = as_leader.get(f"/admin/{view}/?table=1")
    filtered = as_leader.get(f"/admin/{view}/?flt0_0={org.north.id}")
    for response in (everything, filtered):
        assert response.status_code == 200
        assert len(response.get_data()) < LARGEST_PAGE
    assert "Team 1999" not in everything.get_data(as_text=True)


@pytest.mark.parametrize("form", FORMS)
def test_a_form_with_group_fields_stays_small_however_many_groups(many_groups, as_admin, form):
    response = as_admin.get(f"/admin/{form}")
    assert response.status_code == 200
    assert len(response.get_data()) < LARGEST_PAGE


def test_a_lists_form_with_rules_stays_small_however_many_groups(many_groups, as_leader, org):
    response = as_leader.get(f"/admin/mailing-lists/edit/?id={org.north_list.id}")
    page = response.get_data(as_text=True)
    assert len(response.get_data()) < LARGEST_PAGE
    assert "Federation / North" in page  # the list's group, and its rule's, by path
    assert "Team 1999" not in page


@pytest.mark.parametrize("view", SEARCHES)
def test_a_leaders_group_searches_find_only_their_groups(as_leader, org, view):
    for name in SEARCHES[view]:
        assert found(as_leader, view, "", name) == [
            "Federation / North",
            "Federation / North / Club A",
        ]
        assert found(as_leader, view, "club", name) == ["Federation / North / Club A"]
        assert found(as_leader, view, "South", name) == []


def test_an_administrator_searches_every_group(as_admin, org):
    assert found(as_admin, "roles", "club") == [
        "Federation / North / Club A",
        "Federation / South / Club B",
    ]


@pytest.mark.parametrize("typed", ["north club", "CLUB north", "  fed  club ", "North / Club"])
def test_a_group_is_found_by_words_of_its_path_in_any_order(as_leader, org, typed):
    assert found(as_leader, "people", typed) == ["Federation / North / Club A"]


def test_what_is_typed_is_matched_as_written(as_admin, org):
    make.group("100% Sport", org.north)
    make.group("Juniors_U18", org.north)
    db.session.commit()
    assert found(as_admin, "people", "100%") == ["Federation / North / 100% Sport"]
    assert found(as_admin, "people", "s_u") == ["Federation / North / Juniors_U18"]
    assert found(as_admin, "people", "%") == ["Federation / North / 100% Sport"]


def test_a_search_returns_a_page_of_groups_at_most(many_groups, as_leader):
    first = found(as_leader, "roles", "team", limit=1000)
    second = found(as_leader, "roles", "team", offset=20, limit=20)
    assert first == [f"Federation / North / Team {number:04d}" for number in range(20)]
    assert second == [f"Federation / North / Team {number:04d}" for number in range(20, 40)]


def test_a_chosen_filter_is_shown_by_its_path_and_still_filters(as_leader, org):
    response = as_leader.get(f"/admin/roles/?flt0_0={org.club_a.id}")
    page = response.get_data(as_text=True)
    assert filter_searches(page)["0"]["chosen"] == {
        str(org.club_a.id): "Federation / North / Club A"
    }
    assert "Alice" in page
    assert "Nora" not in page  # her role is in North, above Club A


def test_a_filter_on_a_group_out_of_scope_shows_neither_its_path_nor_its_rows(as_leader, org):
    response = as_leader.get(f"/admin/roles/?flt0_0={org.south.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert filter_searches(page)["0"]["chosen"] == {}
    assert "South" not in page
    assert "Bob" not in page


def test_a_leader_saves_forms_with_a_group_chosen_and_reads_it_by_path(as_leader, org):
    member = str(org.member_type.id)
    role = post_form(
        as_leader,
        "/admin/roles/new/",
        {"person": str(org.alice.id), "group": str(org.north.id), "role_type": member},
    )
    group = post_form(
        as_leader, "/admin/groups/new/", {"name": "Club C", "parent": str(org.club_a.id)}
    )
    assert role.status_code == group.status_code == 302
    assert db.session.query(Role).filter_by(person=org.alice, group=org.north).count() == 1
    club_c = db.session.query(Group).filter_by(name="Club C").one()
    assert club_c.parent == org.club_a
    edit = as_leader.get(f"/admin/groups/edit/?id={club_c.id}").get_data(as_text=True)
    assert f'value="{org.club_a.id}"' in edit
    assert "Federation / North / Club A" in edit


def test_group_fields_refuse_a_group_out_of_the_leaders_scope(as_leader, org):
    member = str(org.member_type.id)
    post_form(
        as_leader,
        "/admin/roles/new/",
        {"person": str(org.alice.id), "group": str(org.south.id), "role_type": member},
    )
    post_form(
        as_leader,
        "/admin/mailing-lists/new/",
        {"group": str(org.south.id), "name": "Hijack"},
    )
    post_form(
        as_leader,
        "/admin/people/new/",
        {
            "first_name": "Sid",
            "first_role_group": str(org.south.id),
            "first_role_type": member,
        },
    )
    assert db.session.query(Role).filter_by(person=org.alice, group=org.south).count() == 0
    assert db.session.query(MailingList).filter_by(name="Hijack").count() == 0
    assert db.session.query(Person).filter_by(first_name="Sid").count() == 0
