"""What a public admin answers to hostile or unlucky requests: never a bare server error.

Numbers beyond what the database holds are 404s wherever a URL carries them (PostgreSQL
refuses an integer beyond its column outright, SQLite one beyond 64 bits). Without Redis,
what needs the queue is a 503 and what only shows exports says the queue is away; without
the database, every page is a plain 503. /health tells load balancers which one fails.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mcbridge import create_app
from mcbridge.connections import link
from mcbridge.extensions import db
from mcbridge.models import Person, Role, SyncRun
from tests import factories as make
from tests.admin.conftest import Organisation
from tests.conftest import base_config
from tests.helpers import RequestPerContextClient, csrf_token

OUT_OF_RANGE = (
    "99999999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-99999999999999999999999",
)
MODEL_VIEWS = ("groups", "people", "roles", "mailing-lists", "role-types", "users")
PLACEHOLDER = re.compile(r"<[^>]+>")
# Values of routes that name no database row: Flask-Admin's (disabled) export format, an RQ
# job's id and a mailed password link's token (kept in the session, then sent on to the
# token-free page that says whether it is usable). Given a number, those answer as they do
# to any unknown value.
NOT_ROWS = {"export_type", "job_id", "token"}


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


CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
CLOSED_PORT_DATABASE = "postgresql+psycopg://mcbridge@127.0.0.1:1/mcbridge"
QUEUE_PAUSED = "Exports are paused: the queue is unreachable."


def app_with(base: dict, **settings: str) -> Flask:
    broken = create_app({**base, **settings})
    broken.test_client_class = RequestPerContextClient
    return broken


def same_browser(broken: Flask, signed_in: FlaskClient) -> FlaskClient:
    """A client of `broken` carrying the session `signed_in` got from the working app (the
    sign-in needs what `broken` lacks)."""
    client = broken.test_client()
    session = signed_in.get_cookie("session")
    assert session is not None
    client.set_cookie("session", session.value)
    return client


@pytest.fixture
def settings(migrated_database, sandbox_server) -> dict:
    return base_config(migrated_database, sandbox_server)


@pytest.fixture
def without_redis(settings, as_admin) -> FlaskClient:
    """The administrator's browser on the app, its Redis at a closed port."""
    return same_browser(app_with(settings, REDIS_URL=CLOSED_PORT_REDIS), as_admin)


@pytest.fixture
def linked_list(org: Organisation) -> Organisation:
    """North news linked to an audience, with an export recorded as queued."""
    link(
        org.north_list, make.audience_of("0123456789abcdef0123456789abcdef-us1", "aud1", org.north)
    )
    org.north_list.consent_at = datetime.now(UTC).replace(tzinfo=None)
    db.session.add(
        SyncRun(
            mailing_list=org.north_list,
            trigger="manual",
            state="queued",
            job_id="mcbridge-sync-gone",
            created_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )
    db.session.commit()
    return org


def test_pages_that_show_exports_say_the_queue_is_unreachable_and_answer(
    linked_list, without_redis
):
    org = linked_list
    run = db.session.query(SyncRun).one()
    pages = {
        "list": f"/admin/subscribers/{org.north_list.id}/",
        "history": f"/admin/exports/{org.north_list.id}/history",
        "run": f"/admin/exports/runs/{run.id}",
    }
    for name, url in pages.items():
        response = without_redis.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert QUEUE_PAUSED in page, name
        assert 'id="run-progress"' not in page, name  # no live progress that cannot come
    progress = without_redis.get(f"/admin/exports/runs/{run.id}/progress.json")
    assert progress.status_code == 200
    assert progress.get_json() == {
        "state": "queued",
        "finished": False,
        "phase": "queued",
        "unreachable": True,
    }
    db.session.refresh(run)
    assert run.state == "queued"  # whether its worker died cannot be told: left as recorded
    assert without_redis.get("/admin/").status_code == 200
    assert without_redis.get("/admin/mailing-lists/").status_code == 200


def test_actions_that_need_the_queue_answer_503_and_record_nothing(linked_list, without_redis):
    org = linked_list
    token = csrf_token(without_redis, f"/admin/subscribers/{org.north_list.id}/")
    runs = db.session.query(SyncRun).count()
    actions = [
        f"/admin/exports/{org.north_list.id}/start",
        f"/admin/exports/{org.north_list.id}/preview",
        "/admin/operations/failed/some-job/retry",
    ]
    for url in actions:
        response = without_redis.post(url, data={"csrf_token": token})
        assert response.status_code == 503, url
        page = response.get_data(as_text=True)
        assert QUEUE_PAUSED in page, url
        assert "Traceback" not in page, url
    assert db.session.query(SyncRun).count() == runs


def test_the_operations_page_shows_redis_failing_and_the_database_ok(org, without_redis):
    response = without_redis.get("/admin/operations/")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="health-database">\s*<span class="badge badge-success">ok', page)
    assert re.search(r'id="health-redis">\s*<span class="badge badge-danger">failing', page)
    assert QUEUE_PAUSED in page


def test_the_operations_page_shows_both_healthy(as_admin):
    page = as_admin.get("/admin/operations/").get_data(as_text=True)

    assert re.search(r'id="health-database">\s*<span class="badge badge-success">ok', page)
    assert re.search(r'id="health-redis">\s*<span class="badge badge-success">ok', page)
    assert "workers alive" in page


def test_health_answers_200_when_the_database_and_redis_answer(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "redis": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_answers_503_and_names_what_fails_without_details(settings):
    no_redis = app_with(settings, REDIS_URL=CLOSED_PORT_REDIS).test_client().get("/health")
    no_database = app_with(settings, DATABASE_URL=CLOSED_PORT_DATABASE).test_client()

    assert no_redis.status_code == 503
    assert no_redis.get_json() == {"database": "ok", "redis": "failing"}
    response = no_database.get("/health")
    assert response.status_code == 503
    assert response.get_data(as_text=True).strip() == '{"database":"failing","redis":"ok"}'


def test_without_the_database_every_page_is_a_plain_503(settings, as_admin, org):
    no_database = app_with(settings, DATABASE_URL=CLOSED_PORT_DATABASE)
    stranger = no_database.test_client()
    admin = same_browser(no_database, as_admin)
    token = csrf_token(stranger)

    answers = [
        admin.get("/admin/"),
        admin.get("/admin/people/"),
        admin.get(f"/admin/subscribers/{org.north_list.id}/"),
        admin.get("/admin/no-such-page/"),
        stranger.post(
            "/admin/account/sign-in",
            data={"email": org.admin.email, "password": "whatever", "csrf_token": token},
        ),
        stranger.post("/mailchimp/webhook/1/secret", data={"type": "unsubscribe"}),
    ]

    for response in answers:
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page
        assert "The database cannot be reached." in page
        assert "Traceback" not in page
        assert "127.0.0.1" not in page
