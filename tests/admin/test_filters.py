"""The list views' group filter, for the people who use it most: group leaders."""

from __future__ import annotations

import re

import pytest

from mcbridge.extensions import db
from tests import factories as make
from tests.admin.conftest import Organisation

# Each view's first filter is the group filter: `flt0_0` in Flask-Admin's URLs. Per view, a
# row of Club A and a row of North itself (patterns: the groups' cells end with the path).
GROUP_FILTERED = {
    "people": ("Alice", "Nora"),
    "roles": ("Alice", "Nora"),
    "mailing-lists": ("Club A news", "North news"),
    "groups": ("Federation / North / Club A", r"Federation / North\s*</td>"),
}


@pytest.fixture
def club_a_list(org: Organisation) -> None:
    make.mailing_list(org.club_a, "Club A news")
    db.session.commit()


@pytest.mark.parametrize("slug", GROUP_FILTERED)
def test_a_leader_filters_by_a_group_and_sees_that_group_and_below(
    club_a_list, as_leader, org, slug
):
    in_club_a, in_north = GROUP_FILTERED[slug]
    north = as_leader.get(f"/admin/{slug}/?flt0_0={org.north.id}")
    assert north.status_code == 200
    assert re.search(in_club_a, north.get_data(as_text=True))
    assert re.search(in_north, north.get_data(as_text=True))
    club = as_leader.get(f"/admin/{slug}/?flt0_0={org.club_a.id}")
    assert club.status_code == 200
    assert re.search(in_club_a, club.get_data(as_text=True))
    assert not re.search(in_north, club.get_data(as_text=True))


@pytest.mark.parametrize("slug", GROUP_FILTERED)
def test_a_leader_filtering_by_a_group_outside_their_scope_sees_nothing_of_it(as_leader, org, slug):
    response = as_leader.get(f"/admin/{slug}/?flt0_0={org.south.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bob" not in page
    assert "South news" not in page
    assert "Club B" not in page


@pytest.mark.parametrize("slug", GROUP_FILTERED)
def test_an_administrator_filters_every_group(as_admin, org, slug):
    response = as_admin.get(f"/admin/{slug}/?flt0_0={org.south.id}")
    assert response.status_code == 200
