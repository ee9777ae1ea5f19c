"""A failed export is seen outside its own list: on the Operations page, with its reason,
and on the dashboard, failures first."""

from __future__ import annotations

from mcbridge.extensions import db
from mcbridge.jobs import execute, ignore_progress, reserve
from tests import factories as make
from tests.helpers import sign_in
from tests.sync.conftest import link
from tests.sync.test_export_views import leader_of


def fail_with_a_refused_key(club):
    club.newsletter.connection.api_key = "f" * 32 + "-us1"
    db.session.commit()
    return club.export()


def test_operations_lists_a_failed_export_with_its_reason_and_a_link(client, club):
    club.join("Anna")
    run = fail_with_a_refused_key(club)
    sign_in(client, make.user("admin@club-mail.ch", admin=True).email)

    page = client.get("/admin/operations/").get_data(as_text=True)

    failed = page.split('id="failed-exports"', 1)[1].split("</table>", 1)[0]
    assert f'href="/admin/exports/runs/{run.id}"' in failed
    assert "Club news" in failed
    assert "API key was refused" in failed


def test_the_dashboard_shows_each_linked_lists_last_export_failures_first(client, club):
    working = make.mailing_list(club.club, "Aaa working news")
    link(working, club.key, club.audience)
    make.role_rule(working, club.club, club.member_type)
    club.join("Anna")
    execute(reserve(working, "cli", None, False), ignore_progress)
    failed = fail_with_a_refused_key(club)
    sign_in(client, leader_of(club).email)

    page = client.get("/admin/").get_data(as_text=True)

    health = page.split('id="export-health"', 1)[1].split("</table>", 1)[0]
    assert health.index("Club news") < health.index("Aaa working news")
    assert f'href="/admin/exports/runs/{failed.id}"' in health
    assert "API key was refused" in health
    assert 'badge-success">exported' in health


def test_the_lists_page_dates_its_failed_export_with_the_time_zone(client, club):
    club.join("Anna")
    fail_with_a_refused_key(club)
    leader = leader_of(club)
    leader.locale = "de"
    db.session.commit()
    sign_in(client, leader.email)

    page = client.get(f"/admin/subscribers/{club.newsletter.id}/").get_data(as_text=True)

    link = page.split('id="last-export-problem"', 1)[1].split("</a>", 1)[0]
    assert "(MEZ)" in link
