"""Creating and editing through the admin, as a group leader would."""

from __future__ import annotations

from mcbridge.extensions import db
from mcbridge.models import Group, MailingList, Person, Role, RoleType
from tests import factories as make
from tests.helpers import post_form


def flashes(response) -> str:
    return response.get_data(as_text=True)


def test_leader_adds_a_person_with_addresses_and_a_first_role(as_leader, org):
    response = post_form(
        as_leader,
        "/admin/people/new/",
        {
            "first_name": "Chloé",
            "last_name": "Favre",
            "email": "  Chloe.FAVRE@Club-Mail.ch ",
            "gender": "female",
            "additional_emails-0-email": "chloe@work-mail.ch",
            "additional_emails-0-label": "work",
            "additional_emails-0-mailings": "y",
            "first_role_group": str(org.club_a.id),
            "first_role_type": str(org.member_type.id),
        },
    )
    assert response.status_code == 302
    chloe = db.session.query(Person).filter_by(last_name="Favre").one()
    assert chloe.email == "chloe.favre@club-mail.ch"
    assert [(e.email, e.label, e.mailings) for e in chloe.additional_emails] == [
        ("chloe@work-mail.ch", "work", True)
    ]
    assert [(r.group.name, r.role_type.name) for r in chloe.roles] == [("Club A", "Member")]
    assert "Record was successfully created." in flashes(as_leader.get("/admin/people/"))


def test_a_persons_language_is_chosen_among_the_contact_languages(as_admin, org):
    form = as_admin.get("/admin/people/new/").get_data(as_text=True)
    assert '<option value="it">Italian</option>' in form

    saved = post_form(as_admin, "/admin/people/new/", {"first_name": "Marco", "language": "it"})
    refused = post_form(as_admin, "/admin/people/new/", {"first_name": "Ana", "language": "es"})

    assert saved.status_code == 302
    assert db.session.query(Person).filter_by(first_name="Marco").one().language == "it"
    assert "Not a valid choice" in flashes(refused)
    assert db.session.query(Person).filter_by(first_name="Ana").count() == 0


def test_a_person_without_a_role_in_scope_is_refused_to_a_leader(as_leader, org):
    response = post_form(
        as_leader, "/admin/people/new/", {"first_name": "Lost", "last_name": "Soul"}
    )
    assert "Give the person a role in one of your groups" in flashes(response)
    assert db.session.query(Person).filter_by(first_name="Lost").count() == 0


def test_an_invalid_address_is_explained_and_nothing_is_saved(as_admin, org):
    response = post_form(
        as_admin, "/admin/people/new/", {"first_name": "Typo", "email": "typo@@club-mail"}
    )
    assert response.status_code == 200
    assert "is not a valid address" in flashes(response)
    assert db.session.query(Person).filter_by(first_name="Typo").count() == 0


def test_mailing_list_with_rules_of_each_kind(as_leader, org):
    response = post_form(
        as_leader,
        "/admin/mailing-lists/new/",
        {
            "group": str(org.north.id),
            "name": "Coaches",
            "subscriptions-0-group": str(org.club_a.id),
            "subscriptions-0-role_types": [str(org.member_type.id), str(org.leader_type.id)],
            "subscriptions-1-person": str(org.north_leader.id),
            "subscriptions-2-person": str(org.alice.id),
            "subscriptions-2-excluded": "y",
        },
    )
    assert response.status_code == 302, flashes(response)
    coaches = db.session.query(MailingList).filter_by(name="Coaches").one()
    kinds = [
        (rule.group_id, sorted(t.name for t in rule.role_types), rule.person_id, rule.excluded)
        for rule in coaches.subscriptions
    ]
    assert kinds == [
        (org.club_a.id, ["Leader", "Member"], None, False),
        (None, [], org.north_leader.id, False),
        (None, [], org.alice.id, True),
    ]


def test_incomplete_rules_are_explained(as_leader, org):
    cases = [
        ({"subscriptions-0-group": str(org.club_a.id)}, "needs at least one role type"),
        ({"subscriptions-0-excluded": "y"}, "needs either a group with role types or a person"),
        (
            {
                "subscriptions-0-group": str(org.club_a.id),
                "subscriptions-0-role_types": str(org.member_type.id),
                "subscriptions-0-person": str(org.alice.id),
            },
            "not both",
        ),
    ]
    for rule, message in cases:
        response = post_form(
            as_leader,
            "/admin/mailing-lists/new/",
            {"group": str(org.north.id), "name": "Broken", **rule},
        )
        assert message in flashes(response)
    assert db.session.query(MailingList).filter_by(name="Broken").count() == 0


def test_a_group_cannot_move_below_itself(as_admin, org):
    response = post_form(
        as_admin,
        f"/admin/groups/edit/?id={org.north.id}",
        {"name": "North", "parent": str(org.club_a.id)},
    )
    assert "cannot be placed below itself" in flashes(response)
    db.session.expire_all()
    assert db.session.get(Group, org.north.id).parent_id == org.federation.id


def test_a_leader_renames_their_own_group_but_cannot_move_it(as_leader, org):
    response = post_form(
        as_leader,
        f"/admin/groups/edit/?id={org.north.id}",
        {"name": "North-East", "parent": str(org.club_a.id)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    north = db.session.get(Group, org.north.id)
    assert (north.name, north.parent_id) == ("North-East", org.federation.id)


def test_deleting_a_role_type_in_use_is_refused_in_plain_words(as_admin, org):
    response = post_form(
        as_admin, "/admin/role-types/delete/", {"id": org.member_type.id}, page="/admin/role-types/"
    )
    page = flashes(as_admin.get(response.headers["Location"]))
    assert "still in use" in page
    assert "sqlite" not in page.lower()
    assert "IntegrityError" not in page
    assert db.session.get(RoleType, org.member_type.id) is not None


def test_admin_creates_an_account_and_it_can_sign_in(as_admin, client, org):
    response = post_form(
        as_admin,
        "/admin/users/new/",
        {
            "email": "New.Leader@Club-Mail.ch",
            "new_password": "a long enough password",
            "active": "y",
        },
    )
    assert response.status_code == 302
    post_form(client, "/admin/account/sign-out", {}, page="/admin/")
    signed_in = post_form(
        client,
        "/admin/account/sign-in",
        {"email": "new.leader@club-mail.ch", "password": "a long enough password"},
    )
    assert signed_in.status_code == 302


def test_bulk_delete_removes_the_selected_rows_in_scope(as_leader, org):
    extra = make.role(org.alice, org.club_a, org.leader_type)
    db.session.commit()
    ids = [str(org.alice_role.id), str(extra.id)]

    response = post_form(
        as_leader, "/admin/roles/action/", {"action": "delete", "rowid": ids}, page="/admin/roles/"
    )

    assert "2 records were deleted." in flashes(as_leader.get(response.headers["Location"]))
    assert db.session.query(Role).filter(Role.person_id == org.alice.id).count() == 0


def test_person_rules_are_added_to_an_existing_list(as_leader, org):
    """The edit form's new inline rows: the person is set before anything is written."""
    response = post_form(
        as_leader,
        f"/admin/mailing-lists/edit/?id={org.north_list.id}",
        {
            "group": str(org.north.id),
            "name": "North news",
            "subscriptions-0-id": str(org.north_list.subscriptions[0].id),
            "subscriptions-0-group": str(org.north.id),
            "subscriptions-0-role_types": str(org.member_type.id),
            "subscriptions-1-person": str(org.north_leader.id),
            "subscriptions-2-person": str(org.alice.id),
            "subscriptions-2-excluded": "y",
        },
    )

    assert response.status_code == 302, flashes(response)
    db.session.expire_all()
    rules = [(rule.person_id, rule.excluded) for rule in org.north_list.subscriptions[1:]]
    assert rules == [(org.north_leader.id, False), (org.alice.id, True)]
