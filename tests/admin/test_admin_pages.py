"""What Flask-Admin writes by itself, said the way a person would (issue 17, item 15)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

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


class LegendParents(HTMLParser):
    """The element each <legend> of a page sits in (inline templates read as markup too)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.parents: list[str] = []

    def handle_starttag(self, tag: str, _attrs: object) -> None:
        if tag == "legend":
            self.parents.append(self.open[-1])
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]


VOID_ELEMENTS = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "wbr"}


def test_every_legend_of_an_inline_list_captions_a_fieldset(as_admin, org):
    for url in (
        f"/admin/people/edit/?id={org.alice.id}",
        f"/admin/mailing-lists/edit/?id={org.north_list.id}",
    ):
        edit = page(as_admin, url)
        parser = LegendParents()
        parser.feed(edit)
        parser.feed(html.unescape(edit.split('class="inline-field-template', 1)[1]))
        assert parser.parents
        assert set(parser.parents) == {"fieldset"}, url


def test_pages_reached_from_a_list_send_their_bare_address_to_the_lists(as_leader, org):
    menu = page(as_leader, "/admin/")
    for bare in ("/admin/subscribers/", "/admin/exports/", "/admin/mailchimp/"):
        response = as_leader.get(bare)
        assert response.status_code == 302, bare
        assert response.location.endswith("/admin/mailing-lists/"), bare
        assert f'href="{bare}"' not in menu
