"""A person's language, exported as their Mailchimp contact's `language` and as a merge field."""

from __future__ import annotations

from mcbridge.extensions import db
from mcbridge.mailchimp.keys import subscriber_hash


def speaking(club, first_name: str, language: str | None):
    person = club.join(first_name)
    person.language = language
    db.session.commit()
    return person


def language_of(club, email: str) -> str:
    return club.member(email)["language"]


def test_a_new_contact_gets_the_persons_language(club):
    anna, marco = speaking(club, "Anna", "fr"), speaking(club, "Marco", "it")

    run = club.export()

    assert (run.state, run.added) == ("success", 2)
    assert (language_of(club, anna.email), language_of(club, marco.email)) == ("fr", "it")


def test_a_changed_language_is_patched_and_no_status_travels(club):
    anna = speaking(club, "Anna", "de")
    club.export()
    anna.language = "fr"
    db.session.commit()
    club.sandbox.clear_requests()
    club.sandbox.simulate_before_next_write(club.audience, "admin-unsubscribe", email=anna.email)

    run = club.export()

    assert run.updated == 1
    (patch,) = club.write_calls()
    assert patch["method"] == "PATCH"
    member = club.member(anna.email)
    assert (member["status"], member["language"]) == ("unsubscribed", "fr")


def test_many_changed_languages_go_through_a_batch_without_a_status(app, club):
    app.config["MAILCHIMP_BATCH_ARCHIVE_THRESHOLD"] = 1
    anna, ben = speaking(club, "Anna", "de"), speaking(club, "Ben", "de")
    club.export()
    anna.language, ben.language = "fr", "en"
    db.session.commit()

    run = club.export()

    assert (run.state, run.updated) == ("success", 2)
    assert (language_of(club, anna.email), language_of(club, ben.email)) == ("fr", "en")


def test_an_unchanged_language_writes_nothing_on_the_next_export(club):
    anna = speaking(club, "Anna", "fr")
    speaking(club, "Ben", None)
    assert club.export().state == "success"
    assert language_of(club, anna.email) == "fr"
    club.sandbox.clear_requests()

    again = club.export()

    assert (again.state, again.unchanged_members) == ("unchanged", 2)
    assert club.write_calls() == []


def test_a_language_set_in_mailchimp_stays_when_the_person_has_none(club):
    anna, ben = speaking(club, "Anna", None), speaking(club, "Ben", "de")
    club.export()
    club.mailchimp().lists.members.update(club.audience, anna.email, {"language": "it"})
    ben.language = "en"
    db.session.commit()
    club.sandbox.clear_requests()

    run = club.export()

    assert (run.updated, run.unchanged_members) == (1, 1)
    (patch,) = club.write_calls()
    assert patch["path"].endswith(f"/members/{subscriber_hash(ben.email)}")
    assert (language_of(club, anna.email), language_of(club, ben.email)) == ("it", "en")


def test_a_merge_field_can_be_fed_by_the_language(club):
    club.newsletter.merge_field_map = [{"source": "language", "tag": "LANGUAGE"}]
    anna, ben = speaking(club, "Anna", "de"), speaking(club, "Ben", None)

    run = club.export()

    assert run.state == "success"
    assert club.member(anna.email)["merge_fields"]["LANGUAGE"] == "de"
    assert club.member(ben.email)["merge_fields"]["LANGUAGE"] == ""
    answer = club.mailchimp().lists.merge_fields.all(club.audience, get_all=True)
    (field,) = [item for item in answer["merge_fields"] if item["tag"] == "LANGUAGE"]
    assert (field["type"], field["options"]["choices"]) == ("dropdown", ["de", "fr", "it", "en"])
