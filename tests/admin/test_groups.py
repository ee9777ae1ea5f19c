"""Groups as a tree a leader can open (issue 17, item 8), and the table kept for searching."""

from __future__ import annotations

import re

from sqlalchemy import insert

from mcbridge.extensions import db
from mcbridge.models import Group
from tests import factories as make
from tests.helpers import post_form, sql_statements


def tree_of(client) -> str:
    response = client.get("/admin/groups/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def nested_names(page: str) -> list[str]:
    """The groups' names with their depth, read from the nested lists as a screen reader
    walks them: one level deeper per list opened, one shallower per list closed."""
    depth, names = 0, []
    tree = page[page.index('<ul class="mcb-tree mcb-tree-root"') :]
    for token in re.finditer(r'<ul class="mcb-tree|</ul>|class="mcb-tree-name">([^<]+)<', tree):
        if token.group(0).startswith("<ul"):
            depth += 1
        elif token.group(0) == "</ul>":
            depth -= 1
        else:
            names.append("  " * (depth - 1) + token.group(1))
    return names


def test_an_administrator_sees_the_whole_tree_sorted_by_name(as_admin, org):
    make.group("Étoile", org.federation)
    db.session.commit()
    assert nested_names(tree_of(as_admin)) == [
        "Federation",
        "  Étoile",
        "  North",
        "    Club A",
        "  South",
        "    Club B",
    ]


def test_a_leader_sees_their_own_group_as_the_root_with_its_place(as_leader, org):
    page = tree_of(as_leader)
    assert nested_names(page) == ["North", "  Club A"]
    assert "in Federation" in page
    assert "South" not in page


def test_levels_open_and_close_with_named_buttons(as_admin, org):
    page = tree_of(as_admin)
    federation = re.search(
        rf'aria-expanded="true" aria-controls="below-{org.federation.id}">.*?'
        r"Groups below Federation",
        page,
        re.S,
    )
    assert federation
    assert f'aria-controls="below-{org.north.id}"' in page
    assert re.search(rf'<ul class="mcb-tree" id="below-{org.north.id}" hidden>', page)
    assert f'aria-controls="below-{org.club_a.id}"' not in page


def test_the_tree_is_in_the_users_language(as_admin, org):
    as_admin.post(
        "/admin/account/language/fr",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', tree_of(as_admin))[1]},
    )
    page = tree_of(as_admin)
    assert '<html lang="fr">' in page
    assert ">Créer</a>" in page
    assert nested_names(page)[:2] == ["Federation", "  North"]


def chosen_parent(form: str) -> str | None:
    """The group the form's parent field starts with (its id and path), if any."""
    field = re.search(r'<input[^>]* id="parent"[^>]*>', form)
    assert field, "no parent field"
    chosen = re.search(r'data-json="([^"]*)"', field.group(0))
    return chosen.group(1) if chosen else None


def test_add_a_group_below_starts_the_form_with_its_parent(as_leader, org):
    page = tree_of(as_leader)
    assert f"/admin/groups/new/?parent={org.club_a.id}" in page
    form = as_leader.get(f"/admin/groups/new/?parent={org.club_a.id}").get_data(as_text=True)
    assert chosen_parent(form) == f"[{org.club_a.id}, &#34;Federation / North / Club A&#34;]"
    response = post_form(
        as_leader,
        "/admin/groups/new/",
        {"name": "Juniors", "parent": str(org.club_a.id)},
        page=f"/admin/groups/new/?parent={org.club_a.id}",
    )
    assert response.status_code == 302
    assert db.session.query(Group).filter_by(name="Juniors").one().parent_id == org.club_a.id
    assert "Juniors" in nested_names(tree_of(as_leader))[-1]
    outside = as_leader.get(f"/admin/groups/new/?parent={org.south.id}").get_data(as_text=True)
    assert chosen_parent(outside) is None


def test_the_tree_links_to_the_table_which_still_searches_and_filters(as_leader, org):
    assert "/admin/groups/?table=1" in tree_of(as_leader)
    table = as_leader.get("/admin/groups/?table=1").get_data(as_text=True)
    assert "Federation / North / Club A" in table
    found = as_leader.get("/admin/groups/?search=club").get_data(as_text=True)
    assert "Federation / North / Club A" in found


def test_the_table_counts_the_roles_of_a_whole_page_in_one_query(as_admin, org):
    for number in range(10):
        make.role(org.alice, make.group(f"Team {number}", org.club_a), org.member_type)
    db.session.commit()

    with sql_statements() as statements:
        page = as_admin.get("/admin/groups/?table=1").get_data(as_text=True)

    assert "Team 9" in page
    role_reads = [sql for sql in statements if "FROM mcbridge_roles" in sql]
    assert len(role_reads) == 1


def add_groups_below(parent: Group, names: list[str]) -> None:
    db.session.execute(insert(Group), [{"name": name, "parent_id": parent.id} for name in names])
    db.session.commit()


def test_a_large_tree_draws_a_hundred_groups_and_links_to_those_below(as_admin, org):
    add_groups_below(org.club_a, ["Team 0", "Team 1", "Team 2"])
    for team in db.session.query(Group).filter(Group.name.like("Team _")):
        add_groups_below(team, [f"{team.name}.{number:02d}" for number in range(40)])
    last = db.session.query(Group).filter_by(name="Team 2").one()

    page = tree_of(as_admin)

    assert "      Team 1" in nested_names(page)  # levels are drawn while whole ones fit
    assert "        Team 1.39" in nested_names(page)
    assert "Team 2.00" not in page
    assert f'href="/admin/groups/?below={last.id}">40 groups below' in page
    below = as_admin.get(f"/admin/groups/?below={last.id}").get_data(as_text=True)
    assert nested_names(below)[:2] == ["Team 2", "  Team 2.00"]
    assert len(nested_names(below)) == 41
    assert "in Federation / North / Club A" in below
    assert "Back to the whole tree" in below


def test_groups_too_many_for_a_tree_page_link_to_the_table(as_admin, org):
    add_groups_below(org.club_b, [f"Crew {number:03d}" for number in range(150)])
    page = tree_of(as_admin)
    assert "Crew 000" not in page
    assert f'href="/admin/groups/?flt0_0={org.club_b.id}">150 groups below' in page
    table = as_admin.get(f"/admin/groups/?flt0_0={org.club_b.id}").get_data(as_text=True)
    assert "Federation / South / Club B / Crew 000" in table


def test_a_leader_opens_no_tree_below_a_group_out_of_their_scope(as_leader, org):
    assert as_leader.get(f"/admin/groups/?below={org.south.id}").status_code == 404
    assert as_leader.get("/admin/groups/?below=x").status_code == 404
    assert nested_names(tree_of(as_leader)) == ["North", "  Club A"]
