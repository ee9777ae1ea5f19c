"""What Flask-Admin writes by itself, said the way a person would (issue 17, item 15)."""

from __future__ import annotations

import re

from tests.helpers import post_form


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_an_edit_page_offers_no_save_and_add_another(as_admin, org):
    for url in (f"/admin/people/edit/?id={org.alice.id}", f"/admin/groups/edit/?id={org.north.id}"):
        edit = page(as_admin, url)
        assert "Save and Add Another" not in edit
        assert "Save and Continue Editing" in edit
    assert "Save and Add Another" in page(as_admin, "/admin/people/new/")


def test_inline_lists_name_their_entries_in_whole_phrases(as_admin, org):
    person = page(as_admin, f"/admin/people/edit/?id={org.alice.id}")
    assert "Add an address" in person
    assert "New address" in person
    assert "Additional emails</a>" not in person
    rules = page(as_admin, f"/admin/mailing-lists/edit/?id={org.north_list.id}")
    assert "Add a rule" in rules
    assert "Rule 1" in rules
    assert not re.search(r"New\s+Rules", rules)


def test_a_signed_out_visitor_is_offered_no_dashboard(client, org):
    sign_in_page = page(client, "/admin/account/sign-in")
    assert not re.search(r"Dashboard\s*</a>", sign_in_page)


def test_no_account_page_is_titled_account_view(client, org):
    for url in ("/admin/account/sign-in", "/admin/account/forgot-password"):
        assert "Account View" not in page(client, url)
    refused = client.get("/admin/account/password/not-a-token", follow_redirects=True)
    assert "Account View" not in refused.get_data(as_text=True)
    wrong = post_form(
        client,
        "/admin/account/sign-in",
        {"email": "nobody@club-mail.ch", "password": "wrong password"},
    )
    assert "Account View" not in wrong.get_data(as_text=True)
