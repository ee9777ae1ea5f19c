"""What a public admin answers to hostile or unlucky requests: never a bare server error.

Numbers beyond what the database holds are 404s wherever a URL carries them (PostgreSQL
refuses an integer beyond its column outright, SQLite one beyond 64 bits).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from mcbridge.extensions import db
from mcbridge.models import Person, Role
from tests.admin.conftest import Organisation
from tests.helpers import csrf_token

OUT_OF_RANGE = (
    "99999999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-99999999999999999999999",
)
MODEL_VIEWS = ("groups", "people", "roles", "mailing-lists", "role-types", "users")
PLACEHOLDER = re.compile(r"<[^>]+>")
# Values of routes that name no database row: Flask-Admin's (disabled) export format and an
# RQ job's id. Given a number, those answer as they do to any unknown value.
NOT_ROWS = {"export_type", "job_id"}


def routes_with_arguments(app: Flask) -> list[tuple[str, set[str], bool]]:
    """Every URL rule of the app that carries a value (static files aside): the rule, its
    methods, and whether its values name rows."""
    return [
        (rule.rule, set(rule.methods or ()) & {"GET", "POST"}, not rule.arguments <= NOT_ROWS)
        for rule in app.url_map.iter_rules()
        if rule.arguments and not rule.endpoint.endswith("static")
    ]


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_every_route_answers_an_out_of_range_number_with_a_404(app, as_admin, number):
    token = csrf_token(as_admin, "/admin/people/")
    answers = {}
    for rule, methods, names_rows in routes_with_arguments(app):
        url = PLACEHOLDER.sub(number, rule)
        expected = {404} if names_rows else {302, 404}
        if "GET" in methods:
            answers[f"GET {url}"] = (as_admin.get(url).status_code, expected)
        if "POST" in methods:
            posted = as_admin.post(url, data={"csrf_token": token})
            answers[f"POST {url}"] = (posted.status_code, expected)
    assert len(answers) > 20
    assert {
        request: code for request, (code, expected) in answers.items() if code not in expected
    } == {}


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_paging_sorting_and_filters_of_the_lists_refuse_out_of_range_numbers(
    as_admin, org: Organisation, number
):
    urls = [
        *(f"/admin/{slug}/?{arg}={number}" for slug in MODEL_VIEWS for arg in ("page", "sort")),
        *(f"/admin/{slug}/?page_size={number}" for slug in MODEL_VIEWS),
        *(f"/admin/{slug}/edit/?id={number}" for slug in MODEL_VIEWS),
        *(f"/admin/{slug}/?flt0_0={number}" for slug in ("groups", "people", "roles")),
        f"/admin/mailing-lists/?flt0_0={number}",
        f"/admin/subscribers/{org.north_list.id}/?page={number}",
        f"/admin/exports/{org.north_list.id}/history?page={number}",
        f"/admin/roles/ajax/lookup/?name=person&query=a&offset={number}",
        f"/admin/roles/ajax/lookup/?name=person&query=a&limit={number}",
    ]
    answers = {url: as_admin.get(url).status_code for url in urls}
    assert {url: code for url, code in answers.items() if code != 404} == {}


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_forms_given_out_of_range_ids_change_nothing(as_admin, org: Organisation, number):
    token = csrf_token(as_admin, "/admin/people/")
    people, roles = db.session.query(Person).count(), db.session.query(Role).count()

    deleted = as_admin.post("/admin/people/delete/", data={"id": number, "csrf_token": token})
    bulk = as_admin.post(
        "/admin/people/action/",
        data={"action": "delete", "rowid": [number, str(org.alice.id)], "csrf_token": token},
    )
    new_role = as_admin.post(
        "/admin/roles/new/",
        data={
            "person": number,
            "group": str(org.north.id),
            "role_type": str(org.member_type.id),
            "csrf_token": token,
        },
    )

    assert deleted.status_code == 404
    assert bulk.status_code == 302
    assert new_role.status_code == 200
    assert "Not a valid choice" in new_role.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(Person).count() == people - 1  # Alice, the valid id of the bulk
    assert db.session.query(Role).count() == roles - 1


def test_a_page_number_that_is_no_number_is_a_404_and_an_absent_one_the_first(
    as_admin, org: Organisation
):
    subscribers = f"/admin/subscribers/{org.north_list.id}/"
    assert as_admin.get(subscribers).status_code == 200
    assert as_admin.get(f"{subscribers}?page=0").status_code == 200
    assert as_admin.get(f"{subscribers}?page=abc").status_code == 404
    assert as_admin.get(f"{subscribers}?page=1.5").status_code == 404
    assert as_admin.get("/admin/people/?page=1").status_code == 200
