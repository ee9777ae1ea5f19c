"""Person tags, a rule's tag tests, list filters and preferred labels, through the admin
as a group leader sets them, and the subscriber view's plain-words line."""

from __future__ import annotations

from datetime import date

from mcbridge.extensions import db
from mcbridge.models import MailingList, Person
from tests import factories as make
from tests.helpers import post_form


def page(response) -> str:
    return response.get_data(as_text=True)


def edit_person(client, person: Person, tags: str):
    return post_form(
        client,
        f"/admin/people/edit/?id={person.id}",
        {"first_name": person.first_name, "last_name": person.last_name, "tag_names": tags},
    )


def test_a_leader_tags_a_person_on_their_form(as_leader, org):
    response = edit_person(as_leader, org.alice, " Vorstand ,J+S,, Vorstand")

    assert response.status_code == 302, page(response)
    db.session.expire_all()
    assert org.alice.tag_names == ["J+S", "Vorstand"]
    assert "J+S, Vorstand" in page(as_leader.get("/admin/people/"))


def test_a_tag_too_long_is_refused_naming_it_and_nothing_is_saved(as_leader, org):
    response = edit_person(as_leader, org.alice, "Vorstand, " + "x" * 61)

    assert f"“{'x' * 61}” is too long" in page(response)
    db.session.expire_all()
    assert org.alice.tag_names == []


def bulk(client, people: list[Person], change: str, tag: str):
    ids = [str(person.id) for person in people]
    asked = post_form(
        client, "/admin/people/action/", {"action": "tags", "rowid": ids}, page="/admin/people/"
    )
    assert "Add or remove a tag" in page(asked)
    form = {"rowid": ",".join(ids), "tag": tag, change: "1"}
    return client.post("/admin/people/tags/", data={**form, "csrf_token": token_in(page(asked))})


def token_in(html: str) -> str:
    return html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def test_a_leader_adds_and_removes_a_tag_in_bulk_only_in_their_scope(as_leader, org):
    response = bulk(as_leader, [org.alice, org.north_leader, org.bob], "add", "Vorstand")

    assert "“Vorstand” added to 2 people." in page(as_leader.get(response.headers["Location"]))
    db.session.expire_all()
    assert (org.alice.tag_names, org.north_leader.tag_names) == (["Vorstand"], ["Vorstand"])
    assert org.bob.tag_names == []

    response = bulk(as_leader, [org.alice], "remove", "Vorstand")
    assert "“Vorstand” removed from 1 person." in page(as_leader.get(response.headers["Location"]))
    db.session.expire_all()
    assert (org.alice.tag_names, org.north_leader.tag_names) == ([], ["Vorstand"])


def test_a_bulk_tag_must_be_one_tag(as_leader, org):
    response = bulk(as_leader, [org.alice], "add", "Vorstand, J+S")

    assert "Give one tag only." in page(response)
    db.session.expire_all()
    assert org.alice.tag_names == []


def list_form(org, **fields: str) -> dict[str, str]:
    return {
        "group": str(org.north.id),
        "name": "Young board",
        "subscriptions-0-group": str(org.north.id),
        "subscriptions-0-role_types": str(org.member_type.id),
        **fields,
    }


def new_list(client, org, **fields: str) -> MailingList:
    """The list the leader's form creates (it must be accepted)."""
    response = post_form(client, "/admin/mailing-lists/new/", list_form(org, **fields))
    assert response.status_code == 302, page(response)
    return db.session.query(MailingList).filter_by(name="Young board").one()


def test_a_rule_requiring_a_tag_and_filters_read_in_plain_words(as_leader, org):
    org.alice.tag_names = ["Vorstand"]
    org.alice.language, org.alice.birthday = "fr", date(2000, 1, 1)
    untagged = make.person("Untagged")
    untagged.language, untagged.birthday = "fr", date(2000, 1, 1)
    make.role(untagged, org.club_a, org.member_type)
    db.session.commit()

    response = post_form(
        as_leader,
        "/admin/mailing-lists/new/",
        list_form(
            org,
            **{
                "subscriptions-0-required_tags": "Vorstand",
                "subscriptions-0-excluded_tags": "Retired",
                "filter_language": "fr",
                "filter_min_age": "18",
                "filter_max_age": "30",
            },
        ),
    )

    assert response.status_code == 302, page(response)
    board = db.session.query(MailingList).filter_by(name="Young board").one()
    view = page(as_leader.get(f"/admin/subscribers/{board.id}/"))
    assert "Only recipients speaking French, aged 18–30." in view
    assert "with one of the tags Vorstand without the tags Retired" in view
    assert org.alice.email in view
    assert untagged.email not in view


def test_impossible_filters_and_tag_rules_are_explained_and_nothing_is_saved(as_leader, org):
    cases = [
        ({"filter_min_age": "30", "filter_max_age": "18"}, "The lowest age (30) is above"),
        (
            {"subscriptions-0-required_tags": "A, B", "subscriptions-0-excluded_tags": "B"},
            "A rule cannot both require and exclude the tag B.",
        ),
        ({"filter_min_age": "-1"}, "Number must be between 0 and 150."),
    ]
    for fields, message in cases:
        response = post_form(as_leader, "/admin/mailing-lists/new/", list_form(org, **fields))
        assert message in page(response)
    assert db.session.query(MailingList).filter_by(name="Young board").count() == 0


def test_preferred_labels_are_kept_and_named_on_the_subscriber_view(as_leader, org):
    response = post_form(
        as_leader,
        "/admin/mailing-lists/new/",
        list_form(org, sync_all_delivery_addresses="y", delivery_labels=" work , club"),
    )

    assert response.status_code == 302, page(response)
    board = db.session.query(MailingList).filter_by(name="Young board").one()
    assert board.delivery_labels == ["work", "club"]
    view = page(as_leader.get(f"/admin/subscribers/{board.id}/"))
    assert "Additional addresses only with the label work, club." in view


def test_a_condition_on_a_person_field_is_set_and_read_in_plain_words(as_leader, org):
    org.alice.company, org.alice.language = "ÉCOLE Migros-Klubschule", "fr"
    elsewhere = make.person("Elsewhere")
    elsewhere.company, elsewhere.language = "Coop", "fr"
    make.role(elsewhere, org.club_a, org.member_type)
    db.session.commit()

    board = new_list(
        as_leader,
        org,
        filter_language="fr",
        filter_field="company",
        filter_condition="contains",
        filter_value=" migros ",
    )

    assert (board.filter_field, board.filter_condition, board.filter_value) == (
        "company",
        "contains",
        "migros",
    )
    view = page(as_leader.get(f"/admin/subscribers/{board.id}/"))
    assert "Only recipients speaking French, whose company contains “migros”." in view
    assert org.alice.email in view
    assert elsewhere.email not in view


def test_a_birthday_condition_keeps_the_day_typed_and_says_it(as_leader, org):
    board = new_list(
        as_leader,
        org,
        filter_field="birthday",
        filter_condition="before",
        filter_value="31.12.1999",
    )

    assert board.filter_value == "1999-12-31"
    view = page(as_leader.get(f"/admin/subscribers/{board.id}/"))
    assert "Only recipients born before Dec 31, 1999." in view


def test_a_negated_condition_says_that_an_empty_field_passes(as_leader, org):
    org.north_list.filter_field = "last_name"
    org.north_list.filter_condition, org.north_list.filter_value = "not_contains", "zz"
    db.session.commit()

    view = page(as_leader.get(f"/admin/subscribers/{org.north_list.id}/"))

    assert "Only recipients whose last name does not contain “zz” or is empty." in view


def test_a_condition_on_a_person_field_that_makes_no_sense_is_explained(as_leader, org):
    cases = [
        (
            {"filter_field": "company", "filter_condition": "contains"},
            "“company contains” needs a value.",
        ),
        (
            {"filter_field": "birthday", "filter_condition": "after", "filter_value": "soon"},
            "“soon” is not a date",
        ),
        (
            {"filter_field": "birthday", "filter_condition": "after", "filter_value": "31.2.2000"},
            "“31.2.2000” is not a day of the calendar.",
        ),
        (
            {"filter_field": "nickname", "filter_condition": "empty", "filter_value": "Max"},
            "“is empty” takes no value: clear the value.",
        ),
        (
            {"filter_field": "company", "filter_condition": "before", "filter_value": "Coop"},
            "“before” does not apply to the company.",
        ),
        (
            {"filter_field": "company", "filter_value": "Coop"},
            "A condition on a person field needs both the field and the condition.",
        ),
        (
            {"filter_value": "Coop"},
            "Choose a field and a condition for the value, or clear the value.",
        ),
    ]
    for fields, message in cases:
        response = post_form(as_leader, "/admin/mailing-lists/new/", list_form(org, **fields))
        html = page(response)
        assert message in html
        typed = fields.get("filter_value")
        assert typed is None or f'value="{typed}"' in html
    assert db.session.query(MailingList).filter_by(name="Young board").count() == 0
