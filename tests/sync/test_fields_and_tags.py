"""The list's field mapping and role tags, exported to the sandbox."""

from __future__ import annotations

from datetime import date, timedelta

from mcbridge.extensions import db
from mcbridge.mailchimp.keys import subscriber_hash
from mcbridge.messages import render
from tests import factories as make


def tags_of(club, email: str) -> set[str]:
    return {tag["name"] for tag in club.member(email)["tags"]}


def merge_field_types(club) -> dict[str, str]:
    answer = club.mailchimp().lists.merge_fields.all(club.audience, get_all=True)
    return {field["tag"]: field["type"] for field in answer["merge_fields"]}


def test_fields_can_be_turned_off_and_added(club):
    club.newsletter.merge_field_map = [
        {"source": "last_name", "tag": "LNAME"},
        {"source": "birthday", "tag": "BDAY"},
        {"source": "groups", "tag": "GROUPS"},
    ]
    anna = club.join("Anna", last_name="Muster")
    anna.birthday = date(1990, 3, 7)
    db.session.commit()

    run = club.export()

    assert run.state == "success"
    fields = club.member(anna.email)["merge_fields"]
    assert (fields["FNAME"], fields["LNAME"], fields["BDAY"], fields["GROUPS"]) == (
        "",
        "Muster",
        "03/07",
        "Rowing Club Basel",
    )
    assert merge_field_types(club)["BDAY"] == "birthday"


def test_a_value_outside_a_dropdowns_choices_is_left_out_and_reported(club):
    club.newsletter.merge_field_map = [{"source": "gender", "tag": "GENDER"}]
    anna, alex = club.join("Anna"), club.join("Alex")
    anna.gender, alex.gender = "female", "other"
    db.session.commit()
    club.mailchimp().lists.merge_fields.create(
        club.audience,
        {
            "tag": "GENDER",
            "name": "Gender",
            "type": "dropdown",
            "options": {"choices": ["female", "male"]},
        },
    )

    run = club.export()

    assert (run.state, run.added) == ("success", 2)
    assert club.member(anna.email)["merge_fields"]["GENDER"] == "female"
    assert club.member(alex.email)["merge_fields"]["GENDER"] == ""
    (issue,) = run.issues
    assert issue.email == alex.email
    assert "GENDER left out: “other” is not one of the field's choices (female, male)" in render(
        issue.message
    )


def test_role_types_become_tags_and_leave_with_the_role(club):
    club.newsletter.role_tags = True
    anna = club.join("Anna")
    coaching = make.role(anna, club.club, club.coach_type)
    ben = club.join("Ben")
    db.session.commit()
    club.export()
    assert tags_of(club, anna.email) == {"mcbridge: Club news", "Member", "Coach"}
    client = club.mailchimp()
    tag = {"tags": [{"name": "VIP", "status": "active"}]}
    client.lists.members.tags.update(club.audience, subscriber_hash(anna.email), tag)
    coach = {"tags": [{"name": "Coach", "status": "active"}]}
    client.lists.members.tags.update(club.audience, subscriber_hash(ben.email), coach)

    coaching.end_on = date.today() - timedelta(days=1)
    db.session.commit()
    run = club.export()

    assert (run.state, run.updated) == ("success", 1)
    assert tags_of(club, anna.email) == {"mcbridge: Club news", "Member", "VIP"}
    assert tags_of(club, ben.email) == {"mcbridge: Club news", "Member", "Coach"}
    assert club.export().state == "unchanged"


def test_a_rule_outside_the_lists_tree_still_names_tags_and_groups(club):
    """A club's list for "Leaders of Region West": West is not below the club."""
    club.newsletter.role_tags = True
    club.newsletter.merge_field_map = [{"source": "groups", "tag": "GROUPS"}]
    west = make.group("Region West")
    leader_type = make.role_type("Leader")
    make.role_rule(club.newsletter, west, leader_type)
    wanda = make.person("Wanda", "West")
    make.role(wanda, west, leader_type)
    db.session.commit()

    run = club.export()

    assert run.state == "success"
    assert tags_of(club, wanda.email) == {"mcbridge: Club news", "Leader"}
    assert club.member(wanda.email)["merge_fields"]["GROUPS"] == "Region West"


def test_a_field_chosen_to_be_emptied_is_emptied_and_never_created(club):
    club.newsletter.merge_field_map = [{"source": "birthday", "tag": "BDAY"}]
    anna = club.join("Anna")
    anna.birthday = date(1990, 3, 7)
    db.session.commit()
    club.export()
    assert club.member(anna.email)["merge_fields"]["BDAY"] == "03/07"

    club.newsletter.merge_field_map = [
        {"source": "emptied", "tag": "BDAY"},
        {"source": "emptied", "tag": "NOPE"},
    ]
    db.session.commit()
    run = club.export()

    assert (run.state, run.updated) == ("success", 1)
    assert club.member(anna.email)["merge_fields"]["BDAY"] == ""
    assert "NOPE" not in merge_field_types(club)
    assert club.export().state == "unchanged"
