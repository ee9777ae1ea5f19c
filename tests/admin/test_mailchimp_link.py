"""The Mailchimp tab of a mailing list: checked on save, consent on record, fields, tags."""

from __future__ import annotations

import pytest
from mailchimp3 import MailChimp

from mcbridge.extensions import db
from mcbridge.models import MailingList
from tests import factories as make
from tests.helpers import post_form


@pytest.fixture
def account(sandbox):
    key = sandbox.add_account()
    return key, sandbox.add_audience(key, "Club news audience")


def link_page(org) -> str:
    return f"/admin/mailchimp/{org.north_list.id}/"


def save(client, org, **fields):
    data = {"audience_id": "", "send_first_name": "y", "send_last_name": "y", "save": "1", **fields}
    return post_form(client, link_page(org), data)


def reloaded(org) -> MailingList:
    db.session.expire_all()
    return db.session.get(MailingList, org.north_list.id)


def test_a_good_key_and_audience_are_saved_with_the_consent(as_leader, org, account, sandbox):
    key, audience = account
    response = save(as_leader, org, api_key=key, audience_id=audience, consent="y")

    assert response.status_code == 302
    page = as_leader.get(response.headers["Location"]).get_data(as_text=True)
    assert "Linked to the Mailchimp audience “Club news audience” (0 subscribed members)." in page
    assert f"Consent given by {org.leader.email}" in page
    assert key not in page
    assert key[28:32] in page  # only the last four characters of the key itself
    linked = reloaded(org)
    assert (linked.mailchimp_api_key, linked.mailchimp_list_id) == (key, audience)
    assert linked.consent_by_id == org.leader.id


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"api_key": "not-a-key"}, "This is not an API key"),
        ({"api_key": "0" * 32 + "-us1"}, "Mailchimp refused this API key."),
        ({"audience_id": "0000000000"}, "This account has no audience with this id."),
        ({"consent": ""}, "Exports need this consent."),
    ],
)
def test_problems_are_form_errors_and_nothing_is_saved(as_leader, org, account, fields, message):
    key, audience = account
    data = {"api_key": key, "audience_id": audience, "consent": "y", **fields}
    response = save(as_leader, org, **data)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    linked = reloaded(org)
    assert (linked.mailchimp_api_key, linked.mailchimp_list_id, linked.consent_at) == (
        None,
        None,
        None,
    )


def test_an_unknown_audience_names_the_accounts_audiences(as_leader, org, account):
    key, audience = account
    page = save(as_leader, org, api_key=key, audience_id="0000000000", consent="y").get_data(
        as_text=True
    )
    assert f"Club news audience ({audience})" in page


def test_an_unreachable_mailchimp_is_a_form_error(as_leader, org, account, app):
    key, audience = account
    app.config["MAILCHIMP_API_BASE_URL"] = "http://127.0.0.1:9/{dc}/3.0/"
    app.config["MAILCHIMP_RETRY_ATTEMPTS"] = 1
    page = save(as_leader, org, api_key=key, audience_id=audience, consent="y")
    assert "Mailchimp could not be reached" in page.get_data(as_text=True)
    assert reloaded(org).mailchimp_api_key is None


def test_the_saved_key_stays_when_the_field_is_left_empty(as_leader, org, account, sandbox):
    key, audience = account
    save(as_leader, org, api_key=key, audience_id=audience, consent="y")
    other = sandbox.add_audience(key, "Second audience")

    response = save(as_leader, org, api_key="", audience_id=other)

    assert response.status_code == 302
    assert (reloaded(org).mailchimp_api_key, reloaded(org).mailchimp_list_id) == (key, other)


def test_disconnecting_unlinks_and_says_what_stays(as_leader, org, account):
    key, audience = account
    save(as_leader, org, api_key=key, audience_id=audience, consent="y")

    response = post_form(
        as_leader, f"/admin/mailchimp/{org.north_list.id}/disconnect", {}, page=link_page(org)
    )

    page = as_leader.get(response.headers["Location"]).get_data(as_text=True)
    assert "The contacts it exported stay in the audience" in page
    linked = reloaded(org)
    assert (linked.mailchimp_api_key, linked.mailchimp_list_id, linked.consent_at) == (
        None,
        None,
        None,
    )


def test_attributes_map_person_fields_to_merge_fields(as_leader, org, account):
    key, audience = account
    response = save(
        as_leader,
        org,
        api_key=key,
        audience_id=audience,
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
    page = save(
        as_leader,
        org,
        api_key=key,
        audience_id=audience,
        consent="y",
        **{"attributes-0-source": "company", "attributes-0-tag": "COMPANY"},
    ).get_data(as_text=True)
    assert "field COMPANY has the type “number”" in page
    assert reloaded(org).mailchimp_list_id is None


def test_add_attribute_adds_a_row_without_saving(as_leader, org, account):
    key, audience = account
    page = post_form(
        as_leader, link_page(org), {"api_key": key, "audience_id": audience, "add_attribute": "1"}
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
    key, audience = account
    org.north_list.failure_streak = 3
    db.session.commit()

    save(as_leader, org, api_key=key, audience_id=audience, consent="y")

    assert reloaded(org).failure_streak == 0


def test_the_managed_tag_is_fixed_at_linking_and_renamed_only_when_confirmed(
    as_leader, org, account, sandbox, sandbox_server
):
    key, audience = account
    save(as_leader, org, api_key=key, audience_id=audience, consent="y")
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

    refused = save(as_leader, org, audience_id=audience, managed_tag="mcbridge: New name")
    assert "tick the confirmation" in refused.get_data(as_text=True)
    assert reloaded(org).mailchimp_tag == first_tag

    save(as_leader, org, audience_id=audience, managed_tag="mcbridge: New name", confirm_retag="y")

    assert reloaded(org).mailchimp_tag == "mcbridge: New name"
    renamed = segments.lists.segments.get(audience, str(created["id"]))
    assert renamed["name"] == "mcbridge: New name"
