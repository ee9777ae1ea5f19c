"""What goes wrong on Mailchimp's side ends in a clear result, never a traceback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from mcbridge.extensions import db
from mcbridge.mailchimp import connect
from mcbridge.messages import render


def test_a_refused_key_fails_the_run_with_plain_words_and_changes_nothing(club):
    club.join("Anna")
    club.newsletter.connection.api_key = "0" * 32 + "-us1"
    db.session.commit()

    run = club.export()

    assert run.state == "failed"
    assert "The API key was refused by Mailchimp" in render(run.message)
    assert "Traceback" not in render(run.message)
    assert run.write_calls == 0
    assert club.newsletter.last_sync_state == "failed"


def test_an_unknown_audience_fails_the_run(club):
    club.join("Anna")
    club.newsletter.mailchimp_list_id = "0000000000"
    db.session.commit()

    run = club.export()

    assert run.state == "failed"
    assert "no audience with this id" in render(run.message)
    assert run.write_calls == 0


def test_an_unreachable_mailchimp_fails_the_run(club, app):
    club.join("Anna")
    app.config["MAILCHIMP_API_BASE_URL"] = "http://127.0.0.1:9/{dc}/3.0/"
    app.config["MAILCHIMP_RETRY_ATTEMPTS"] = 2

    run = club.export()

    assert run.state == "failed"
    assert "could not be reached" in render(run.message)


def test_a_429_storm_and_a_503_without_body_are_ridden_out(club):
    people = [club.join(name) for name in ("Anna", "Ben", "Carla")]
    club.sandbox.inject_fault(429, times=4, retry_after=1, api_key=club.key)
    club.sandbox.inject_fault(429, times=3, api_key=club.key, method="POST")
    club.sandbox.inject_fault(503, times=2, body=False, api_key=club.key, method="POST")

    run = club.export()

    assert (run.state, run.added) == ("success", 3)
    assert {club.member(p.email)["status"] for p in people} == {"subscribed"}
    statuses = [call["status"] for call in club.calls()]
    assert statuses.count(429) == 7
    assert statuses.count(503) == 2


def test_dropped_connections_while_paging_are_retried(club):
    for number in range(30):
        club.join(f"P{number}")
    club.export()
    club.newsletter.audience_changed_since = None
    db.session.commit()
    club.sandbox.drop_connections(times=2, api_key=club.key, method="GET")

    run = club.export()

    assert run.state == "unchanged"
    assert run.unchanged_members == 30


def test_a_value_that_does_not_fit_its_field_is_left_out_and_reported(club):
    typed = club.sandbox.add_audience(
        club.key,
        "Typed",
        default_merge_fields=False,
        merge_fields=[{"tag": "FNAME", "name": "First", "type": "number"}],
    )
    club.newsletter.mailchimp_list_id = typed
    db.session.commit()

    anna = club.join("Anna")

    run = club.export()

    assert (run.state, run.added) == ("success", 1)
    assert [(i.email, i.kind) for i in run.issues] == [(anna.email, "field")]
    assert "FNAME left out: “Anna” is not a number" in render(run.issues[0].message)
    assert club.sandbox.member(typed, anna.email)["merge_fields"]["FNAME"] == ""


def test_two_workers_on_one_key_stay_within_the_ten_connections(club):
    """Mailchimp answers an 11th simultaneous connection with 429. Two workers' clients of
    one key, 30 calls at once, 200 ms each: the slots held in Redis keep them at 10, so
    Mailchimp never has to refuse one."""
    clients = [connect(club.key), connect(club.key)]
    club.sandbox.add_latency(200, api_key=club.key)
    club.sandbox.clear_requests()
    try:
        with ThreadPoolExecutor(max_workers=30) as pool:
            answers = list(
                pool.map(
                    lambda n: clients[n % 2].lists.get(club.audience, fields="id")["id"],
                    range(30),
                )
            )
    finally:
        club.sandbox.clear_faults()
        for client in clients:
            client.close()

    assert answers == [club.audience] * 30
    assert [call["status"] for call in club.calls()] == [200] * 30
