"""Scoping: a group leader reaches only their groups, the groups below, and what hangs there.

Every list, edit, delete and export is filtered server-side; a guessed URL of another
group's record is a 404 and changes nothing.
"""

from __future__ import annotations

import re

import pytest

from mcbridge.extensions import db
from mcbridge.models import Group, MailingList, Person, Role
from tests import factories as make
from tests.helpers import post_form, sign_in


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_strangers_are_sent_to_sign_in(client, org):
    for url in ("/admin/groups/", "/admin/people/", f"/admin/subscribers/{org.north_list.id}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/account/sign-in" in response.headers["Location"]


def test_wrong_password_does_not_sign_in(client, org):
    response = post_form(
        client,
        "/admin/account/sign-in",
        {"email": org.leader.email, "password": "not the password"},
    )
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/admin/groups/").status_code == 302


def test_leader_lists_only_their_subtree(as_leader, org):
    groups = page(as_leader, "/admin/groups/")
    assert "Club A" in groups
    assert "South" not in groups
    people = page(as_leader, "/admin/people/")
    assert "Alice" in people
    assert "Bob" not in people
    roles = page(as_leader, "/admin/roles/")
    assert "Alice" in roles
    assert "Bob" not in roles
    lists = page(as_leader, "/admin/mailing-lists/")
    assert "North news" in lists
    assert "South news" not in lists


def test_admin_lists_everything(as_admin, org):
    assert "Club B" in page(as_admin, "/admin/groups/")
    assert "Bob" in page(as_admin, "/admin/people/")
    assert "South news" in page(as_admin, "/admin/mailing-lists/")


@pytest.mark.parametrize(
    ("endpoint", "record"),
    [
        ("groups", lambda org: org.club_b),
        ("people", lambda org: org.bob),
        ("roles", lambda org: org.bob_role),
        ("mailing-lists", lambda org: org.south_list),
    ],
)
def test_guessed_urls_of_other_groups_are_404_and_change_nothing(as_leader, org, endpoint, record):
    target = record(org)
    target_id = target.id
    assert as_leader.get(f"/admin/{endpoint}/edit/?id={target_id}").status_code == 404
    token_page = f"/admin/{endpoint}/"
    edit = post_form(
        as_leader,
        f"/admin/{endpoint}/edit/?id={target_id}",
        {"name": "Hijacked", "first_name": "Hijacked"},
        page=token_page,
    )
    assert edit.status_code == 404
    delete = post_form(as_leader, f"/admin/{endpoint}/delete/", {"id": target_id}, page=token_page)
    assert delete.status_code == 404
    bulk = post_form(
        as_leader,
        f"/admin/{endpoint}/action/",
        {"action": "delete", "rowid": [str(target_id)]},
        page=token_page,
    )
    assert bulk.status_code in (200, 302)
    db.session.expire_all()
    still_there = db.session.get(type(target), target_id)
    assert still_there is not None
    assert "Hijacked" not in str(still_there)


def test_subscribers_and_csv_of_other_groups_are_404(as_leader, org):
    assert as_leader.get(f"/admin/subscribers/{org.south_list.id}/").status_code == 404
    csv = as_leader.get(f"/admin/subscribers/{org.south_list.id}/subscribers.csv")
    assert csv.status_code == 404
    assert as_leader.get(f"/admin/subscribers/{org.north_list.id}/").status_code == 200


def test_leader_cannot_create_in_a_group_outside_scope(as_leader, org):
    before = db.session.query(MailingList).count()
    response = post_form(
        as_leader,
        "/admin/mailing-lists/new/",
        {"group": str(org.south.id), "name": "Sneaky list"},
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.query(MailingList).count() == before

    roles_before = db.session.query(Role).count()
    post_form(
        as_leader,
        "/admin/roles/new/",
        {
            "person": str(org.alice.id),
            "group": str(org.club_b.id),
            "role_type": str(org.member_type.id),
        },
    )
    assert db.session.query(Role).count() == roles_before


def test_leader_cannot_pick_people_outside_scope(as_leader, org):
    response = post_form(
        as_leader,
        "/admin/roles/new/",
        {
            "person": str(org.bob.id),
            "group": str(org.club_a.id),
            "role_type": str(org.member_type.id),
        },
    )
    assert response.status_code == 200
    assert (
        db.session.query(Role).filter_by(person_id=org.bob.id, group_id=org.club_a.id).count() == 0
    )
    search = as_leader.get("/admin/roles/ajax/lookup/?name=person&query=o")
    names = search.get_data(as_text=True)
    assert "Nora" in names
    assert "Bob" not in names


def test_leader_creates_groups_only_below_their_own(as_leader, org):
    post_form(as_leader, "/admin/groups/new/", {"name": "Club C", "parent": str(org.north.id)})
    post_form(as_leader, "/admin/groups/new/", {"name": "Rogue top", "parent": ""})
    post_form(as_leader, "/admin/groups/new/", {"name": "Rogue south", "parent": str(org.south.id)})
    names = {group.name for group in db.session.query(Group)}
    assert "Club C" in names
    assert "Rogue top" not in names
    assert "Rogue south" not in names


def test_leader_cannot_delete_a_person_with_roles_elsewhere(as_leader, org):
    make.role(org.alice, org.club_b, org.member_type)
    db.session.commit()
    post_form(as_leader, "/admin/people/delete/", {"id": org.alice.id}, page="/admin/people/")
    db.session.expire_all()
    assert db.session.get(Person, org.alice.id) is not None


def test_users_are_for_admins_only(as_leader, org):
    assert as_leader.get("/admin/users/").status_code == 403
    assert as_leader.get("/admin/users/new/").status_code == 403


def test_role_types_are_read_only_for_leaders(as_leader, org):
    assert "Leader" in page(as_leader, "/admin/role-types/")
    post_form(
        as_leader,
        "/admin/role-types/new/",
        {"name": "Hacker", "manages": "y"},
        page="/admin/role-types/",
    )
    assert "Hacker" not in page(as_leader, "/admin/role-types/")


def test_an_account_without_a_leading_role_sees_nothing(client, org):
    make.user("someone@club-mail.ch", holder=org.alice)
    sign_in(client, "someone@club-mail.ch")
    dashboard = page(client, "/admin/")
    assert "does not lead any group" in dashboard
    assert "Club A" not in page(client, "/admin/groups/")
    assert client.get(f"/admin/subscribers/{org.north_list.id}/").status_code == 404


def test_an_ended_leading_role_ends_the_access(client, org):
    from datetime import date, timedelta

    role = db.session.query(Role).filter_by(person_id=org.north_leader.id).one()
    role.end_on = date.today() - timedelta(days=1)
    db.session.commit()
    sign_in(client, org.leader.email)
    assert client.get(f"/admin/subscribers/{org.north_list.id}/").status_code == 404


def test_a_post_without_csrf_token_changes_nothing(as_admin, org):
    response = as_admin.post(
        "/admin/groups/new/", data={"name": "No token", "parent": str(org.north.id)}
    )
    assert response.status_code == 400
    assert db.session.query(Group).filter_by(name="No token").count() == 0
    signed_out = as_admin.post("/admin/account/sign-out")
    assert signed_out.status_code == 400
    assert as_admin.get("/admin/groups/").status_code == 200


def test_search_finds_people_within_the_leaders_scope_only(as_leader, org):
    assert "Alice" in page(as_leader, "/admin/people/?search=north")
    assert "Alice" not in page(as_leader, "/admin/people/?search=south")
    assert "Bob" not in page(as_leader, "/admin/people/?search=bob")


def test_the_dashboard_counts_what_the_leader_manages(as_leader, org):
    counts = re.findall(r'class="display-4">(\d+)<', page(as_leader, "/admin/"))
    assert counts == ["2", "2", "2", "1"]
