"""Pages that name each role's group by its path (the People and Roles lists) read the
groups above the shown ones in one query, not one per row and level."""

from __future__ import annotations

import pytest

from mcbridge.extensions import db
from tests import factories as make
from tests.helpers import sql_statements


@pytest.mark.parametrize("page", ["/admin/people/", "/admin/roles/"])
def test_a_page_of_roles_reads_the_groups_above_them_at_once(as_admin, org, page):
    with sql_statements() as before:
        assert as_admin.get(page).status_code == 200
    for team in range(3):
        below = org.club_a
        for level in range(3):
            below = make.group(f"Team {team}.{level}", below)
        deep = make.person(f"Deep {team}", "Club", email=f"deep{team}@club.ch")
        make.role(deep, below, org.member_type)
    db.session.commit()
    with sql_statements() as after:
        shown = as_admin.get(page).text
    assert "Federation / North / Club A / Team 2.0 / Team 2.1 / Team 2.2" in shown
    assert len(after) == len(before)
