"""The Mailchimp tab of a mailing list: audiences an administrator gave the group, checked
on save, consent on record, fields, tags."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from mailchimp3 import MailChimp
from sqlalchemy import select

from mcbridge.extensions import db
from mcbridge.jobs import execute, ignore_progress, reserve
from mcbridge.models import MailingList, SyncRun
from tests import factories as make
from tests.helpers import post_form


@pytest.fixture
def account(sandbox, org):
    """One Mailchimp account; an administrator gave its audience to the North region."""
    key = sandbox.add_account()
    audience = sandbox.add_audience(key, "Club news audience")
    granted = make.audience_of(key, audience, org.north)
    return SimpleNamespace(key=key, audience=audience, granted=granted)


def link_page(org) -> str:
    return f"/admin/mailchimp/{org.north_list.id}/"


def save(client, org, **fields):
    data = {"send_first_name": "y", "send_last_name": "y", "save": "1", **fields}
    return post_form(client, link_page(org), data)


def reloaded(org) -> MailingList:
    db.session.expire_all()
    return db.session.get(MailingList, org.north_list.id)


def linked_to(org) -> tuple:
    linked = reloaded(org)
    return linked.connection_id, linked.mailchimp_list_id, linked.consent_at


def test_a_granted_audience_is_saved_with_the_consent(as_leader, org, account):
    response = save(as_leader, org, audience=account.granted.id, consent="y")

    assert response.status_code == 302
    page = as_leader.get(response.headers["Location"]).get_data(as_text=True)
    assert "Linked to the Mailchimp audience “Club news audience” (0 subscribed members)." in page
    assert f"Consent given by {org.leader.email}" in page
    assert account.key not in page
    assert account.key[28:32] in page  # only the last four characters of the key itself
    linked = reloaded(org)
    assert (linked.mailchimp_api_key, linked.mailchimp_list_id) == (account.key, account.audience)
    assert linked.consent_by_id == org.leader.id


def test_the_page_offers_no_key_field_and_only_the_groups_audiences(
    as_leader, org, account, sandbox
):
    other_key = sandbox.add_account()
    south = sandbox.add_audience(other_key, "South")
    south_audience = make.audience_of(other_key, south, org.south)

    page = as_leader.get(link_page(org)).get_data(as_text=True)

    assert 'name="api_key"' not in page
    assert account.audience in page
    assert south_audience.audience_id not in page


def test_a_leader_cannot_link_an_audience_their_group_was_not_given(
    as_leader, org, account, sandbox
):
    """The attack: a club leader re-saving the tab with another list's audience."""
    key = sandbox.add_account()
    federation_only = make.audience_of(key, sandbox.add_audience(key, "Federation"), org.south)

    response = save(as_leader, org, audience=federation_only.id, consent="y")

    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert linked_to(org) == (None, None, None)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("key", "Mailchimp refused this connection"),
        ("audience", "This audience is no longer in Mailchimp"),
        ("consent", "Exports need this consent."),
    ],
)
def test_problems_are_form_errors_and_nothing_is_saved(as_leader, org, account, breakage, message):
    if breakage == "key":
        account.granted.connection.api_key = "0" * 32 + "-us1"
    if breakage == "audience":
        account.granted.audience_id = "0000000000"
    db.session.commit()

    response = save(
        as_leader, org, audience=account.granted.id, consent="" if breakage == "consent" else "y"
    )

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert linked_to(org) == (None, None, None)


def test_an_unreachable_mailchimp_is_a_form_error(as_leader, org, account, app):
    app.config["MAILCHIMP_API_BASE_URL"] = "http://127.0.0.1:9/{dc}/3.0/"
    app.config["MAILCHIMP_RETRY_ATTEMPTS"] = 1
    page = save(as_leader, org, audience=account.granted.id, consent="y")
    assert "Mailchimp could not be reached" in page.get_data(as_text=True)
    assert linked_to(org) == (None, None, None)


def test_a_list_moves_to_another_granted_audience(as_leader, org, account, sandbox):
    save(as_leader, org, audience=account.granted.id, consent="y")
    other = make.audience_of(account.key, sandbox.add_audience(account.key, "Second"), org.north)

    response = save(as_leader, org, audience=other.id)

    assert response.status_code == 302
    assert reloaded(org).mailchimp_list_id == other.audience_id


def test_a_tag_another_list_of_the_audience_owns_is_refused(as_leader, org, account):
    save(as_leader, org, audience=account.granted.id, consent="y")
    second = make.mailing_list(org.north, "North juniors")
    db.session.commit()

    response = post_form(
        as_leader,
        f"/admin/mailchimp/{second.id}/",
        {
            "audience": str(account.granted.id),
            "managed_tag": "mcbridge: North news",
            "save": "1",
            "consent": "y",
        },
    )

    assert "Another list of this audience already uses this tag" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(MailingList, second.id).mailchimp_list_id is None


def test_without_a_granted_audience_the_page_says_whom_to_ask(as_leader, org):
    page = as_leader.get(link_page(org)).get_data(as_text=True)
    assert "an administrator adds a Mailchimp connection" in page


def disconnect(client, org, **fields):
    url = f"/admin/mailchimp/{org.north_list.id}/disconnect"
    response = post_form(client, url, fields, page=link_page(org))
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_disconnecting_leaving_the_contacts_unlinks_and_records_the_choice(as_leader, org, account):
    save(as_leader, org, audience=account.granted.id, consent="y")

    page = disconnect(as_leader, org, contacts="keep")

    assert "The contacts it exported stay in the audience as they are." in page
    assert linked_to(org) == (None, None, None)
    run = db.session.scalars(select(SyncRun)).one()
    assert (run.unlink_choice, run.state, run.triggered_by_id) == (
        "keep",
        "unchanged",
        org.leader.id,
    )


def test_disconnecting_without_a_choice_is_refused_and_keeps_the_link(as_leader, org, account):
    save(as_leader, org, audience=account.granted.id, consent="y")

    page = disconnect(as_leader, org)

    assert "Choose what happens to the contacts in Mailchimp." in page
    assert linked_to(org)[1] == account.audience
    assert db.session.scalars(select(SyncRun)).all() == []


def test_disconnecting_with_archiving_queues_a_run_and_stays_linked_meanwhile(
    as_leader, org, account
):
    save(as_leader, org, audience=account.granted.id, consent="y")

    page = disconnect(as_leader, org, contacts="archive")

    assert "the list is unlinked once they are all archived" in page
    run = db.session.scalars(select(SyncRun)).one()
    assert (run.unlink_choice, run.state) == ("archive", "queued")
    assert f'href="/admin/exports/runs/{run.id}"' in page
    assert linked_to(org)[1] == account.audience


def test_attributes_map_person_fields_to_merge_fields(as_leader, org, account):
    response = save(
        as_leader,
        org,
        audience=account.granted.id,
        consent="y",
        send_first_name="",
        **{
            "attributes-0-source": "birthday",
            "attributes-0-tag": "",
            "attributes-1-source": "company",
            "attributes-1-tag": "employer",
        },
    )
    assert response.status_code == 302
    assert reloaded(org).merge_field_map == [
        {"source": "last_name", "tag": "LNAME"},
        {"source": "birthday", "tag": "BIRTHDAY"},
        {"source": "company", "tag": "EMPLOYER"},
    ]


def test_a_merge_field_of_an_unfit_type_is_refused(as_leader, org, sandbox):
    key = sandbox.add_account()
    audience = sandbox.add_audience(
        key, "Typed", merge_fields=[{"tag": "COMPANY", "name": "Company", "type": "number"}]
    )
    granted = make.audience_of(key, audience, org.north)
    page = save(
        as_leader,
        org,
        audience=granted.id,
        consent="y",
        **{"attributes-0-source": "company", "attributes-0-tag": "COMPANY"},
    ).get_data(as_text=True)
    assert "field COMPANY has the type “number”" in page
    assert reloaded(org).mailchimp_list_id is None


def test_add_attribute_adds_a_row_without_saving(as_leader, org, account):
    page = post_form(
        as_leader, link_page(org), {"audience": str(account.granted.id), "add_attribute": "1"}
    ).get_data(as_text=True)
    assert 'name="attributes-0-source"' in page
    assert reloaded(org).mailchimp_list_id is None


def test_other_groups_lists_are_404(as_leader, org):
    assert as_leader.get(f"/admin/mailchimp/{org.south_list.id}/").status_code == 404
    response = post_form(
        as_leader, f"/admin/mailchimp/{org.south_list.id}/disconnect", {}, page=link_page(org)
    )
    assert response.status_code == 404


def test_the_list_form_links_to_the_mailchimp_tab(as_leader, org):
    page = as_leader.get(f"/admin/mailing-lists/edit/?id={org.north_list.id}").get_data(
        as_text=True
    )
    assert f'href="/admin/mailchimp/{org.north_list.id}/"' in page
    make.mailing_list(org.north, "Another")


def test_saving_the_mailchimp_settings_ends_the_weekly_back_off(as_leader, org, account):
    org.north_list.failure_streak = 3
    db.session.commit()

    save(as_leader, org, audience=account.granted.id, consent="y")

    assert reloaded(org).failure_streak == 0


def test_the_managed_tag_is_fixed_at_linking_and_renamed_only_when_confirmed(
    as_leader, org, account, sandbox, sandbox_server
):
    key, audience = account.key, account.audience
    save(as_leader, org, audience=account.granted.id, consent="y")
    first_tag = f"mcbridge: {org.north_list.name}"
    assert reloaded(org).mailchimp_tag == first_tag
    sandbox.simulate_signup(audience, "someone@news-mail.ch")
    segments = MailChimp(mc_api=key)
    segments.base_url = sandbox_server.api_base_url.format(dc=key.rsplit("-", 1)[1])
    created = segments.lists.segments.create(
        audience, {"name": first_tag, "static_segment": ["someone@news-mail.ch"]}
    )
    org.north_list.name = "Renamed list"
    db.session.commit()
    assert reloaded(org).managed_tag == first_tag  # renaming the list keeps the tag

    new_tag = {"audience": account.granted.id, "managed_tag": "mcbridge: New name"}
    refused = save(as_leader, org, **new_tag)
    assert "tick the confirmation" in refused.get_data(as_text=True)
    assert reloaded(org).mailchimp_tag == first_tag

    save(as_leader, org, **new_tag, confirm_retag="y")

    assert reloaded(org).mailchimp_tag == "mcbridge: New name"
    renamed = segments.lists.segments.get(audience, str(created["id"]))
    assert renamed["name"] == "mcbridge: New name"


def export(org) -> None:
    run = reserve(reloaded(org), "cli", None, False)
    execute(run, ignore_progress)
    assert run.state == "success", run.message


def test_a_removed_field_is_no_longer_sent_and_the_page_says_what_stays(
    as_leader, org, account, sandbox
):
    birthday = {"attributes-0-source": "birthday", "attributes-0-tag": ""}
    save(as_leader, org, audience=account.granted.id, consent="y", **birthday)
    org.alice.birthday = date(1990, 3, 7)
    db.session.commit()
    export(org)
    assert sandbox.member(account.audience, org.alice.email)["merge_fields"]["BIRTHDAY"] == "03/07"

    fields = {"audience": str(account.granted.id), "send_first_name": "y", "send_last_name": "y"}
    removed = post_form(
        as_leader, link_page(org), {**fields, **birthday, "attributes-0-remove": "1"}
    )
    assert 'name="attributes-0-source"' not in removed.get_data(as_text=True)
    saved = post_form(as_leader, link_page(org), {**fields, "save": "1"})
    page = as_leader.get(saved.headers["Location"]).get_data(as_text=True)
    assert "No longer sent: BIRTHDAY." in page
    assert "the values it already sent stay in Mailchimp" in page

    newcomer = make.person("Nina", "New")
    newcomer.birthday = date(2001, 12, 24)
    make.role(newcomer, org.club_a, org.member_type)
    db.session.commit()
    export(org)
    assert not sandbox.member(account.audience, newcomer.email)["merge_fields"].get("BIRTHDAY")


def test_an_error_or_a_new_row_keeps_what_was_typed_and_sums_up_errors_at_the_top(
    as_leader, org, account
):
    typed = {
        "audience": str(account.granted.id),
        "managed_tag": "mcbridge: North letter",
        "send_last_name": "y",
        "role_tags": "y",
        "attributes-0-source": "company",
        "attributes-0-tag": "employer",
    }

    for action in ({"save": "1"}, {"add_attribute": "1"}):
        page = post_form(as_leader, link_page(org), {**typed, **action}).get_data(as_text=True)

        assert f'<option selected value="{account.granted.id}">' in page
        assert 'value="mcbridge: North letter"' in page
        assert re.search(r'<input[^>]*checked[^>]*name="role_tags"', page)
        assert not re.search(r'<input[^>]*checked[^>]*name="send_first_name"', page)
        assert '<option selected value="company">' in page
        assert 'value="EMPLOYER"' in page
    summary = post_form(as_leader, link_page(org), {**typed, "save": "1"}).get_data(as_text=True)
    top = summary[summary.index('id="error-summary"') : summary.index('id="link-form"')]
    assert '<a href="#consent">' in top
    assert "Exports need this consent." in top
    assert linked_to(org) == (None, None, None)


def test_emptying_a_field_is_an_explicit_choice_of_a_field_the_audience_has(
    as_leader, org, account
):
    birthday = {"attributes-0-source": "birthday", "attributes-0-tag": ""}
    save(as_leader, org, audience=account.granted.id, consent="y", **birthday)

    for tag, problem in (
        ("", "To empty a field, give its merge field tag."),
        ("NOPE", "no field NOPE"),
    ):
        emptied = {"attributes-0-source": "emptied", "attributes-0-tag": tag}
        page = save(as_leader, org, audience=account.granted.id, **emptied).get_data(as_text=True)
        assert problem in page
    emptied = {"attributes-0-source": "emptied", "attributes-0-tag": "BIRTHDAY"}
    assert save(as_leader, org, audience=account.granted.id, **emptied).status_code == 302

    assert reloaded(org).merge_field_map[-1] == {"source": "emptied", "tag": "BIRTHDAY"}


def test_a_linked_list_is_deleted_only_once_its_contacts_were_decided(as_leader, org, account):
    save(as_leader, org, audience=account.granted.id, consent="y")
    list_id = org.north_list.id
    delete = {"id": str(list_id), "url": "/admin/mailing-lists/"}

    refused = post_form(as_leader, "/admin/mailing-lists/delete/", delete, page=link_page(org))

    page = as_leader.get(refused.headers["Location"]).get_data(as_text=True)
    assert "is linked to Mailchimp: disconnect it on its Mailchimp page first" in page
    assert reloaded(org).is_linked
    disconnect(as_leader, org, contacts="keep")
    post_form(as_leader, "/admin/mailing-lists/delete/", delete, page=link_page(org))
    db.session.expire_all()
    assert db.session.get(MailingList, list_id) is None
